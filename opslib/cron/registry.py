"""잡 레지스트리: every job in cron.job against the contract's five, with schedules in UTC and KST."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd
from sqlalchemy.engine import Connection

from opslib import checks
from opslib.cron.schedule import Schedule, ScheduleError, parse
from opslib.dispatcher import JobKind, JobSpec, command_target, expected_jobs
from opslib.display import for_display
from opslib.fetch import QueryTiming, fetch, timings
from opslib.results import Finding, Outcome, Severity

SECTION = "§3-F 잡 레지스트리"


@dataclass(frozen=True)
class RegisteredJob:
    """One job as the page treats it: the expected spec, the row in cron.job (if any), its schedule."""

    name: str  # the expected name, or the actual name of an unexpected job
    spec: JobSpec | None
    jobname: str | None  # the name in cron.job (None: missing)
    jobids: tuple[int, ...]
    active: bool
    schedule: Schedule | None
    command: str
    kind: JobKind

    @property
    def present(self) -> bool:
        return self.jobname is not None


@dataclass(frozen=True)
class Registry:
    table: pd.DataFrame  # display-ready
    jobs: tuple[RegisteredJob, ...]
    db_now: datetime | None
    timezone: str
    findings: tuple[Finding, ...]
    log_run: bool = True
    timings: tuple[QueryTiming, ...] = field(default_factory=tuple)

    def job(self, name: str) -> RegisteredJob | None:
        return next((j for j in self.jobs if j.name == name), None)


def _normalise(command: str) -> str:
    return re.sub(r"\s+", " ", command or "").strip().rstrip(";").lower()


def _same_target(spec: JobSpec, command: str) -> bool:
    target = command_target(command)
    if spec.kind is JobKind.EDGE:
        return target.kind is JobKind.EDGE and target.function == spec.function
    return target.kind is JobKind.SQL


def job_registry(conn: Connection) -> Registry:
    """The registry as it is, each expected job's state as a finding."""
    settings = fetch(conn, "cron.cron_settings", {})
    rows = fetch(conn, "cron.job_registry", {})
    if not rows.ok or not settings.ok:
        failed = rows if not rows.ok else settings
        err = checks.error(checks.get("cron.job_registered"), failed.error or "query failed")
        return Registry(pd.DataFrame(), (), None, "GMT", (err,), timings=timings(settings, rows))
    raw_tz = settings.frame.iloc[0]["cron_timezone"]
    raw_log = settings.frame.iloc[0]["log_run"]
    # hidden or absent (the shim, a role without pg_read_all_settings): pg_cron's defaults
    tz = str(raw_tz) if raw_tz else "GMT"
    log_run = str(raw_log).lower() not in ("off", "false", "0") if raw_log else True
    db_now = pd.Timestamp(settings.frame.iloc[0]["db_now"]).to_pydatetime()
    frame = rows.frame
    check = checks.get("cron.job_registered")
    findings: list[Finding] = []
    jobs: list[RegisteredJob] = []
    claimed: set[int] = set()
    lines: list[dict[str, object]] = []

    def schedule_of(text: str, subject: str) -> Schedule | None:
        try:
            return parse(text, tz)
        except ScheduleError as exc:
            findings.append(
                Finding(
                    check=check.id,
                    outcome=Outcome.WARN,
                    severity=Severity.P3,
                    section=SECTION,
                    title=check.title,
                    subject=subject,
                    value=1,
                    detail=f"{exc}: missed runs cannot be computed for it",
                )
            )
            return None

    for spec in expected_jobs():
        mine = frame[frame["jobname"] == spec.name]
        renamed = False
        if mine.empty:
            # renamed: another unclaimed job runs the same command (or calls the same function)
            same = frame[
                frame["jobname"].ne(spec.name)
                & frame["command"].map(lambda c, s=spec: _same_target(s, c))
                & ~frame["jobname"].isin([e.name for e in expected_jobs()])
            ]
            if not same.empty and spec.kind is JobKind.EDGE:
                mine, renamed = same.head(1), True
        problems: list[str] = []
        if mine.empty:
            problems.append(f"cron.job has no job {spec.name!r}: nothing runs it (deleted, never scheduled)")
            sched = schedule_of(spec.schedule, spec.name)
            jobs.append(RegisteredJob(spec.name, spec, None, (), False, sched, "", spec.kind))
            lines.append(_line(spec.name, spec, None, sched, db_now, "MISSING"))
        else:
            row = mine.iloc[0]
            claimed |= {int(x) for x in mine["jobid"]}
            actual_name = str(row["jobname"]) if row["jobname"] is not None else None
            if renamed:
                problems.append(f"runs as {actual_name!r}, not {spec.name!r} (renamed): lookups by name miss it")
            if not bool(row["active"]):
                problems.append("inactive (paused): pg_cron does not run it")
            if str(row["schedule"]).strip() != spec.schedule:
                problems.append(f"schedule {row['schedule']!r}, expected {spec.schedule!r} (rescheduled)")
            if not _same_target(spec, str(row["command"])):
                target = command_target(str(row["command"]))
                problems.append(
                    f"command calls {target.function or 'plain SQL'}, expected "
                    f"{spec.function if spec.kind is JobKind.EDGE else 'plain SQL'}"
                )
            sched = schedule_of(str(row["schedule"]), spec.name)
            jobs.append(
                RegisteredJob(
                    spec.name,
                    spec,
                    actual_name,
                    tuple(int(x) for x in mine["jobid"]),
                    bool(row["active"]),
                    sched,
                    str(row["command"]),
                    command_target(str(row["command"])).kind,
                )
            )
            state = "INACTIVE" if not bool(row["active"]) else ("RENAMED" if renamed else "OK")
            lines.append(_line(actual_name or spec.name, spec, row, sched, db_now, state))
        findings.append(_finding(check, spec, problems))

    for _, row in frame[~frame["jobid"].isin(claimed)].iterrows():
        name = str(row["jobname"]) if row["jobname"] is not None else f"jobid {row['jobid']}"
        sched = schedule_of(str(row["schedule"]), name)
        target = command_target(str(row["command"]))
        jobs.append(
            RegisteredJob(
                name, None, name, (int(row["jobid"]),), bool(row["active"]), sched, str(row["command"]), target.kind
            )
        )
        lines.append(_line(name, None, row, sched, db_now, "UNEXPECTED (not in the contract)"))

    table = for_display(pd.DataFrame(lines)) if lines else pd.DataFrame()
    return Registry(table, tuple(jobs), db_now, tz, tuple(findings), log_run=log_run, timings=timings(settings, rows))


