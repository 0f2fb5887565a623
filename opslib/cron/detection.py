"""감지, per job: missed runs, failed runs, runs stuck running, duration drift, the HTTP outcome behind 'succeeded'.

Each job is looked at over the window or, when its last due time is older than the window's
start (the nightly jobs), back to that due time: "did the 03:30 reconcile work" is the
question at 10:00 too. Outcomes are judged as of the window's end or now, whichever is earlier.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import pandas as pd
from sqlalchemy.engine import Connection

from opslib import checks, dispatcher
from opslib.cron.registry import RegisteredJob, Registry, job_registry
from opslib.cron.schedule import Schedule
from opslib.cron.settings import detection as settings
from opslib.dispatcher import JobKind, JobRuns, RunOutcome, command_target, job_threshold, link_rules
from opslib.display import evidence, for_display
from opslib.fetch import QueryTiming, fetch, timings
from opslib.results import Finding, Outcome, Severity
from opslib.timewindow import Window

# a nightly job is looked at back to its last due time, but never more than this
MAX_LOOKBACK = timedelta(days=1, minutes=5)
# duration drift compares the median of the job's latest finished runs with its history
RECENT_RUNS = 5


@dataclass(frozen=True)
class JobHealth:
    job: RegisteredJob
    span: Window
    runs: pd.DataFrame  # raw, with outcome
    due: pd.DataFrame  # due_at, run started_at (NaT when missed), late_s
    missed: int
    latest_due_missed: bool
    stuck: int
    p50_s: float | None
    history_p50_s: float | None
    history_runs: int
    edge: JobRuns | None


@dataclass(frozen=True)
class Detection:
    summary: pd.DataFrame  # one row per job, display-ready
    problem_runs: pd.DataFrame  # failed / stuck / unknown-by-ambiguity runs, display-ready
    missed: pd.DataFrame  # missed due times, display-ready
    timeline: pd.DataFrame  # runs of Edge jobs: start_time, job, outcome (for the chart)
    jobs: tuple[JobHealth, ...]
    registry: Registry
    judged_at: datetime | None
    findings: tuple[Finding, ...]
    timings: tuple[QueryTiming, ...] = field(default_factory=tuple)

    def health(self, name: str) -> JobHealth | None:
        return next((h for h in self.jobs if h.job.name == name), None)


def judged_at(registry: Registry, window: Window) -> datetime:
    return min(registry.db_now, window.until) if registry.db_now else window.until


def job_span(job: RegisteredJob, window: Window) -> Window:
    if job.schedule is None:
        return window
    last = job.schedule.previous_due(window.until - timedelta(microseconds=1))
    if last is None or last >= window.since:
        return window
    return Window(max(last - timedelta(seconds=1), window.until - MAX_LOOKBACK), window.until)


def match_due_times(
    schedule: Schedule, starts: list[datetime], span: Window, judge_at: datetime, tolerance: timedelta
) -> pd.DataFrame:
    """Each due time in the span that can be judged, with the run that started for it.

    A run belongs to a due time when it started in [due − 2 s, due + tolerance), tolerance capped
    by the gap to the next due time; each run serves one due time. A due time whose tolerance
    has not passed by judge_at is not judged yet.
    """
    due = schedule.due_times(span.since, min(span.until, judge_at))
    ordered = sorted(starts)
    rows = []
    j = 0
    for k, d in enumerate(due):
        nxt = due[k + 1] if k + 1 < len(due) else schedule.next_due(d)
        tol = min(tolerance, (nxt - d) if nxt else tolerance)
        if d + tol > judge_at:
            break
        while j < len(ordered) and ordered[j] < d - timedelta(seconds=2):
            j += 1
        if j < len(ordered) and ordered[j] < d + tol:
            rows.append({"due_at": d, "started_at": ordered[j], "late_s": (ordered[j] - d).total_seconds()})
            j += 1
        else:
            rows.append({"due_at": d, "started_at": None, "late_s": None})
    return pd.DataFrame(rows, columns=["due_at", "started_at", "late_s"])


def _orphan_runs(orphans: pd.DataFrame, job: RegisteredJob) -> pd.DataFrame:
    """Runs of a job deleted from cron.job that ran the expected job's command."""
    if orphans.empty or job.spec is None:
        return orphans.iloc[0:0]
    spec = job.spec

    def mine(command: str) -> bool:
        target = command_target(command)
        if spec.kind is JobKind.EDGE:
            return target.function == spec.function
        return False  # plain SQL commands cannot be told apart reliably

    keep = orphans[orphans["command"].map(mine)].copy()
    keep["jobname"] = None
    keep["outcome"] = [dispatcher._sql_outcome(s) if s != "succeeded" else RunOutcome.UNKNOWN for s in keep["status"]]
    keep["link_note"] = "job no longer in cron.job: outcome not linked"
    return keep


