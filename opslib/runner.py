"""Execute a runbook page headlessly with papermill and leave its evidence bundle.

The notebook runs in-process (papermill's Python API, no `papermill` or `jupyter`
subprocess) with an immediate kernel shutdown: the FIELD-NOTES measured 0.76 s against
1.1-3.5 s for the alternatives. The output notebook is saved after every cell, so a
cell that raises still leaves the partial executed notebook in the bundle.
"""

from __future__ import annotations

import enum
import json
import os
import sys
import threading
import time
from collections.abc import Callable, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from opslib import db, evidence, fastimport, runbooks
from opslib.errors import ConfigError, OpsbookError
from opslib.masking import is_secret_name, redact_parameters, redact_text
from opslib.results import Finding, Verdict, decide
from opslib.timewindow import iso_utc


class ExitCode(enum.IntEnum):
    """Exit codes of `opsbook run` / `opsbook demo` (documented in the README).

    0 PASS: nothing found. 1 FAIL: a P0/P1 finding (or more than two P2/P3) - mitigate now.
    2 USAGE: bad command line, unknown runbook or parameter, bad parameter value; nothing ran.
    3 CONDITIONAL_PASS: one or two non-core (P2/P3) issues.
    4 ERROR: the run could not judge (a cell raised, a query failed or timed out, a secret was
      redacted from the evidence); the bundle is written and marked ERROR.
    5 DATABASE_UNAVAILABLE: the database could not be reached; the bundle is written, ERROR.
    """

    PASS = 0
    FAIL = 1
    USAGE = 2
    CONDITIONAL_PASS = 3
    ERROR = 4
    DATABASE_UNAVAILABLE = 5

    @classmethod
    def for_verdict(cls, verdict: Verdict) -> ExitCode:
        return {
            Verdict.PASS: cls.PASS,
            Verdict.FAIL: cls.FAIL,
            Verdict.CONDITIONAL_PASS: cls.CONDITIONAL_PASS,
            Verdict.ERROR: cls.ERROR,
        }[verdict]


@dataclass(frozen=True)
class RunResult:
    folder: Path
    verdict: Verdict
    findings: tuple[Finding, ...]
    error: str | None
    exit_code: ExitCode
    seconds: float


SECRET_ENV_HINTS = (
    "PORTONE_WEBHOOK_SECRET",
    "SUPABASE_SERVICE_ROLE_KEY",
    "CRON_SECRET",
    "TOSS_SECRET_KEY",
    "SUPABASE_ANON_KEY",  # §3-B probe: public by design, still never written to evidence
)


def _url_password(raw: str | None) -> list[str]:
    if not raw:
        return []
    try:
        password = db.normalise_url(raw).password
    except ConfigError:
        return []
    return [str(password)] if password else []


def secret_values(urls: list[str | None]) -> list[str]:
    """Values that must never appear in evidence: DB passwords and secret-named env vars."""
    values = [p for raw in urls for p in _url_password(raw)]
    for name, value in os.environ.items():
        if name in (db.ENV_URL, db.ENV_ACTION_URL):
            values += _url_password(value)
        elif (name in SECRET_ENV_HINTS or is_secret_name(name)) and len(value) >= 8:
            values.append(value)
    return values


@contextmanager
def _kernel_environment(database_url: str | None):
    """The kernel inherits this process's environment: the URL travels there, not in a cell."""
    saved = {k: os.environ.get(k) for k in (db.ENV_URL, "JUPYTER_PLATFORM_DIRS", "PYDEVD_DISABLE_FILE_VALIDATION")}
    if database_url:
        os.environ[db.ENV_URL] = database_url
    os.environ["JUPYTER_PLATFORM_DIRS"] = "1"
    os.environ["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def prepare(
    runbook_id: str, given: Mapping[str, Any], *, database_url: str | None, wi_id: str | None
) -> tuple[runbooks.Runbook, dict[str, Any]]:
    """Everything that can be refused before a kernel starts (usage errors)."""
    rb = runbooks.get(runbook_id)
    params = dict(given)
    if wi_id:
        if params.get("wi_id") not in (None, "", wi_id):
            raise ConfigError(f"--wi {wi_id} and the parameter wi_id {params['wi_id']} disagree: give one")
        params["wi_id"] = wi_id
    values = runbooks.resolve_parameters(rb, params)
    if database_url:
        db.normalise_url(database_url)
    return rb, values


