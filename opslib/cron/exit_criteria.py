"""종료 조건: each affected job ran on schedule with a 2xx HTTP outcome (or SQL success) for its next N due times.

N per job is data (cron.yaml jobs[].exit_runs: 5 for the per-minute dispatcher, 1 for the
nightly jobs). Per affected job the last N judged due times must each have a run that started on
time and succeeded; the condition is "met since" the moment the N-th of those succeeded. A due
time whose outcome is unknown (pg_net's response gone, ambiguous) is judged by the function's own
log when that has exactly one invocation for the run; otherwise the job cannot be judged, and the
page never says "met" then. Due times not yet judgeable (within their tolerance, request still
pending) are left out, not counted as failures.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pandas as pd
from sqlalchemy.engine import Connection

from opslib import checks
from opslib.cron.detection import Detection, JobHealth
from opslib.dispatcher import JobKind, RunOutcome, http_outcome, link_rules, timeout_for
from opslib.display import for_display
from opslib.fetch import QueryTiming, fetch, timings
from opslib.results import Finding, Outcome
from opslib.timewindow import kst

NOT_YET = (RunOutcome.PENDING, RunOutcome.RUNNING)


@dataclass(frozen=True)
class JobExit:
    job: str
    needed: int
    met: bool
    met_since: datetime | None
    judgeable: bool
    last: tuple[str, ...]  # the outcomes of the last N judged due times, oldest first
    reason: str


@dataclass(frozen=True)
class ExitCondition:
    met: bool
    sentence: str
    jobs: tuple[JobExit, ...]
    table: pd.DataFrame
    findings: tuple[Finding, ...]
    timings: tuple[QueryTiming, ...] = field(default_factory=tuple)


def judge_job(
    job: str, needed: int, due_outcomes: list[tuple[datetime, RunOutcome | None, datetime | None]]
) -> JobExit:
    """Pure: (due_at, outcome or None when missed, when it succeeded) in due order → the job's exit state."""
    judged = [d for d in due_outcomes if d[1] not in NOT_YET]
    last = judged[-needed:] if needed else []
    labels = tuple("MISSED" if o is None else o.value for _, o, _ in last)
    if len(last) < needed:
        return JobExit(
            job, needed, False, None, False, labels, f"{len(last)}/{needed}회만 판정 가능 (too few due times yet)"
        )
    if any(o is RunOutcome.UNKNOWN for _, o, _ in last):
        return JobExit(job, needed, False, None, False, labels, "결과 불명 (outcome unknown: pg_net response gone)")
    if all(o is RunOutcome.OK for _, o, _ in last):
        # the streak of successes ending now; met once its N-th success landed
        streak = 0
        for _, o, _ in reversed(judged):
            if o is not RunOutcome.OK:
                break
            streak += 1
        start = len(judged) - streak
        met_at = judged[start + needed - 1][2] or judged[start + needed - 1][0]
        return JobExit(job, needed, True, met_at, True, labels, f"최근 {needed}회 정시 성공")
    bad = [(d, o) for d, o, _ in last if o is not RunOutcome.OK]
    d, o = bad[-1]
    what = "놓침 (missed)" if o is None else o.value
    return JobExit(
        job, needed, False, None, True, labels, f"최근 {needed}회 중 {len(bad)}회 실패, 마지막 {kst(d)} {what}"
    )


def _affected(detection: Detection) -> set[str]:
    return {f.subject for f in detection.findings if f.subject and (f.outcome.is_problem or f.outcome is Outcome.ERROR)}


