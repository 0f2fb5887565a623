"""Execute a runbook page headlessly with papermill and leave its evidence bundle.

The notebook runs in-process (papermill's Python API, no `papermill` or `jupyter`
subprocess) with an immediate kernel shutdown: the FIELD-NOTES measured 0.76 s against
1.1-3.5 s for the alternatives. The notebook is not rewritten after every cell (that
re-validates and rewrites the whole file, ~0.45 s a run): the runner keeps a reference to
nbclient's in-memory notebook instead, and writes it, however far it got, when a cell
raises or times out, the kernel dies, or SIGINT/SIGTERM arrives. A folder left by SIGKILL
keeps its INCOMPLETE marker (evidence.py).
"""

from __future__ import annotations

import enum
import json
import os
import signal
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
from opslib.errors import ConfigError, Interrupted, OpsbookError
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
    5 DATABASE_UNAVAILABLE: the database could not be reached or went away during the run (the
      embedded one is stopped, frozen or was stopped mid-run); once the page started, the bundle
      is written, ERROR.
    6 EVIDENCE_UNWRITABLE: the evidence could not be written (read-only or full disk, --out is
      a file); the folder, if any, keeps its INCOMPLETE marker.
    130 / 143 INTERRUPTED / TERMINATED: SIGINT / SIGTERM during the run; the partial bundle is
      written and sealed, ERROR "interrupted at step N".
    """

    PASS = 0
    FAIL = 1
    USAGE = 2
    CONDITIONAL_PASS = 3
    ERROR = 4
    DATABASE_UNAVAILABLE = 5
    EVIDENCE_UNWRITABLE = 6
    INTERRUPTED = 130
    TERMINATED = 143

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
    headline: tuple[str, ...] = ()  # the page's first sentences (the real cause, "nothing to judge")


SECRET_ENV_HINTS = (
    "PORTONE_WEBHOOK_SECRET",
    "SUPABASE_SERVICE_ROLE_KEY",
    "CRON_SECRET",
    "TOSS_SECRET_KEY",
    "SUPABASE_ANON_KEY",  # §3-B probe: public by design, still never written to evidence
    "OPSBOOK_SLACK_WEBHOOK_URL",  # opsbook watch: the incoming-webhook URL is its own secret
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


EVIDENCE_DIR_ENV = "OPSBOOK_EVIDENCE_DIR"
# The run's bundle folder, for a page that keeps files of its own there (the smoke page's screenshots).
ENV_RUN_FOLDER = "OPSBOOK_RUN_FOLDER"


@contextmanager
def _kernel_environment(database_url: str | None, run_folder: Path | None = None):
    """The kernel inherits this process's environment: the URL travels there, not in a cell."""
    names = (db.ENV_URL, "JUPYTER_PLATFORM_DIRS", "PYDEVD_DISABLE_FILE_VALIDATION", EVIDENCE_DIR_ENV, ENV_RUN_FOLDER)
    saved = {k: os.environ.get(k) for k in names}
    if database_url:
        os.environ[db.ENV_URL] = database_url
    if run_folder is not None:
        os.environ[ENV_RUN_FOLDER] = str(run_folder.resolve())
        # where every run's bundle is written: the deploy page looks for the smoke run beside its own
        os.environ[EVIDENCE_DIR_ENV] = str(run_folder.parent.resolve())
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
    elif db.configured_url():
        # checked here as the flag is: a bad URL in the environment is a usage error, not a page
        # that starts, fails in its first cell and leaves an ERROR bundle
        try:
            db.normalise_url(str(db.configured_url()))
        except ConfigError as exc:
            raise ConfigError(f"${db.ENV_URL}: {exc}") from None
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
    """Run one page; always returns (with the bundle written) unless the input was refused.

    Refused before anything is written: bad input (ConfigError), a stopped or unreachable
    embedded database (DatabaseUnavailable), an --out that cannot hold a run folder
    (EvidenceUnwritable). A disk that fails while sealing raises EvidenceUnwritable with
    the folder left marked INCOMPLETE.
    """
    rb, values = prepare(runbook_id, given or {}, database_url=database_url, wi_id=wi_id)
    url_for_kernel = database_url or db.configured_url()
    if url_for_kernel is None:
        # The embedded default must already run: opsbook run never starts it behind the user's back.
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
    signals = _Signals()
    with signals.raising():
        try:
            outcome = _execute(
                rb,
                values,
                output,
                url_for_kernel,
                cell_timeout,
                progress,
                on_event,
                signals,
                on_kernel_ready=kernel_ready.set,
            )
        except Interrupted as exc:  # before the kernel answered, or between cells and the seal
            outcome = _Outcome(None, _interrupted_sentence(exc.signal_name, None), "Interrupted", None, exc.signum)
        finally:
            kernel_ready.set()
    warm.join()
    # The seal is short: a signal that arrives now waits until the bundle is complete.
    with signals.held():
        return _seal(rb, values, folder, output, started, t0, outcome, url_for_kernel, _kernel_peak_mib())