def run(
    runbook_id: str,
    given: Mapping[str, Any] | None = None,
    *,
    database_url: str | None = None,
    out_dir: Path = Path("evidence"),
    wi_id: str | None = None,
    cell_timeout: int = 300,
    progress: bool = False,
    on_event: Callable[[str], None] | None = None,
) -> RunResult:
    """Run one page; always returns (with the bundle written) unless the input was refused."""
    rb, values = prepare(runbook_id, given or {}, database_url=database_url, wi_id=wi_id)
    url_for_kernel = database_url or db.configured_url()
    if url_for_kernel is None:
        # The embedded default: start it here so the kernel finds it running.
        db.resolve_url()
    started = datetime.now(UTC)
    t0 = time.perf_counter()
    folder = evidence.new_run_folder(out_dir, rb.id, started, str(values.get("wi_id", "")))
    output = folder / f"{rb.id}.ipynb"
    fastimport.skip_slow_format_checkers()  # before either thread imports nbformat
    # The report's exporter is prepared while the cells run, once the kernel is up: before
    # that, this process is busy starting the kernel and the import would only slow it down.
    kernel_ready = threading.Event()
    warm = threading.Thread(target=_warm_up_quietly, args=(kernel_ready,), name="opsbook-html-warm-up", daemon=True)
    warm.start()
    try:
        error, error_kind = _execute(
            rb, values, output, url_for_kernel, cell_timeout, progress, on_event, on_kernel_ready=kernel_ready.set
        )
    finally:
        kernel_ready.set()
    warm.join()
    return _seal(rb, values, folder, output, started, t0, error, error_kind, url_for_kernel, _kernel_peak_mib())


def _warm_up_quietly(kernel_ready: threading.Event) -> None:
    kernel_ready.wait()
    # An exporter that cannot warm up fails again, and is reported, when the report is written.
    with suppress(Exception):
        evidence.warm_up_html()


def _kernel_peak_mib() -> float | None:
    """Peak RSS of the largest reaped child: the notebook kernel (papermill waits for it).

    An upper bound: Linux carries the parent's peak over fork/exec into ru_maxrss. Used only
    when the page did not finish and report its own (page.own_peak_rss_mib).
    """
    try:
        import resource
    except ImportError:  # not on Windows
        return None
    return round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)


def _execute(
    rb: runbooks.Runbook,
    values: Mapping[str, Any],
    output: Path,
    url: str | None,
    cell_timeout: int,
    progress: bool,
    on_event: Callable[[str], None] | None,
    on_kernel_ready: Callable[[], None] = lambda: None,
) -> tuple[str | None, str | None]:
    import logging

    import papermill
    from papermill.exceptions import PapermillExecutionError

    logging.getLogger("papermill").setLevel(logging.WARNING)
    logging.getLogger("traitlets").setLevel(logging.ERROR)
    if on_event:
        on_event(f"executing {rb.notebook.name} ...")
    with _kernel_environment(url):
        try:
            papermill.execute_notebook(
                str(rb.notebook),
                str(output),
                parameters=dict(values),
                kernel_name="python3",
                # Saving after every cell re-validates and rewrites the whole notebook (~0.45 s a run).
                # papermill still saves at start, every 30 s while cells run, and at the end, also
                # when a cell raises or times out: the partial notebook is kept as evidence.
                request_save_on_cell_execute=False,
                autosave_cell_every=30,
                progress_bar=progress,
                log_output=False,
                execution_timeout=cell_timeout,
                start_timeout=60,
                shutdown_kernel="immediate",
                # the kernel's "running over TCP without encryption" notice is noise on every run (loopback only)
                extra_arguments=["--IPKernelApp.log_level=ERROR"],
                cwd=str(rb.notebook.parent),
                # nbclient's hook, called once the kernel answers (before the first cell)
                on_notebook_start=lambda **_: on_kernel_ready(),
            )
        except PapermillExecutionError as exc:
            return _sentence(exc.ename, exc.evalue), exc.ename
        except Exception as exc:  # nbclient timeouts, dead kernels: no executed-cell context
            name = type(exc).__name__
            if name == "CellTimeoutError":
                return (
                    f"a cell ran longer than {cell_timeout} s and was stopped "
                    "(raise --cell-timeout or narrow the window)",
                    name,
                )
            if name == "DeadKernelError":
                return "the notebook kernel died (out of memory?) before the page finished", name
            return _sentence(name, str(exc)), name
    return None, None


def _sentence(ename: str, evalue: str) -> str:
    text = (evalue or "").strip().splitlines()
    first = text[0] if text else ename
    if ename in ("ConfigError", "DatabaseUnavailable", "QueryFailed", "ActionRefused", "OpsbookError"):
        return first
    return f"a notebook cell raised {ename}: {first}"


