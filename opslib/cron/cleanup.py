"""Cleanup jobs: the tables they keep small, and whether those are growing.

A cleanup that stopped leaves rows past its retention: rate_limits windows older than a day,
expired idempotency_keys, cron.job_run_details older than 14 days. Rows are overdue once they
are older than the retention plus one job period and a margin (the job runs hourly or nightly).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pandas as pd
from sqlalchemy.engine import Connection

from opslib import checks
from opslib.cron.settings import detection as settings
from opslib.display import for_display
from opslib.fetch import QueryTiming, fetch, timings
from opslib.results import Finding
from opslib.timewindow import Window

# one period of the job plus a margin (hourly: 2 h; nightly: a day and 2 h)
SLACK = {
    "rate_limits_slack": timedelta(hours=2),
    "idempotency_slack": timedelta(days=1, hours=2),
    "history_slack": timedelta(days=1, hours=2),
}


@dataclass(frozen=True)
class Cleanup:
    table: pd.DataFrame  # per table: overdue rows (capped), oldest row
    findings: tuple[Finding, ...]
    timings: tuple[QueryTiming, ...] = field(default_factory=tuple)


def cleanup_backlog(conn: Connection, window: Window, now: datetime | None = None) -> Cleanup:
    check = checks.get("cron.cleanup_backlog")
    cap = settings().cleanup_cap
    at = min(now, window.until) if now else window.until
    got = fetch(conn, "cron.cleanup_backlog", {"at": at, "cap": cap, **SLACK})
    if not got.ok:
        return Cleanup(pd.DataFrame(), (checks.error(check, got.error or "query failed"),), timings(got))
    findings = []
    for _, r in got.frame.iterrows():
        n = int(r["overdue_rows"])
        capped = " (capped)" if n >= cap else ""
        findings.append(
            checks.evaluate(
                check,
                n,
                subject=str(r["table_name"]),
                detail=f"{n:,}{capped} rows past retention; kept small by {r['job']}",
            )
        )
    return Cleanup(for_display(got.frame), tuple(findings), timings(got))