def detect(conn: Connection, window: Window) -> Detection:
    registry = job_registry(conn)
    fetched = list(registry.timings)
    if registry.db_now is None:
        return Detection(
            pd.DataFrame(),
            pd.DataFrame(),
            pd.DataFrame(),
            pd.DataFrame(),
            (),
            registry,
            None,
            registry.findings,
            tuple(fetched),
        )
    judge_at = judged_at(registry, window)
    cfg = settings()
    widest = Window(
        min(job_span(j, window).since for j in registry.jobs) if registry.jobs else window.since, window.until
    )
    orphans = fetch(conn, "cron.orphan_runs", widest.params())
    history = fetch(
        conn,
        "cron.run_durations",
        {"since": widest.since - timedelta(days=cfg.history_days), "until": widest.since},
    )
    fetched_q = [orphans, history]
    findings: list[Finding] = []
    for f, check_id in ((orphans, "cron.missed_runs"), (history, "cron.duration_drift")):
        if not f.ok:
            findings.append(checks.error(checks.get(check_id), f.error or "query failed"))
    hist = history.frame if history.ok else pd.DataFrame(columns=["jobid", "runs", "p50_s", "p95_s"])
    healths: list[JobHealth] = []
    runs_by_job: dict[str, pd.DataFrame] = {}
    edges: dict[str, JobRuns] = {}
    for job in registry.jobs:
        if job.present:
            edges[job.name] = dispatcher.job_runs(conn, job.jobname or job.name, job_span(job, window))
            runs_by_job[job.name] = edges[job.name].runs
    # pg_cron writes no history with cron.log_run off, and a database where no job ever ran has no
    # history either: an empty job_run_details then proves nothing about missed runs
    any_history = (
        bool(len(hist)) or any(len(r) for r in runs_by_job.values()) or bool(orphans.ok and len(orphans.frame))
    )
    blind = None
    if not registry.log_run:
        blind = "cron.log_run is off: pg_cron records no runs, so missed runs cannot be told"
    elif not any_history:
        blind = (
            "cron.job_run_details holds no run of any job in the span or the 7 days before: pg_cron is not "
            "running here, or does not record runs (check the launcher in pg_stat_activity, cron.log_run)"
        )
    for job in registry.jobs:
        span = job_span(job, window)
        severity = job.spec.severity if job.spec else Severity.P3
        edge: JobRuns | None = None
        if job.present:
            edge = edges[job.name]
            runs = edge.runs
            for f in edge.findings:
                findings.append(replace(f, subject=job.name) if job.jobname != job.name else f)
        else:
            own = orphans.frame[(orphans.frame["start_time"] >= span.since)] if orphans.ok else pd.DataFrame()
            runs = _orphan_runs(own, job) if not own.empty else pd.DataFrame(columns=["start_time", "outcome"])
        starts = [pd.Timestamp(t).to_pydatetime() for t in runs["start_time"]] if len(runs) else []
        due = pd.DataFrame(columns=["due_at", "started_at", "late_s"])
        if job.schedule is not None and (job.active or not job.present) and blind is None:
            due = match_due_times(job.schedule, starts, span, judge_at, cfg.start_tolerance)
        missed_mask = due["started_at"].isna() if len(due) else pd.Series([], dtype=bool)
        missed = int(missed_mask.sum())
        latest_missed = bool(len(due) and missed_mask.iloc[-1])
        max_run = timedelta(seconds=job.spec.max_run_s if job.spec else link_rules().default_max_run_s)
        stuck_mask = (
            [
                o is RunOutcome.RUNNING and pd.Timestamp(s).to_pydatetime() < judge_at - max_run
                for o, s in zip(runs["outcome"], runs["start_time"], strict=True)
            ]
            if len(runs)
            else []
        )
        stuck = int(sum(stuck_mask))
        finished = runs["status"].isin(["succeeded", "failed"]) if len(runs) and "status" in runs else None
        durations = (
            runs.loc[finished, "duration_s"].dropna().astype(float)
            if finished is not None and "duration_s" in runs
            else pd.Series([], dtype=float)
        )
        # the latest runs, not the whole window: a job that got slow 20 minutes ago has a fast median
        p50 = float(durations.tail(RECENT_RUNS).median()) if len(durations) else None
        h = hist[hist["jobid"].isin(job.jobids)] if job.jobids else hist.iloc[0:0]
        h_runs = int(h["runs"].sum()) if len(h) else 0
        h_p50 = float(h["p50_s"].iloc[0]) if len(h) == 1 else (float(h["p50_s"].median()) if len(h) else None)
        healths.append(JobHealth(job, span, runs, due, missed, latest_missed, stuck, p50, h_p50, h_runs, edge))
        if job.spec is not None or job.present:
            findings.extend(
                _job_findings(
                    blind,
                    job,
                    severity,
                    due,
                    missed,
                    latest_missed,
                    runs,
                    stuck_mask,
                    p50,
                    h_p50,
                    h_runs,
                    cfg.min_duration_s,
                    history.ok,
                )
            )
        if edge is not None:
            fetched.extend(edge.timings)
    fetched.extend(timings(*fetched_q))
    return Detection(
        summary=_summary(healths),
        problem_runs=_problem_runs(healths),
        missed=_missed_table(healths),
        timeline=_timeline(healths, window),
        jobs=tuple(healths),
        registry=registry,
        judged_at=judge_at,
        findings=tuple(findings),
        timings=tuple(fetched),
    )


