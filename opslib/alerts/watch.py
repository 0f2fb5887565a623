"""`opsbook watch`: the alert board every N minutes, one line per run and every transition.

The runbook says automatic Slack/Pager alerting is UNVERIFIED and incidents are declared by hand;
this loop is where opsbook goes beyond it. Each run is an ordinary `opsbook run alerts` (its own
evidence bundle, kept); the loop compares each run's metrics (result.json facts.metrics) with the
previous run's and prints what crossed into WARN/P0 and back. Optionally (opt-in, URL from
$OPSBOOK_SLACK_WEBHOOK_URL, never printed) a metric turning P0/P1 is posted to a Slack incoming
webhook. SIGINT/SIGTERM stop it cleanly: a run in progress is sealed as any interrupted run is.
"""

from __future__ import annotations

import json
import os
import signal
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from opslib.errors import ConfigError, DatabaseUnavailable, Interrupted
from opslib.masking import redact_text
from opslib.timewindow import kst, now_utc

SLACK_ENV = "OPSBOOK_SLACK_WEBHOOK_URL"
SLACK_TIMEOUT_S = 5.0
# A metric whose severity reaches one of these is posted (P2/P3 are read on the board, not paged).
NOTIFY_SEVERITIES = ("P0", "P1")
PROBLEM = ("WARN", "P0", "P1", "P2", "P3")


@dataclass(frozen=True)
class State:
    """One metric in one run: its board status (OK, WARN, P0, ..., ERROR, NOT_EVALUATED) and severity."""

    status: str
    severity: str | None
    label: str  # "결제 webhook 성공률 [portone]"
    value: Any = None
    unit: str = ""

    @property
    def problem(self) -> bool:
        return self.status in PROBLEM


@dataclass(frozen=True)
class Snapshot:
    """What one board run said, read back from its bundle."""

    at: datetime
    verdict: str
    exit_code: int
    folder: Path | None
    metrics: dict[str, State]
    severity: str | None
    next_command: str
    error: str | None = None


def snapshot(result: Any, at: datetime | None = None) -> Snapshot:
    """A runner.RunResult as the loop compares it: the metrics from result.json (none when the run failed)."""
    data: dict[str, Any] = {}
    with suppress(OSError, ValueError):
        data = json.loads((result.folder / "result.json").read_text(encoding="utf-8"))
    facts = data.get("facts") or {}
    return Snapshot(
        at=at or now_utc(),
        verdict=result.verdict.value,
        exit_code=int(result.exit_code),
        folder=result.folder,
        metrics=metric_states(facts.get("metrics") or []),
        severity=(facts.get("decision") or {}).get("severity"),
        next_command=next(
            (p["command"] for p in (facts.get("decision") or {}).get("next_pages", []) if p.get("page")), ""
        ),
        error=result.error,
    )


def metric_states(metrics: list[Mapping[str, Any]]) -> dict[str, State]:
    out = {}
    for m in metrics:
        key = f"{m['check']}[{m['subject']}]" if m.get("subject") else str(m["check"])
        subject = f" [{m['subject']}]" if m.get("subject") and m["subject"] != "all" else ""
        out[key] = State(
            str(m["status"]),
            m.get("severity"),
            f"{m['domain']} {m['metric']}{subject}",
            m.get("value"),
            m.get("unit", ""),
        )
    return out


@dataclass(frozen=True)
class Transition:
    key: str
    label: str
    before: State | None
    after: State

    @property
    def rising(self) -> bool:
        return self.after.problem

    @property
    def pages(self) -> bool:
        """A metric that turned P0/P1 (or got worse into it): what the Slack notification is for."""
        now = self.after.severity if self.after.problem else None
        was = self.before.severity if self.before is not None and self.before.problem else None
        return now in NOTIFY_SEVERITIES and (was is None or int(now[1]) < int(was[1]))

    def text(self) -> str:
        before = self.before.status if self.before is not None else "-"
        arrow = "▲" if self.rising else "▼"
        value = "" if self.after.value is None else f" ({self.after.value}{self.after.unit})"
        return f"{arrow} {self.label}: {before} → {self.after.status}{value}"


def transitions(before: Snapshot | None, after: Snapshot) -> list[Transition]:
    """Metrics that crossed into a problem (WARN/P0/...), changed problem level, or came back.

    The first run reports every metric already in a problem; a metric that became unmeasurable
    (ERROR, NOT_EVALUATED) after a problem is 'back' only in the sense that it is no longer seen:
    it is reported as such, never as OK.
    """
    out = []
    for key, now in after.metrics.items():
        was = before.metrics.get(key) if before is not None else None
        if was is None:
            if now.problem:
                out.append(Transition(key, now.label, None, now))
            continue
        if now.problem != was.problem or (now.problem and (now.status, now.severity) != (was.status, was.severity)):
            out.append(Transition(key, now.label, was, now))
    return out


