"""Edge Functions before vs after the deploy, per function and version: 5xx, 401/403, cold starts.

The judged functions (the deployed ones, or whatever changed version) are compared on the new
version's invocations after the deploy against the function's invocations before it. Functions
that did not change are shown for context, not judged: a regression there points at the DB or
the platform, and the gateway comparison (opslib.deploy.gateway) judges that.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy.engine import Connection

from opslib import checks
from opslib.deploy.changes import UNKNOWN, Deployment
from opslib.deploy.comparison import Counts, judge_rate, judged, mannwhitney_p
from opslib.display import for_display
from opslib.fetch import QueryTiming, fetch, timings
from opslib.measures import pct
from opslib.results import Finding, Outcome

RATE_CHECKS = {
    "deploy.function_5xx": "status_5xx",
    "deploy.function_auth_errors": "auth_errors",
    "deploy.cold_starts": "cold_starts",
}


@dataclass(frozen=True)
class FunctionComparison:
    table: pd.DataFrame  # per function, version and period: invocations, rates, cold starts, p95 boot
    raw: pd.DataFrame  # the query's rows (boot time arrays included), for tests and charts
    findings: tuple[Finding, ...]
    timings: tuple[QueryTiming, ...] = field(default_factory=tuple)

    def regressed(self) -> tuple[str, ...]:
        return tuple(sorted({f.subject for f in self.findings if f.outcome.is_problem and f.subject}))


def _version(v: object) -> str:
    return UNKNOWN if v is None or (isinstance(v, float) and pd.isna(v)) or not str(v).strip() else str(v)


def _boots(rows: pd.DataFrame) -> list[float]:
    out: list[float] = []
    for arr in rows["boot_times_ms"]:
        if arr is not None and not (isinstance(arr, float) and pd.isna(arr)):
            out += [float(x) for x in arr]
    return out


def _p95(values: list[float]) -> float | None:
    return float(pd.Series(values).quantile(0.95)) if values else None


def compare_functions(conn: Connection, deployment: Deployment) -> FunctionComparison:
    if deployment.before is None or deployment.after is None or deployment.deploy_at is None:
        return FunctionComparison(pd.DataFrame(), pd.DataFrame(), ())
    got = fetch(
        conn,
        "deploy.function_outcomes",
        {"since": deployment.before.since, "deploy_at": deployment.deploy_at, "until": deployment.after.until},
    )
    if not got.ok:
        names = (*RATE_CHECKS, "deploy.cold_start_time")
        errors = tuple(checks.error(checks.get(c), got.error or "query failed") for c in names)
        return FunctionComparison(pd.DataFrame(), pd.DataFrame(), errors, timings(got))
    frame = got.frame.copy()
    if not frame.empty:
        frame["version"] = [_version(v) for v in frame["version"]]
    findings = [f for fn in deployment.judged for f in judge_function(frame, deployment, fn)]
    return FunctionComparison(table(frame, deployment), frame, tuple(findings), timings(got))


def judge_function(frame: pd.DataFrame, deployment: Deployment, function: str) -> list[Finding]:
    """Pure: one function's findings (5xx, 401/403, cold-start rate, cold-start time)."""
    mine = frame[frame["function_name"] == function] if not frame.empty else frame
    before = mine[mine["period"] == "before"] if not mine.empty else mine
    after = mine[mine["period"] == "after"] if not mine.empty else mine
    change = deployment.change_of(function)
    new = change.new if change is not None else ()
    if new and not after.empty:
        after = after[after["version"].isin(new)]
    label = f"{change.previous or '?'} → {', '.join(new)}" if new else "버전 변경 없음 (same version)"
    if after.empty or int(after["invocations"].sum()) == 0:
        detail = f"배포 후 호출 없음 (no invocation after the deploy) · {label}"
        return [
            checks.evaluate(checks.get(c), None, subject=function, detail=detail)
            for c in (*RATE_CHECKS, "deploy.cold_start_time")
        ]
    out = []
    for check_id, column in RATE_CHECKS.items():
        a = Counts(int(after[column].sum()), int(after["invocations"].sum()))
        b = Counts(int(before[column].sum()), int(before["invocations"].sum())) if not before.empty else Counts(0, 0)
        out.append(judge_rate(check_id, a, b, subject=function, detail=label))
    out.append(judge_boot_time(_boots(after), _boots(before), function, label))
    return out


def judge_boot_time(after: list[float], before: list[float], function: str, label: str) -> Finding:
    """§4-E cold start (> 3 s warn, > 10 s P0) on the after p95, and slower than before (Mann-Whitney U)."""
    check = checks.get("deploy.cold_start_time")
    p95 = _p95(after)
    said = f"콜드 스타트 {len(after)}회 p95 {p95:,.0f} ms" if p95 is not None else "배포 후 콜드 스타트 없음"
    if before:
        said += f" vs 배포 전 {len(before)}회 p95 {_p95(before):,.0f} ms"
    base = checks.evaluate(check, p95, sample=len(after), failures=0, subject=function, detail=f"{said} · {label}")
    if p95 is None:
        return checks.evaluate(check, None, subject=function, detail=f"{said} · {label}")
    if base.outcome in (Outcome.NOT_EVALUATED, Outcome.ERROR):
        return base
    p = mannwhitney_p(after, before) if len(before) >= 3 else None
    return judged(base, p, "Mann-Whitney U")


def table(frame: pd.DataFrame, deployment: Deployment) -> pd.DataFrame:
    """Per function, version and period, as people read it (judged functions first)."""
    if frame.empty:
        return pd.DataFrame()
    rows = []
    for _, r in frame.iterrows():
        n = int(r["invocations"])
        boots = _boots(pd.DataFrame([r]))
        fn = str(r["function_name"])
        rows.append(
            {
                "function": fn,
                "판정 대상 (judged)": "●" if fn in deployment.judged else "",
                "version": r["version"],
                "period": "배포 전 (before)" if r["period"] == "before" else "배포 후 (after)",
                "invocations": n,
                "5xx %": pct(int(r["status_5xx"]), n),
                "401/403 %": pct(int(r["auth_errors"]), n),
                "no status": int(r["no_status"]),
                "cold start %": pct(int(r["cold_starts"]), n),
                "p95 boot ms": _p95(boots),
                "first": r["first_at"],
                "last": r["last_at"],
            }
        )
    out = pd.DataFrame(rows)
    out["_order"] = [0 if fn in deployment.judged else 1 for fn in out["function"]]
    out = out.sort_values(["_order", "function", "period", "version"], ascending=[True, True, False, True])
    return for_display(out.drop(columns="_order").reset_index(drop=True))