def _job_findings(
    blind: str | None,
    job: RegisteredJob,
    severity: Severity,
    due: pd.DataFrame,
    missed: int,
    latest_missed: bool,
    runs: pd.DataFrame,
    stuck_mask: list[bool],
    p50: float | None,
    h_p50: float | None,
    h_runs: int,
    min_duration_s: float,
    history_ok: bool,
) -> list[Finding]:
    out: list[Finding] = []
    check = checks.get("cron.missed_runs")
    if blind is not None:
        out.append(checks.evaluate(check, None, subject=job.name, detail=blind))
    elif job.schedule is None:
        out.append(checks.evaluate(check, None, subject=job.name, detail="schedule cannot be read"))
    elif job.present and not job.active:
        out.append(
            checks.evaluate(check, None, subject=job.name, detail="inactive: no runs are due (see the registry)")
        )
    else:
        rows = due[due["started_at"].isna()]
        f = checks.evaluate(
            check,
            missed,
            subject=job.name,
            detail=f"{len(due)}회 예정 중 {missed}회 놓침",
            evidence=evidence(rows, limit=20),
        )
        if missed:
            f = replace(
                f,
                outcome=Outcome.CRITICAL if latest_missed else Outcome.WARN,
                severity=severity if latest_missed else check.warn_severity,
                detail=f"{len(due)}회 예정 중 {missed}회 놓침/지연"
                + (" · 최근 예정 시각도 놓침 (ongoing)" if latest_missed else " · 최근 예정 시각은 실행됨 (recovered)"),
            )
        out.append(replace(f, threshold=job_threshold(severity)))
    stuck_check = checks.get("cron.stuck_runs")
    stuck = int(sum(stuck_mask))
    f = replace(checks.evaluate(stuck_check, stuck, subject=job.name), threshold=f"> 0회 ({severity.value})")
    if stuck:
        rows = runs[pd.Series(stuck_mask, index=runs.index)]
        f = replace(
            f,
            severity=severity,
            detail=f"running since {rows['start_time'].min()} (max_run_s {job.spec.max_run_s if job.spec else '?'})",
            evidence=evidence(
                rows.reindex(columns=["runid", "start_time", "status", "command"]).assign(
                    command=lambda x: x["command"].str.slice(0, 80)
                ),
                limit=5,
            ),
        )
    out.append(f)
    drift = checks.get("cron.duration_drift")
    if not history_ok:
        return out
    if p50 is None or h_p50 is None or h_p50 <= 0:
        out.append(checks.evaluate(drift, None, subject=job.name, detail="no finished runs to compare"))
    elif p50 < min_duration_s:
        # a 40 ms run taking 200 ms is 5x, and no incident: below min_duration_s drift is noise
        out.append(
            Finding(
                check=drift.id,
                outcome=Outcome.OK,
                section=drift.section,
                title=drift.title,
                subject=job.name,
                value=round(p50 / h_p50, 2),
                unit=drift.unit,
                threshold=drift.threshold_text(),
                detail=f"median {p50:.2f} s (history {h_p50:.2f} s): under {min_duration_s:g} s",
            )
        )
    else:
        out.append(
            checks.evaluate(
                drift,
                p50 / h_p50,
                subject=job.name,
                sample=h_runs,
                failures=0,
                detail=f"latest {RECENT_RUNS} runs' median {p50:.3g} s vs {h_p50:.3g} s over {h_runs} runs before",
            )
        )
    return out


