"""Lock contention and long-running jobs: pg_cron's sessions in pg_stat_activity, right now."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy.engine import Connection

from opslib import checks
from opslib.dispatcher import expected_jobs
from opslib.display import evidence, for_display
from opslib.fetch import QueryTiming, fetch, timings
from opslib.masking import mask_text
from opslib.results import Finding


@dataclass(frozen=True)
class Sessions:
    table: pd.DataFrame  # display-ready, query text masked and cut
    blocked: int
    long_running: int
    findings: tuple[Finding, ...]
    timings: tuple[QueryTiming, ...] = field(default_factory=tuple)


def cron_sessions(conn: Connection) -> Sessions:
    """Job sessions blocked by another pid, or in a transaction longer than any job may take.

    pg_stat_activity is a snapshot of now, not of the window: a past contention leaves only
    its long runs in job_run_details (see 감지). Other users' query text needs
    pg_read_all_stats; without it PostgreSQL shows '<insufficient privilege>'.
    """
    check = checks.get("cron.sessions_blocked")
    got = fetch(conn, "cron.pg_cron_sessions", {})
    if not got.ok:
        return Sessions(pd.DataFrame(), 0, 0, (checks.error(check, got.error or "query failed"),), timings(got))
    frame = got.frame.copy()
    limit_s = max(j.max_run_s for j in expected_jobs())
    # the launcher: backend type 'pg_cron launcher', application_name 'pg_cron scheduler'
    is_job = ~(
        frame["backend_type"].fillna("").str.contains("launcher", case=False)
        | frame["application_name"].fillna("").str.contains("scheduler", case=False)
    )
    blocked = is_job & frame["blocked_by"].map(lambda b: bool(b) and len(b) > 0)
    long = is_job & (frame["running_s"].fillna(0) > limit_s) & frame["state"].ne("idle")
    frame["query"] = frame["query"].fillna("").map(mask_text)
    frame["blocked_by"] = frame["blocked_by"].map(lambda b: ", ".join(str(x) for x in b) if b else "")
    problems = frame[blocked | long]
    finding = checks.evaluate(
        check,
        len(problems),
        detail=f"{int(blocked.sum())} blocked, {int(long.sum())} running > {limit_s} s; "
        f"{int((~is_job).sum())} launcher, {int(is_job.sum())} job session(s) now",
        evidence=evidence(problems[["pid", "state", "wait_event_type", "wait_event", "running_s", "blocked_by"]]),
    )
    return Sessions(for_display(frame), int(blocked.sum()), int(long.sum()), (finding,), timings(got))
