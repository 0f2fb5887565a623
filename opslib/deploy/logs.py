"""Supabase Logs: Edge Function console errors (logs.function_logs level 'error') before vs after.

Counts over time with no denominator: judged as a rate per hour over its floor and by the exact
conditional test of two Poisson rates (the before and after windows' lengths are the exposures).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy.engine import Connection

from opslib import checks
from opslib.admin.versions import redacted
from opslib.deploy.changes import Deployment
from opslib.deploy.comparison import judged, poisson_p
from opslib.display import for_display
from opslib.fetch import QueryTiming, fetch, timings
from opslib.results import Finding, Outcome

CHECK = "deploy.function_log_errors"


@dataclass(frozen=True)
class LogComparison:
    table: pd.DataFrame  # per function and period: error lines, per hour, first line (redacted, masked)
    findings: tuple[Finding, ...]
    timings: tuple[QueryTiming, ...] = field(default_factory=tuple)


def compare_logs(conn: Connection, deployment: Deployment) -> LogComparison:
    if deployment.before is None or deployment.after is None or deployment.deploy_at is None:
        return LogComparison(pd.DataFrame(), ())
    got = fetch(
        conn,
        "deploy.function_log_errors",
        {"since": deployment.before.since, "deploy_at": deployment.deploy_at, "until": deployment.after.until},
    )
    if not got.ok:
        return LogComparison(pd.DataFrame(), (checks.error(checks.get(CHECK), got.error or ""),), timings(got))
    frame = got.frame
    findings = judge_logs(frame, deployment)
    shown = redacted(frame, "first_message") if not frame.empty else frame
    return LogComparison(for_display(shown), tuple(findings), timings(got))


def judge_logs(frame: pd.DataFrame, deployment: Deployment) -> list[Finding]:
    """Pure: per judged function (or every function logging errors after, when none is judged)."""
    check = checks.get(CHECK)
    assert deployment.before is not None and deployment.after is not None
    before_min, after_min = deployment.before.minutes, deployment.after.minutes
    names = list(deployment.judged)
    if not frame.empty:
        names += [str(n) for n in frame.loc[frame["period"] == "after", "function_name"] if str(n) not in names]
    if not names:
        # no function to judge and no error after: silence, not a measured 0 (the drain may be empty)
        detail = "판정할 함수 없음, 에러 로그 없음 (no judged function and no error line: nothing to compare)"
        return [checks.evaluate(check, None, detail=detail)]
    out = []
    for fn in names:
        mine = frame[frame["function_name"] == fn] if not frame.empty else frame
        a = int(mine.loc[mine["period"] == "after", "error_lines"].sum()) if not mine.empty else 0
        b = int(mine.loc[mine["period"] == "before", "error_lines"].sum()) if not mine.empty else 0
        per_hour = 60.0 * a / after_min
        said = f"배포 후 {a}건/{after_min:.0f}분 vs 배포 전 {b}건/{before_min:.0f}분"
        base = checks.evaluate(check, round(per_hour, 1), sample=a, failures=a, subject=fn, detail=said)
        if base.outcome in (Outcome.NOT_EVALUATED, Outcome.ERROR):
            out.append(base)
            continue
        out.append(judged(base, poisson_p(a, after_min, b, before_min), "Poisson rate (exact conditional)"))
    return out