def run_line(snap: Snapshot, runs: int) -> str:
    """One line per run: time, verdict, severity, problems, unmeasured, next command, bundle."""
    problems = sum(1 for s in snap.metrics.values() if s.problem)
    unmeasured = sum(1 for s in snap.metrics.values() if s.status in ("ERROR", "NOT_EVALUATED"))
    parts = [
        f"#{runs} {kst(snap.at, '%m-%d %H:%M:%S KST')}",
        f"{snap.verdict}",
        f"심각도 {snap.severity or '-'}",
        f"문제 {problems}/{len(snap.metrics)}",
        f"미측정 {unmeasured}",
    ]
    if snap.next_command:
        parts.append(f"다음: {snap.next_command}")
    if snap.error:
        parts.append(f"error: {snap.error}")
    if snap.folder is not None:
        parts.append(f"evidence: {snap.folder}")
    return redact_text(" · ".join(parts))[0]


def slack_url() -> str | None:
    return os.environ.get(SLACK_ENV, "").strip() or None


def notify_slack(url: str, text: str, timeout: float = SLACK_TIMEOUT_S) -> str | None:
    """POST {"text": ...} to a Slack incoming webhook; None when it was accepted, else why not.

    The reason names the HTTP status or the exception's class only: the URL is the secret.
    """
    body = json.dumps({"text": text}, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            answer.read()
    except urllib.error.HTTPError as exc:
        return f"Slack answered HTTP {exc.code}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return f"Slack unreachable ({reason.__class__.__name__})"
    return None


def slack_text(snap: Snapshot, paging: list[Transition]) -> str:
    lines = [f"[opsbook alerts] {kst(snap.at, '%m-%d %H:%M KST')} 심각도 {snap.severity or '-'} ({snap.verdict})"]
    lines += [f"• {t.text()}" for t in paging]
    if snap.next_command:
        lines.append(f"다음: `{snap.next_command}`")
    lines.append("#ops-incidents 선언은 사람이 합니다 (declaration stays manual, runbook §1)")
    return redact_text("\n".join(lines))[0]


@contextmanager
def _stop_on_signals() -> Iterator[None]:
    """Between runs, SIGTERM stops the loop like Ctrl-C (the runner installs its own during a run)."""

    def handler(signum: int, _frame: Any) -> None:
        raise Interrupted(signum)

    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig in saved:
        signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, previous in saved.items():
            signal.signal(sig, previous)


def loop(
    run_once: Callable[[], Any],
    *,
    interval_s: float,
    count: int = 0,
    emit: Callable[[str], None] = print,
    notify: Callable[[str], str | None] | None = None,
) -> int:
    """Run the board until count runs are done (0: until stopped); the exit code (see the README).

    Finished: the last run's exit code. Stopped by SIGINT/SIGTERM: 130/143, whether it came during
    a run (that run's bundle is sealed, ERROR) or while waiting for the next one.
    """
    from opslib.runner import ExitCode

    previous: Snapshot | None = None
    runs = 0
    last = int(ExitCode.ERROR)
    try:
        with _stop_on_signals():
            while True:
                runs += 1
                try:
                    result = run_once()
                except DatabaseUnavailable as exc:  # a blip is a line, not the end of the watch
                    emit(
                        redact_text(f"#{runs} {kst(now_utc(), '%m-%d %H:%M:%S KST')} · database unavailable: {exc}")[0]
                    )
                    last = int(ExitCode.DATABASE_UNAVAILABLE)
                else:
                    snap = snapshot(result)
                    last = snap.exit_code
                    emit(run_line(snap, runs))
                    if last in (int(ExitCode.INTERRUPTED), int(ExitCode.TERMINATED)):
                        emit("watch: interrupted during a run; its partial bundle is kept")
                        return last
                    changed = transitions(previous, snap)
                    for t in changed:
                        emit(f"   {t.text()}")
                    paging = [t for t in changed if t.pages]
                    if paging and notify is not None:
                        failure = notify(slack_text(snap, paging))
                        emit(f"   slack: {'sent' if failure is None else 'not sent: ' + failure}")
                    previous = snap
                if count and runs >= count:
                    return last
                time.sleep(interval_s)
    except Interrupted as exc:
        emit(f"watch: stopped by {exc.signal_name} after {runs} run(s)")
        return int(ExitCode.INTERRUPTED if exc.signum == signal.SIGINT else ExitCode.TERMINATED)
    except KeyboardInterrupt:
        emit(f"watch: stopped after {runs} run(s)")
        return int(ExitCode.INTERRUPTED)


def check_interval(minutes: float) -> float:
    if not minutes >= 0:
        raise ConfigError(f"--interval {minutes:g} must be zero or a positive number of minutes")
    return minutes * 60.0