class _Signals:
    """SIGINT/SIGTERM during a run end it early with its evidence, never silently.

    Before the kernel answers, the signal raises Interrupted. Once cells run, it interrupts
    the kernel instead (a KeyboardInterrupt in the running cell, which then shows where it
    stopped) and kills it KILL_AFTER_S later if it has not stopped; papermill then ends
    and the runner seals the partial bundle. While sealing, signals wait for the seal.
    """

    WATCHED = (signal.SIGINT, signal.SIGTERM)
    KILL_AFTER_S = 5.0

    def __init__(self) -> None:
        self.received: int | None = None
        self.kernel_running = False
        self._killer: threading.Timer | None = None

    def _usable(self) -> bool:
        return threading.current_thread() is threading.main_thread()

    @contextmanager
    def raising(self):  # type: ignore[no-untyped-def]
        def handler(signum: int, _frame: Any) -> None:
            first = self.received is None
            self.received = self.received or signum
            if not self.kernel_running:
                raise Interrupted(signum)
            if first:
                _signal_kernels(signal.SIGINT)
                self._killer = threading.Timer(self.KILL_AFTER_S, _signal_kernels, (signal.SIGKILL,))
                self._killer.daemon = True
                self._killer.start()
            else:  # asked twice: no more waiting
                _signal_kernels(signal.SIGKILL)

        try:
            with self._installed(handler):
                yield
        finally:
            if self._killer is not None:
                self._killer.cancel()

    @contextmanager
    def held(self):  # type: ignore[no-untyped-def]
        def handler(signum: int, _frame: Any) -> None:
            self.received = self.received or signum

        with self._installed(handler):
            yield

    @contextmanager
    def _installed(self, handler: Callable[[int, Any], None]):  # type: ignore[no-untyped-def]
        if not self._usable():
            yield
            return
        saved = {sig: signal.getsignal(sig) for sig in self.WATCHED}
        for sig in self.WATCHED:
            signal.signal(sig, handler)
        try:
            yield
        finally:
            for sig, previous in saved.items():
                signal.signal(sig, previous)