def _line(
    name: str, spec: JobSpec | None, row: pd.Series | None, sched: Schedule | None, now: datetime, state: str
) -> dict[str, object]:
    command = str(row["command"]) if row is not None else ""
    target = command_target(command) if command else None
    kind = target.kind if target else (spec.kind if spec else None)
    return {
        "job": name,
        "state": state,
        "schedule_utc": str(row["schedule"]) if row is not None else (spec.schedule if spec else ""),
        "schedule_kst": sched.describe_kst() if sched else "-",
        "previous_due": sched.previous_due(now) if sched else None,
        "next_due": sched.next_due(now) if sched else None,
        "active": bool(row["active"]) if row is not None else None,
        "calls": (
            f"Edge Function {target.function}"
            if target and target.kind is JobKind.EDGE
            else ("SQL" if kind is JobKind.SQL else f"Edge Function {spec.function if spec else '?'}")
        ),
        "jobid": int(row["jobid"]) if row is not None else None,
        "owner": str(row["username"]) if row is not None else None,
    }


def _finding(check: checks.Check, spec: JobSpec, problems: list[str]) -> Finding:
    if not problems:
        return Finding(
            check=check.id,
            outcome=Outcome.OK,
            section=SECTION,
            title=check.title,
            subject=spec.name,
            value=0,
            threshold="registered, active, on its schedule",
            detail=f"{spec.schedule} UTC",
        )
    # missing or paused: nothing runs it; renamed/rescheduled: it runs, but not as the contract says
    stops = any(p.startswith(("cron.job has no job", "inactive")) or p.startswith("command calls") for p in problems)
    return Finding(
        check=check.id,
        outcome=Outcome.CRITICAL if stops else Outcome.WARN,
        severity=spec.severity if stops else Severity.P3,
        section=SECTION,
        title=check.title,
        subject=spec.name,
        value=len(problems),
        threshold="registered, active, on its schedule",
        detail=" · ".join(problems),
    )