def exit_condition(conn: Connection, detection: Detection) -> ExitCondition:
    """Affected jobs: those with a problem in 감지, and any whose latest due times (judged by pg_net or,
    past its retention, by the function's own log) did not all succeed."""
    affected = _affected(detection)
    healths = [h for h in detection.jobs if h.job.schedule is not None or h.job.name in affected]
    names = sorted({h.job.spec.function for h in healths if h.job.spec and h.job.spec.function})
    inv = None
    if names and healths:
        since = min(h.span.since for h in healths)
        inv = fetch(
            conn,
            "cron.function_invocations",
            {"functions": names, "since": since, "until": detection.judged_at or since},
        )
    results: list[JobExit] = []
    for h in healths:
        needed = h.job.spec.exit_runs if h.job.spec else 1
        flagged = h.job.name in affected
        if h.job.present and not h.job.active:
            if flagged:
                results.append(
                    JobExit(h.job.name, needed, False, None, True, (), "일시중지 상태 (inactive: resume it)")
                )
            continue
        if h.job.schedule is None:
            results.append(
                JobExit(h.job.name, needed, False, None, False, (), "스케줄 해석 불가 (schedule unreadable)")
            )
            continue
        judged = judge_job(h.job.name, needed, _due_outcomes(h, inv.frame if inv is not None and inv.ok else None))
        if flagged or (judged.judgeable and not judged.met):
            results.append(judged)
    if not results:
        return ExitCondition(
            True,
            "영향받은 잡 없음: 복구할 것이 없음 (no job affected in the window: nothing to recover)",
            (),
            pd.DataFrame(),
            (),
            timings(inv) if inv is not None else (),
        )
    met = all(r.met for r in results)
    errors: tuple[Finding, ...] = ()
    if inv is not None and not inv.ok:
        errors = (checks.error(checks.get("cron.exit_condition"), inv.error or "query failed", subject="종료 조건"),)
    unjudged = [r for r in results if not r.judgeable]
    if met:
        since = max(r.met_since for r in results if r.met_since)
        sentence = f"종료 조건 충족: {kst(since)} 이후 (met since {kst(since)}): " + ", ".join(
            f"{r.job} 최근 {r.needed}회 성공" for r in results
        )
    elif unjudged:
        sentence = "판정 불가 (cannot judge): " + "; ".join(f"{r.job}: {r.reason}" for r in unjudged)
        failing = [r for r in results if r.judgeable and not r.met]
        if failing:
            sentence += " · 미충족: " + "; ".join(f"{r.job}: {r.reason}" for r in failing)
    else:
        sentence = "미충족 (not met): " + "; ".join(f"{r.job}: {r.reason}" for r in results if not r.met)
    table = pd.DataFrame(
        [
            {
                "job": r.job,
                "needed": r.needed,
                "met": r.met,
                "met_since": r.met_since,
                "last_outcomes": " → ".join(r.last),
                "why": r.reason,
            }
            for r in results
        ]
    )
    return ExitCondition(
        met and not errors,
        sentence,
        tuple(results),
        for_display(table),
        errors,
        timings(inv) if inv is not None else (),
    )


def _due_outcomes(
    h: JobHealth, invocations: pd.DataFrame | None
) -> list[tuple[datetime, RunOutcome | None, datetime | None]]:
    runs = h.runs
    by_start = {}
    if len(runs):
        for rec in runs.to_dict("records"):
            by_start[pd.Timestamp(rec["start_time"]).to_pydatetime()] = rec
    out = []
    for rec in h.due.to_dict("records"):
        due_at = pd.Timestamp(rec["due_at"]).to_pydatetime()
        started = rec["started_at"]
        if started is None or pd.isna(started):
            out.append((due_at, None, None))
            continue
        run = by_start.get(pd.Timestamp(started).to_pydatetime())
        if run is None:
            out.append((due_at, RunOutcome.UNKNOWN, None))
            continue
        outcome: RunOutcome = run["outcome"]
        done = run.get("response_at") or run.get("end_time")
        if outcome is RunOutcome.UNKNOWN and h.job.kind is JobKind.EDGE and invocations is not None:
            outcome, done = _by_function_log(h, run, invocations)
        out.append((due_at, outcome, None if done is None or pd.isna(done) else pd.Timestamp(done).to_pydatetime()))
    return out


def _by_function_log(h: JobHealth, run: dict, invocations: pd.DataFrame) -> tuple[RunOutcome, datetime | None]:
    if h.job.spec is None or invocations.empty:
        return RunOutcome.UNKNOWN, None
    start = pd.Timestamp(run["start_time"])
    end = start + timeout_for(h.job.command, h.job.jobname) + timedelta(seconds=link_rules().link_grace_s)
    ts = pd.to_datetime(invocations["timestamp"], utc=True)
    rows = invocations[(invocations["function_name"] == h.job.spec.function) & (ts >= start) & (ts <= end)]
    if len(rows) != 1:
        return RunOutcome.UNKNOWN, None
    code = rows["status_code"].iloc[0]
    outcome = http_outcome(None if pd.isna(code) else int(code), None, None)
    return outcome, pd.Timestamp(rows["timestamp"].iloc[0]).to_pydatetime() if outcome is RunOutcome.OK else None
