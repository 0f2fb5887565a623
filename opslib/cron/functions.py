"""The Edge Functions' own view of the scheduled calls: logs.function_edge_logs and logs.function_logs.

pg_net keeps responses 6 hours; the drained function logs keep longer. Per Edge job: status codes,
cold starts, deployment versions, execution time against the request timeout, and the console
errors of failing invocations (the 5xx triage). A drain that holds nothing for a function the
cron calls is said to be empty (NOT_EVALUATED), never read as "no errors".
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import timedelta

import pandas as pd
from sqlalchemy.engine import Connection

from opslib import checks
from opslib.cron.detection import job_span
from opslib.cron.registry import job_registry
from opslib.dispatcher import JobKind, JobSpec, job_threshold, timeout_for
from opslib.display import evidence, for_display
from opslib.fetch import QueryTiming, fetch, timings
from opslib.results import Finding, Outcome
from opslib.timewindow import Window, kst


@dataclass(frozen=True)
class FunctionView:
    status: pd.DataFrame  # per function and status class: invocations, cold starts, p95/max execution, versions
    timeouts: pd.DataFrame  # per function: timeout_ms, p95/max execution, margin %
    errors: pd.DataFrame  # console warn/error lines, display-ready
    invocations: pd.DataFrame  # raw, for the chart
    findings: tuple[Finding, ...]
    timings: tuple[QueryTiming, ...] = field(default_factory=tuple)


def _status_class(code: object) -> str:
    if code is None or pd.isna(code):
        return "no status"
    c = int(code)
    if 200 <= c < 300:
        return "2xx"
    if c == 401:
        return "401"
    if 500 <= c < 600:
        return "5xx"
    return "4xx" if 400 <= c < 500 else "other"


@dataclass(frozen=True)
class _EdgeJob:
    name: str
    spec: JobSpec
    command: str
    jobname: str | None
    span: Window


def function_view(conn: Connection, window: Window) -> FunctionView:
    """Per Edge job over its own span (the window, or back to its last due time): what the function logged."""
    registry = job_registry(conn)
    edge_jobs = [
        _EdgeJob(j.name, j.spec, j.command, j.jobname, job_span(j, window))
        for j in registry.jobs
        if j.spec is not None and j.spec.kind is JobKind.EDGE and j.spec.function
    ]
    if not edge_jobs:
        return FunctionView(pd.DataFrame(), pd.DataFrame(), pd.DataFrame(), pd.DataFrame(), ())
    since = min(h.span.since for h in edge_jobs)
    until = max(h.span.until for h in edge_jobs)
    names = sorted({h.spec.function for h in edge_jobs if h.spec.function})
    inv = fetch(conn, "cron.function_invocations", {"functions": names, "since": since, "until": until})
    errs = fetch(conn, "cron.function_errors", {"functions": names, "since": since, "until": until})
    status_check = checks.get("cron.function_status")
    margin_check = checks.get("cron.timeout_margin")
    findings: list[Finding] = []
    if not inv.ok:
        findings.append(checks.error(status_check, inv.error or "query failed"))
        findings.append(checks.error(margin_check, inv.error or "query failed"))
        return FunctionView(
            pd.DataFrame(), pd.DataFrame(), pd.DataFrame(), pd.DataFrame(), tuple(findings), timings(inv, errs)
        )
    frame = inv.frame.copy()
    frame["status_class"] = [_status_class(c) for c in frame["status_code"]]
    status_rows, timeout_rows = [], []
    for h in edge_jobs:
        spec = h.spec
        ts = pd.to_datetime(frame["timestamp"], utc=True)
        mine = frame[(frame["function_name"] == spec.function) & (ts >= h.span.since) & (ts < h.span.until)]
        if mine.empty:
            detail = (
                f"logs.function_edge_logs has no {spec.function} invocation since {kst(h.span.since)}: "
                "the log drain is empty or behind, or the job did not run (see 감지)"
            )
            findings.append(checks.evaluate(status_check, None, subject=h.name, detail=detail))
            findings.append(checks.evaluate(margin_check, None, subject=h.name, detail=detail))
            continue
        bad = mine[mine["status_class"] != "2xx"]
        f = replace(checks.evaluate(status_check, len(bad), subject=h.name), threshold=job_threshold(spec.severity))
        if len(bad):
            latest_bad = mine.sort_values("timestamp")["status_class"].iloc[-1] != "2xx"
            by = bad["status_class"].value_counts().to_dict()
            f = replace(
                f,
                outcome=Outcome.CRITICAL if latest_bad else Outcome.WARN,
                severity=spec.severity if latest_bad else status_check.warn_severity,
                detail=", ".join(f"{k} {v}" for k, v in by.items())
                + f" of {len(mine)} invocations"
                + (" · 최근 호출도 실패 (ongoing)" if latest_bad else " · 최근 호출은 성공 (recovered)"),
                evidence=evidence(
                    bad.sort_values("timestamp").tail(10)[
                        ["timestamp", "function_name", "status_code", "execution_time_ms", "deployment_version"]
                    ]
                ),
            )
        findings.append(f)
        for cls, part in mine.groupby("status_class"):
            status_rows.append(
                {
                    "job": h.name,
                    "function": spec.function,
                    "status": cls,
                    "invocations": len(part),
                    "cold_starts": int((part["boot_time_ms"].fillna(0) > 0).sum()),
                    "p95_exec_ms": float(part["execution_time_ms"].quantile(0.95)),
                    "max_exec_ms": float(part["execution_time_ms"].max()),
                    "versions": ", ".join(sorted({str(v) for v in part["deployment_version"].dropna()})),
                    "first": part["timestamp"].min(),
                    "last": part["timestamp"].max(),
                }
            )
        timeout = timeout_for(h.command, h.jobname) if h.command else timedelta(milliseconds=spec.timeout_ms or 30000)
        timeout_ms = timeout.total_seconds() * 1000
        slowest = float(mine["execution_time_ms"].max()) if mine["execution_time_ms"].notna().any() else None
        margin = None if slowest is None else 100 * slowest / timeout_ms
        m = checks.evaluate(
            margin_check,
            margin,
            subject=h.name,
            detail=f"slowest {slowest:,.0f} ms of the {timeout_ms:,.0f} ms request timeout"
            if slowest is not None
            else "no execution time logged",
        )
        timeout_rows.append(
            {
                "job": h.name,
                "timeout_ms": timeout_ms,
                "p95_exec_ms": float(mine["execution_time_ms"].quantile(0.95)),
                "max_exec_ms": slowest,
                "margin_pct": margin,
            }
        )
        findings.append(m)
    errors = errs.frame if errs.ok else pd.DataFrame()
    if not errs.ok:
        findings.append(checks.error(status_check, f"function_logs: {errs.error}"))
    return FunctionView(
        status=for_display(pd.DataFrame(status_rows)) if status_rows else pd.DataFrame(),
        timeouts=pd.DataFrame(timeout_rows),
        errors=for_display(errors.sort_values("timestamp", ascending=False)) if len(errors) else pd.DataFrame(),
        invocations=frame,
        findings=tuple(findings),
        timings=timings(inv, errs),
    )
