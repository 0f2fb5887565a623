"""The API gateway before vs after (logs.edge_logs): REST, auth, storage, realtime, functions paths.

Judged whatever changed: a gateway regression after a release that changed no function points at
the DB migration (RLS, RPC) or the platform, and the rollback advice says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy.engine import Connection

from opslib import checks
from opslib.deploy.changes import Deployment
from opslib.deploy.comparison import Counts, judge_rate
from opslib.fetch import QueryTiming, fetch, timings
from opslib.measures import pct
from opslib.results import Finding

AREAS = ("rest", "auth", "storage", "realtime", "functions")
RATE_CHECKS = {"deploy.gateway_5xx": "status_5xx", "deploy.gateway_auth_errors": "auth_errors"}


@dataclass(frozen=True)
class GatewayComparison:
    table: pd.DataFrame  # per area and period: requests, 5xx %, 401/403 %, no status
    findings: tuple[Finding, ...]
    timings: tuple[QueryTiming, ...] = field(default_factory=tuple)

    def regressed(self) -> tuple[str, ...]:
        return tuple(sorted({f.subject for f in self.findings if f.outcome.is_problem and f.subject}))


def compare_gateway(conn: Connection, deployment: Deployment) -> GatewayComparison:
    if deployment.before is None or deployment.after is None or deployment.deploy_at is None:
        return GatewayComparison(pd.DataFrame(), ())
    got = fetch(
        conn,
        "deploy.gateway_outcomes",
        {"since": deployment.before.since, "deploy_at": deployment.deploy_at, "until": deployment.after.until},
    )
    if not got.ok:
        return GatewayComparison(
            pd.DataFrame(),
            tuple(checks.error(checks.get(c), got.error or "query failed") for c in RATE_CHECKS),
            timings(got),
        )
    return GatewayComparison(table(got.frame), tuple(judge_gateway(got.frame)), timings(got))


def judge_gateway(frame: pd.DataFrame) -> list[Finding]:
    """Pure: per area with traffic after the deploy, 5xx and 401/403 after vs before."""
    out: list[Finding] = []
    areas = [a for a in AREAS if not frame.empty and (frame["area"] == a).any()]
    if not areas:
        for check_id in RATE_CHECKS:
            out.append(
                checks.evaluate(
                    checks.get(check_id),
                    None,
                    detail="logs.edge_logs에 요청 없음 (no gateway request drained in either window)",
                )
            )
        return out
    for area in areas:
        mine = frame[frame["area"] == area]
        before, after = mine[mine["period"] == "before"], mine[mine["period"] == "after"]
        for check_id, column in RATE_CHECKS.items():
            a = Counts(int(after[column].sum()), int(after["requests"].sum()))
            b = Counts(int(before[column].sum()), int(before["requests"].sum()))
            if a.total == 0:
                out.append(
                    checks.evaluate(
                        checks.get(check_id), None, subject=area, detail="배포 후 요청 없음 (no request after deploy)"
                    )
                )
                continue
            out.append(judge_rate(check_id, a, b, subject=area, detail=""))
    return out


def table(frame: pd.DataFrame) -> pd.DataFrame:
    if frame.empty:
        return pd.DataFrame()
    rows = []
    for _, r in frame.iterrows():
        n = int(r["requests"])
        rows.append(
            {
                "area": r["area"],
                "period": "배포 전 (before)" if r["period"] == "before" else "배포 후 (after)",
                "requests": n,
                "5xx %": pct(int(r["status_5xx"]), n),
                "401/403 %": pct(int(r["auth_errors"]), n),
                "no status": int(r["no_status"]),
            }
        )
    return pd.DataFrame(rows)