def _seal(
    rb: runbooks.Runbook,
    values: Mapping[str, Any],
    folder: Path,
    output: Path,
    started: datetime,
    t0: float,
    error: str | None,
    error_kind: str | None,
    url: str | None,
    kernel_peak_mib: float | None = None,
) -> RunResult:
    import nbformat  # after run()'s fastimport.skip_slow_format_checkers()

    collected = evidence.Collected((), None)
    if output.is_file():
        nb = nbformat.read(output, as_version=4)
        collected = evidence.collect(nb)
        try:
            evidence.export_html(nb, folder / f"{rb.id}.html")
        except Exception as exc:  # the bundle must still be written
            error = error or f"the HTML report could not be rendered ({type(exc).__name__})"
    else:
        error = error or "the notebook did not start"
    findings = collected.findings
    verdict = Verdict.ERROR if error else Verdict(collected.result["verdict"]) if collected.result else decide(findings)
    finished = datetime.now(UTC)
    reported = collected.result or {}
    database = reported.get("database") or {"host": db.display_url(url) if url else "embedded (opsbook_demo)"}
    payload: dict[str, Any] = {
        "runbook": rb.id,
        "section": rb.section,
        "run_id": folder.name,
        "started_at": iso_utc(started),
        "finished_at": iso_utc(finished),
        "seconds": round(time.perf_counter() - t0, 3),
        # the kernel's own figure when the page finished; else the largest reaped child's
        "kernel_peak_rss_mib": reported.get("kernel_peak_rss_mib") or kernel_peak_mib,
        "parameters": redact_parameters(values),
        "environment": values.get("environment"),
        "wi_id": values.get("wi_id") or None,
        "database": database,
        "window": reported.get("window") or _window_of(values),
        "verdict": verdict.value,
        "error": error,
        "findings": [f.to_json() for f in findings],
        "notes": reported.get("notes", []),
        "facts": reported.get("facts", {}),
    }
    evidence.write_json(folder / evidence.RESULT, payload)
    secrets = secret_values([url, os.environ.get(db.ENV_ACTION_URL)])
    leaks = evidence.scrub_secrets(folder, secrets)
    if leaks:
        # Keep the real cause (itself redacted) and add what was found; rewrite result.json from
        # its scrubbed text, never from the in-memory payload, which still holds the secret.
        cause = redact_text(error, secrets)[0] + " · " if error else ""
        error = f"{cause}a secret-looking string was found and redacted in {', '.join(leaks)}; the run is marked ERROR"
        verdict = Verdict.ERROR
        scrubbed = json.loads((folder / evidence.RESULT).read_text(encoding="utf-8"))
        scrubbed.update(verdict=verdict.value, error=error)
        evidence.write_json(folder / evidence.RESULT, scrubbed)
    evidence.write_manifest(folder)
    code = ExitCode.DATABASE_UNAVAILABLE if error_kind == "DatabaseUnavailable" else ExitCode.for_verdict(verdict)
    return RunResult(folder, verdict, findings, error, code, payload["seconds"])


def _window_of(values: Mapping[str, Any]) -> dict[str, str] | None:
    from opslib.timewindow import window_from_parameters

    try:
        w = window_from_parameters(
            str(values.get("since", "")), str(values.get("until", "")), int(values.get("window_minutes", 60))
        )
    except (OpsbookError, ValueError, TypeError):
        return None
    return w.to_json()


def print_summary(result: RunResult, stream: Any = None) -> None:
    out = stream or sys.stdout
    problems = [f for f in result.findings if f.outcome.is_problem]
    print(f"verdict: {result.verdict.value}  ({result.seconds:.1f} s)", file=out)
    for f in sorted(problems, key=lambda x: x.severity.rank if x.severity else 9):
        subject = f" [{f.subject}]" if f.subject else ""
        sev = f.severity.value if f.severity else "-"
        print(redact_text(f"  {sev} {f.outcome.value:<8} {f.check}{subject}: {f.value}{f.unit}")[0], file=out)
    errors = [f for f in result.findings if f.outcome.value == "ERROR"]
    for f in errors:
        # the console is a log too: nothing secret-looking from the data reaches it
        print(redact_text(f"  ERROR    {f.check}: {f.detail}")[0], file=out)
    if result.error:
        print(f"error: {result.error}", file=out)
    print(f"evidence: {result.folder}", file=out)
    report = next(result.folder.glob("*.html"), None)
    if report is not None:
        print(f"  report: {report}", file=out)