def _signal_kernels(signum: int) -> None:
    """Signal this process's notebook kernels (its ipykernel children; Linux /proc)."""
    me = os.getpid()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text(encoding="ascii", errors="replace").rsplit(")", 1)[1].split()
            if int(fields[1]) != me:
                continue
            cmdline = (stat.parent / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        if b"ipykernel" in cmdline:
            with suppress(ProcessLookupError):
                os.kill(int(stat.parent.name), signum)


def _interrupted_sentence(signal_name: str, where: str | None) -> str:
    at = f" at {where}" if where else " before the first step"
    return f"interrupted{at} ({signal_name}); the rest of the page was not measured"


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


@dataclass
class _Outcome:
    """How the execution ended: the in-memory notebook (however far it got) and why it stopped."""

    nb: Any
    error: str | None
    error_kind: str | None
    failed_cell: Any  # the cell object running when it stopped (indices shift when papermill adds banners)
    signum: int | None = None
    written: bool = False


def _execute(
    rb: runbooks.Runbook,
    values: Mapping[str, Any],
    output: Path,
    url: str | None,
    cell_timeout: int,
    progress: bool,
    on_event: Callable[[str], None] | None,
    signals: _Signals,
    on_kernel_ready: Callable[[], None] = lambda: None,
) -> _Outcome:
    import logging

    import papermill
    from papermill.exceptions import PapermillExecutionError

    # papermill hands its logger to nbclient, which logs at ERROR when a cell times out or the kernel dies;
    # the runner says the same in its own sentence (with what to do), so the console would say it twice
    logging.getLogger("papermill").setLevel(logging.CRITICAL)
    logging.getLogger("traitlets").setLevel(logging.ERROR)
    if on_event:
        on_event(f"executing {rb.notebook.name} ...")
    live: dict[str, Any] = {"nb": None, "cell": None}
    partial = output.with_name(f".{output.stem}.partial{output.suffix}")

    def notebook_started(notebook: Any = None, **_: Any) -> None:
        live["nb"] = notebook  # nbclient's own notebook: outputs land here as the kernel sends them
        signals.kernel_running = True
        on_kernel_ready()

    def cell_started(cell: Any = None, **_: Any) -> None:
        live["cell"] = cell

    with _kernel_environment(url, output.parent):
        try:
            _with_kernel_port_retry(
                lambda: papermill.execute_notebook(
                    str(rb.notebook),
                    str(partial),
                    parameters=dict(values),
                    kernel_name="python3",
                    # Saving after every cell re-validates and rewrites the whole notebook (~0.45 s a run).
                    # papermill writes the output once at the end, also when a cell raised; for the other
                    # endings (timeout, dead kernel, signal) the runner writes nbclient's in-memory notebook.
                    request_save_on_cell_execute=False,
                    progress_bar=progress,
                    log_output=False,
                    execution_timeout=cell_timeout,
                    start_timeout=60,
                    shutdown_kernel="immediate",
                    # the kernel's "running over TCP without encryption" notice is noise on every run (loopback only)
                    extra_arguments=["--IPKernelApp.log_level=ERROR"],
                    cwd=str(rb.notebook.parent),
                    # nbclient's hooks: once the kernel answers (before the first cell), and at each cell
                    on_notebook_start=notebook_started,
                    on_cell_start=cell_started,
                ),
                live,
            )
        except PapermillExecutionError as exc:
            if signals.received is not None:  # the kernel was interrupted for us
                outcome = _Outcome(live["nb"], None, "Interrupted", live["cell"], signals.received)
            else:
                outcome = _Outcome(live["nb"], _sentence(exc.ename, exc.evalue), exc.ename, live["cell"])
            outcome.written = partial.is_file()
        except Interrupted as exc:
            outcome = _Outcome(live["nb"], None, "Interrupted", live["cell"], exc.signum)
        except Exception as exc:  # nbclient timeouts, dead kernels, a disk that fails: no executed-cell context
            if isinstance(exc, OSError) and exc.errno is not None:  # papermill could not write the notebook
                partial.unlink(missing_ok=True)
                raise evidence.unwritable(output.parent, exc) from None
            outcome = _ended_early(exc, live, signals, cell_timeout)
        else:
            outcome = _Outcome(live["nb"], None, None, None, written=True)
            if signals.received is not None:  # arrived as the last cell finished
                outcome = _Outcome(live["nb"], None, "Interrupted", live["cell"], signals.received, written=True)
    if outcome.signum is not None:
        name = signal.Signals(outcome.signum).name
        outcome.error = _interrupted_sentence(name, _where(outcome.nb, outcome.failed_cell))
    _keep_notebook(outcome, partial, output)
    return outcome


KERNEL_START_TRIES = 3
_KERNEL_START_FAILURES = ("ZMQError", "RuntimeError", "DeadKernelError")


def _with_kernel_port_retry(execute: Callable[[], Any], live: dict[str, Any]) -> Any:
    """Run execute(); start again when the kernel could not bind its ports before it ran anything.

    jupyter_client picks free ports by binding and releasing them, and the kernel binds them a moment
    later: under parallel runs another process can take one in between (ZMQError "Address already in
    use"). The kernel exits and never answers: nothing has run, so starting again is safe. Once the
    kernel answered (live["nb"] is set by on_notebook_start), any error is the page's."""
    for attempt in range(KERNEL_START_TRIES):
        try:
            return execute()
        except Exception as exc:
            # the kernel exits on the bind error: the client sees a kernel that died before answering
            never_started = live["nb"] is None and type(exc).__name__ in _KERNEL_START_FAILURES
            if not never_started or attempt == KERNEL_START_TRIES - 1:
                raise
    return None


def _ended_early(exc: Exception, live: dict[str, Any], signals: _Signals, cell_timeout: int) -> _Outcome:
    name = type(exc).__name__
    if signals.received is not None:
        return _Outcome(live["nb"], None, "Interrupted", live["cell"], signals.received)
    # which step: the on-call engineer narrows that step's window, or knows what was left unmeasured
    where = _where(live["nb"], live["cell"])
    at = f" at {where}" if where else ""
    if name == "CellTimeoutError":
        sentence = (
            f"a cell ran longer than {cell_timeout} s and was stopped{at}; raise --cell-timeout or narrow the window"
        )
    elif name == "DeadKernelError":
        sentence = f"the notebook kernel died (out of memory?){at} before the page finished"
    else:
        sentence = _sentence(name, str(exc))
    return _Outcome(live["nb"], sentence, name, live["cell"])


def _keep_notebook(outcome: _Outcome, partial: Path, output: Path) -> None:
    """The executed notebook under its final name, written whole or not at all."""
    try:
        if not outcome.written and outcome.nb is not None:
            import nbformat

            _mark_not_measured(outcome.nb, _index_of(outcome.nb, outcome.failed_cell), outcome.error or "")
            evidence.write_atomically(partial, nbformat.writes(outcome.nb))
        elif outcome.written and outcome.error and outcome.nb is not None and partial.is_file():
            import nbformat

            nb = nbformat.read(partial, as_version=4)
            if _mark_not_measured(nb, _find_failed_cell(nb), outcome.error):
                evidence.write_atomically(partial, nbformat.writes(nb))
        if partial.is_file():
            os.replace(partial, output)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise evidence.unwritable(output.parent, exc) from None


NOT_MEASURED_TAG = "opsbook-not-measured"


def _find_failed_cell(nb: Any) -> int | None:
    for i, cell in enumerate(nb.cells):
        if any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
            return i
    return None


def _mark_not_measured(nb: Any, failed_cell: int | None, why: str) -> bool:
    """A note after the cell where the page stopped: the steps below it were not measured."""
    import nbformat

    if failed_cell is None or failed_cell >= len(nb.cells) - 1:
        return False
    if not any(c.cell_type == "code" for c in nb.cells[failed_cell + 1 :]):
        return False
    note = nbformat.v4.new_markdown_cell(
        f"> **이후 단계는 측정되지 않았습니다 (not measured below this point).** {why}"
    )
    note.metadata["tags"] = [NOT_MEASURED_TAG]
    nb.cells.insert(failed_cell + 1, note)
    return True


def _index_of(nb: Any, cell: Any) -> int | None:
    if nb is None or cell is None:
        return None
    return next((i for i, c in enumerate(nb.cells) if c is cell), None)


def _where(nb: Any, cell: Any) -> str | None:
    """'step 4 of 18 (2. 5분 트리아지 ...)': the page's code cells, not counting parameters."""
    cell_index = _index_of(nb, cell)
    if cell_index is None:
        return None
    steps = [
        i
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and not {"parameters", "injected-parameters"} & set(c.metadata.get("tags", []))
    ]
    if cell_index not in steps:
        return None
    heading = next(
        (
            line.lstrip("#").strip()
            for c in reversed(nb.cells[:cell_index])
            if c.cell_type == "markdown"
            for line in c.source.splitlines()
            if line.startswith("#")
        ),
        None,
    )
    at = f"step {steps.index(cell_index) + 1} of {len(steps)}"
    return f"{at} ({heading})" if heading else at


def _sentence(ename: str, evalue: str) -> str:
    text = (evalue or "").strip().splitlines()
    first = text[0] if text else ename
    if ename in ("ConfigError", "DatabaseUnavailable", "QueryFailed", "ActionRefused", "OpsbookError", "LockBlocked"):
        return first
    return f"a notebook cell raised {ename}: {first}"


def _seal(
    rb: runbooks.Runbook,
    values: Mapping[str, Any],
    folder: Path,
    output: Path,
    started: datetime,
    t0: float,
    outcome: _Outcome,
    url: str | None,
    kernel_peak_mib: float | None = None,
) -> RunResult:
    try:
        return _write_bundle(rb, values, folder, output, started, t0, outcome, url, kernel_peak_mib)
    except OSError as exc:
        # the INCOMPLETE marker stays: the folder says it was never sealed
        raise evidence.unwritable(folder, exc) from None


def _write_bundle(
    rb: runbooks.Runbook,
    values: Mapping[str, Any],
    folder: Path,
    output: Path,
    started: datetime,
    t0: float,
    outcome: _Outcome,
    url: str | None,
    kernel_peak_mib: float | None,
) -> RunResult:
    import nbformat  # after run()'s fastimport.skip_slow_format_checkers()

    error, error_kind = outcome.error, outcome.error_kind
    if error_kind == "DatabaseUnavailable":
        where = _where(outcome.nb, outcome.failed_cell)
        if where:
            error = f"{error} (at {where}); the rest of the page was not measured"
    collected = evidence.Collected((), None)
    html_s: float | None = None
    if output.is_file():
        nb = nbformat.read(output, as_version=4)
        if rb.personal and _mask_personal(nb, rb.personal):
            evidence.write_atomically(output, nbformat.writes(nb))
        collected = evidence.collect(nb)
        try:
            html_t0 = time.perf_counter()
            evidence.export_html(nb, folder / f"{rb.id}.html")
            html_s = round(time.perf_counter() - html_t0, 4)
        except OSError:
            raise
        except Exception as exc:  # the bundle must still be written
            error = error or f"the HTML report could not be rendered ({type(exc).__name__})"
    else:
        error = error or "the notebook did not start"
    findings = collected.findings
    verdict = Verdict.ERROR if error else Verdict(collected.result["verdict"]) if collected.result else decide(findings)
    finished = datetime.now(UTC)
    reported = collected.result or {}
    database = reported.get("database") or {"host": db.display_host(url) if url else "embedded (opsbook_demo)"}
    payload: dict[str, Any] = {
        "runbook": rb.id,
        "section": rb.section,
        "run_id": folder.name,
        "started_at": iso_utc(started),
        "finished_at": iso_utc(finished),
        "seconds": round(time.perf_counter() - t0, 3),
        # the kernel's own figure when the page finished; else the largest reaped child's
        "kernel_peak_rss_mib": reported.get("kernel_peak_rss_mib") or kernel_peak_mib,
        "parameters": {k: (PERSONAL if k in rb.personal and v else v) for k, v in redact_parameters(values).items()},
        "environment": reported.get("environment") or values.get("environment"),  # the page's label
        "wi_id": values.get("wi_id") or None,
        "database": database,
        "window": reported.get("window") or _window_of(values),
        "verdict": verdict.value,
        "headline": reported.get("headline", []),
        "error": error,
        "findings": [f.to_json() for f in findings],
        "notes": reported.get("notes", []),
        "facts": reported.get("facts", {}),
        # where the time went: the page's steps (SQL query by query) and charts, and the HTML report
        "timings": {**(reported.get("timings") or {}), "html_s": html_s},
        # what the top of the report says: mitigations to run, the exit state, causes counted once
        # and what the incident page (§1) collects: first bad bucket, affected items keyed once
        **{k: reported[k] for k in ("mitigations", "exit_state", "cause_groups", "incident") if k in reported},
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
    evidence.seal(folder)
    if outcome.signum is not None:
        code = ExitCode.INTERRUPTED if outcome.signum == signal.SIGINT else ExitCode.TERMINATED
    elif error_kind == "DatabaseUnavailable":
        code = ExitCode.DATABASE_UNAVAILABLE
    else:
        code = ExitCode.for_verdict(verdict)
    return RunResult(folder, verdict, findings, error, code, payload["seconds"], tuple(payload["headline"]))


PERSONAL = "***personal: in the post-mortem only***"


def _mask_personal(nb: Any, names: frozenset[str]) -> bool:
    """The injected parameters (cell and papermill metadata) without the values of personal parameters."""
    import re

    changed = False
    recorded = nb.metadata.get("papermill", {}).get("parameters", {})
    for name in names & set(recorded):
        if recorded[name]:
            recorded[name] = PERSONAL
            changed = True
    for cell in nb.cells:
        if "injected-parameters" in cell.get("metadata", {}).get("tags", []):
            for name in names:
                masked = re.sub(rf"(?m)^{re.escape(name)} = (?!\"\")(.*)$", f"{name} = {PERSONAL!r}", cell.source)
                if masked != cell.source:
                    cell.source = masked
                    changed = True
    return changed


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
    for line in result.headline:
        print(redact_text(f"  {line}")[0], file=out)
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