def _summary(healths: list[JobHealth]) -> pd.DataFrame:
    rows = []
    for h in healths:
        outcomes = list(h.runs["outcome"]) if len(h.runs) else []
        judged = [
            (o, s) for o, s in zip(outcomes, h.runs["start_time"] if len(h.runs) else [], strict=True) if o.is_judged
        ]
        latest = judged[-1] if judged else None
        bad = pd.Series([o.value for o in outcomes if not o.is_judged or o.is_failure], dtype=object)
        rows.append(
            {
                "job": h.job.name,
                "since": h.span.since,
                "due": len(h.due),
                "runs": len(outcomes),
                "ok": sum(o is RunOutcome.OK for o in outcomes),
                "failed": sum(o.is_failure for o in outcomes),
                # the other outcomes, compact: HTTP_401 60, UNKNOWN 1 ...
                "not_ok": ", ".join(f"{k} {v}" for k, v in bad.value_counts().items()) if len(bad) else "",
                "missed": h.missed,
                "stuck": h.stuck,
                "median_s": h.p50_s,
                "history_median_s": h.history_p50_s,
                "latest": latest[0].value if latest else None,
                "latest_at": latest[1] if latest else None,
            }
        )
    return for_display(pd.DataFrame(rows)) if rows else pd.DataFrame()


PROBLEM_COLUMNS = [
    "job",
    "runid",
    "start_time",
    "duration_s",
    "status",
    "outcome",
    "status_code",
    "error_msg",
    "return_message",
    "link_note",
]


def _problem_runs(healths: list[JobHealth]) -> pd.DataFrame:
    parts = []
    for h in healths:
        if h.runs.empty:
            continue
        bad = h.runs[[o.is_failure or o is RunOutcome.RUNNING for o in h.runs["outcome"]]]
        if len(bad):
            parts.append(bad.assign(job=h.job.name).reindex(columns=PROBLEM_COLUMNS))
    if not parts:
        return pd.DataFrame(columns=PROBLEM_COLUMNS)
    frame = pd.concat(parts, ignore_index=True).sort_values("start_time", ascending=False)
    frame["outcome"] = [o.value for o in frame["outcome"]]
    return for_display(frame.reset_index(drop=True))


def _missed_table(healths: list[JobHealth]) -> pd.DataFrame:
    parts = [h.due[h.due["started_at"].isna()].assign(job=h.job.name) for h in healths if len(h.due)]
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=["job", "due_at"])
    frame = pd.concat(parts, ignore_index=True)[["job", "due_at"]].sort_values("due_at", ascending=False)
    return for_display(frame.reset_index(drop=True))


def _timeline(healths: list[JobHealth], window: Window) -> pd.DataFrame:
    """Edge-job runs of the page's window (not the nightly jobs' longer span: the chart stays readable)."""
    parts = [
        h.runs[["start_time", "outcome"]].assign(job=h.job.name)
        for h in healths
        if h.edge is not None and h.job.kind is JobKind.EDGE and len(h.runs)
    ]
    if not parts:
        return pd.DataFrame(columns=["start_time", "outcome", "job"])
    frame = pd.concat(parts, ignore_index=True)
    frame = frame[pd.to_datetime(frame["start_time"], utc=True) >= window.since].reset_index(drop=True)
    frame["outcome"] = [o.value for o in frame["outcome"]]
    return frame
