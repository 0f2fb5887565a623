"""The alert board (§4-E, §0) executed for real by papermill, and `opsbook watch` as a process.

One papermill run per database: a payments drill (the demo's default incident: the board must
send the engineer to payments at P0), the healthy baseline (nothing at P0/P1), and the empty
contract as the reader role with a Sentry export and a reported symptom. `opsbook watch` runs
once against the drill with a Slack stub on 127.0.0.1, then is stopped by SIGTERM.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from opslib import evidence, runner
from opslib.alerts import watch
from opslib.errors import ConfigError
from opslib.results import Outcome, Severity, Verdict

_RUNS: dict[str, runner.RunResult] = {}
WI = "WI-ALERT"


@pytest.fixture(scope="module")
def board_run(seeded, tmp_path_factory):
    out = tmp_path_factory.mktemp("evidence")

    def get(scenario: str) -> runner.RunResult:
        if scenario not in _RUNS:
            s = seeded(scenario)
            _RUNS[scenario] = runner.run(
                "alerts", {"until": s.as_of.isoformat()}, database_url=s.db.reader, out_dir=out, wi_id=WI
            )
        return _RUNS[scenario]

    return get


def _command(page: str, scenario: str, seeded) -> str:
    """The board was given the drill's end (until): the next page is told to measure the same moment."""
    return f"opsbook run {page} --wi {WI} -p until {seeded(scenario).as_of.isoformat()}"


def _result(run: runner.RunResult) -> dict:
    return json.loads((run.folder / "result.json").read_text(encoding="utf-8"))


def test_a_payments_incident_sends_the_engineer_to_payments_at_p0(board_run, seeded):
    run = board_run("webhook_secret_mismatch")  # what `opsbook demo` injects by default
    assert run.error is None, run.error
    assert run.verdict is Verdict.FAIL and run.exit_code == runner.ExitCode.FAIL
    data = _result(run)
    decision = data["facts"]["decision"]
    assert decision["severity"] == "P0" and decision["update_cadence"] == "15분"
    first = decision["next_pages"][0]
    command = _command("payments", "webhook_secret_mismatch", seeded)
    assert (first["page"], first["severity"], first["command"]) == ("payments", "P0", command)
    # the command is the banner's first "지금 할 일", and the §0 sentence heads the report
    assert data["mitigations"][0]["command"] == first["command"]
    assert data["headline"][-1].startswith("§0: P0")
    html = (run.folder / "alerts.html").read_text(encoding="utf-8")
    assert "지금 할 일" in html and command in html
    # every metric, machine-readable: value, lines, source, status
    metrics = data["facts"]["metrics"]
    assert {m["check"] for m in metrics} >= {
        "payments.webhook_success_rate",
        "payments.negative_balance",
        "auth.login_failure_rate",
        "messaging.scheduled_backlog",
        "messaging.realtime_latency_p95",
        "alerts.db_p95_response",
        "alerts.edge_cold_start",
        "alerts.crash_free_sessions",
    }
    for m in metrics:
        assert {"domain", "metric", "value", "warn", "critical", "source", "status"} <= set(m), m
        assert m["status"] in ("OK", "WARN", "P0", "P1", "P2", "P3", "ERROR", "NOT_EVALUATED")
        if m["value"] is None:
            assert m["status"] != "OK", m
    portone = next(m for m in metrics if m["check"] == "payments.webhook_success_rate" and m["subject"] == "portone")
    assert portone["status"] == "P0" and portone["value"] < 95 and portone["critical"] == "< 95%"
    # the drill's §4-E ground truth is on the board at its severity
    truth = [e for e in run.findings if e.check == "payments.webhook_success_rate" and e.subject == "portone"]
    assert truth and truth[0].severity is Severity.P0


def test_bundle_is_complete_verified_masked_and_secret_free(board_run):
    run = board_run("webhook_secret_mismatch")
    assert {p.name for p in run.folder.iterdir()} == {"alerts.ipynb", "alerts.html", "result.json", "manifest.json"}
    assert evidence.verify(run.folder) == []
    for path in run.folder.iterdir():
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"[\w.+-]+@example\.(com|org|net)", text), f"raw email in {path.name}"
        assert not re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}", text), path.name
        assert "whsec_" not in text and "password=" not in text.lower()


def test_healthy_baseline_raises_nothing_at_p0_or_p1(board_run):
    run = board_run("healthy")
    assert run.error is None, run.error
    urgent = [f for f in run.findings if f.outcome.is_problem and f.severity and f.severity.at_least(Severity.P1)]
    assert not urgent, [(f.key, f.value, f.detail) for f in urgent]
    assert not [f for f in run.findings if f.outcome is Outcome.ERROR], [
        (f.key, f.detail) for f in run.findings if f.outcome is Outcome.ERROR
    ]
    data = _result(run)
    assert data["facts"]["decision"]["severity"] in (None, "P2", "P3")
    coverage = {c["도메인"]: c["측정됨 (measured)"] for c in data["facts"]["coverage"]}
    # the states (balances, backlog) are measured at any hour; Sentry is not given
    assert coverage["결제"] and coverage["메시지"] and coverage["크래시"] == 0


def test_the_board_measures_the_section_4e_rows_not_the_pages_triage(board_run):
    """The drill's §4-E truth is on the board; its triage checks (signatures, stuck payments) stay on payments."""
    run = board_run("webhook_secret_mismatch")
    found = {f.check for f in run.findings}
    assert "payments.webhook_success_rate" in found
    assert not found & {"payments.webhook_signature_failures", "payments.pg_paid_db_pending"}


def test_empty_contract_as_reader_with_sentry_export_and_symptom(contract_db, tmp_path):
    """Hand-built: the bare contract (nothing drained, nothing sold), a Sentry export at 98.2 %
    crash-free over 8,000 sessions, and someone reporting 로그인/세션 장애. Expected before the run:
    crash-free is P0 (< 99 %), so the board is FAIL at P0 and names Sentry first and the auth page
    (reported, P1) next; every log metric is NOT_EVALUATED, never OK; so are the balances and the
    backlog (no wallet account, no message: "0 negative" and "0 overdue" measured nothing); coverage is
    크래시 alone = 1 of 5 (P3): a domain counts only when one of its metrics had data to judge."""
    export = tmp_path / "sentry-sessions.json"
    export.write_text(
        json.dumps({"groups": [{"by": {}, "totals": {"sum(session)": 8000, "crash_free_rate(session)": 0.982}}]})
    )
    run = runner.run(
        "alerts",
        {"sentry_sessions_file": str(export), "symptom": "로그인/세션 장애"},
        database_url=contract_db.reader,
        out_dir=tmp_path / "ev",
    )
    assert run.error is None, run.error
    assert run.verdict is Verdict.FAIL
    data = _result(run)
    statuses = {m["check"]: m["status"] for m in data["facts"]["metrics"]}
    assert statuses["alerts.crash_free_sessions"] == "P0"
    for check in (
        "payments.webhook_success_rate",
        "payments.negative_balance",
        "auth.login_failure_rate",
        "messaging.scheduled_backlog",
        "messaging.realtime_latency_p95",
        "alerts.edge_cold_start",
        "alerts.db_p95_response",
    ):
        assert statuses[check] == "NOT_EVALUATED", (check, statuses[check])
    details = {m["check"]: m["detail"] for m in data["facts"]["metrics"]}
    assert "no user wallet account" in details["payments.negative_balance"]
    assert "no message at all" in details["messaging.scheduled_backlog"]
    coverage = {c["도메인"]: c["측정됨 (measured)"] for c in data["facts"]["coverage"]}
    assert coverage == {"결제": 0, "인증": 0, "메시지": 0, "인프라": 0, "크래시": 1}, coverage
    pages = [(p["page"], p["severity"]) for p in data["facts"]["decision"]["next_pages"]]
    assert pages == [(None, "P0"), ("auth", "P1")]
    assert data["facts"]["decision"]["next_pages"][1]["command"] == "opsbook run auth --wi WI-TBD"
    cov = next(f for f in run.findings if f.check == "alerts.domain_coverage")
    assert (cov.value, cov.severity) == (1, Severity.P3) and "측정 못 한 도메인: 결제" in cov.detail


def test_bad_input_is_refused_before_any_kernel(monkeypatch, tmp_path):
    with pytest.raises(ConfigError, match="§0"):
        runner.prepare("alerts", {"symptom": "결제가 이상함"}, database_url=None, wi_id=None)
    monkeypatch.delenv("SENTRY_AUTH_TOKEN", raising=False)
    with pytest.raises(ConfigError, match="SENTRY_AUTH_TOKEN"):
        runner.prepare("alerts", {"sentry_api": "true", "sentry_org": "x"}, database_url=None, wi_id=None)
    with pytest.raises(ConfigError, match="no such file"):
        runner.prepare("alerts", {"sentry_sessions_file": str(tmp_path / "nope.json")}, database_url=None, wi_id=None)


def test_watch_loop_counts_runs_and_exits_with_the_last_code(board_run):
    run = board_run("webhook_secret_mismatch")
    lines: list[str] = []
    sent: list[str] = []
    code = watch.loop(lambda: run, interval_s=0, count=2, emit=lines.append, notify=lambda t: sent.append(t))
    assert code == int(runner.ExitCode.FAIL)
    runs = [line for line in lines if line.startswith("#")]
    assert len(runs) == 2 and "FAIL" in runs[0] and f"opsbook run payments --wi {WI}" in runs[0]
    # the first run reports what is already wrong; the same board again is no news
    assert any("▲" in line and "webhook 성공률 [portone]" in line for line in lines)
    assert sum("▲" in line for line in lines[lines.index(runs[1]) :]) == 0
    assert len(sent) == 1 and "payments" in sent[0]


class _Slack(BaseHTTPRequestHandler):
    posts: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        _Slack.posts.append(self.rfile.read(length).decode("utf-8"))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def slack() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Slack)
    _Slack.posts = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/services/T0/B0/the-slack-secret-path"
    server.shutdown()


def test_watch_process_notifies_slack_and_stops_cleanly_on_sigterm(seeded, slack, tmp_path):
    s = seeded("webhook_secret_mismatch")
    env = {**os.environ, watch.SLACK_ENV: slack, "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "opslib.cli", "watch", "--interval", "10", "--notify-slack", "--wi", WI]
    cmd += ["--database-url", s.db.reader, "--out", str(tmp_path / "ev"), "-p", "until", s.as_of.isoformat()]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    deadline = time.monotonic() + 180
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if line.strip().startswith("slack:"):
            break
    assert any(line.strip() == "slack: sent" for line in lines), lines
    time.sleep(0.5)  # now sleeping until the next run
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    lines += out.splitlines()
    assert proc.returncode == int(runner.ExitCode.TERMINATED), (proc.returncode, lines, err)
    assert "watch: stopped by SIGTERM after 1 run(s)" in lines
    assert len(list((tmp_path / "ev").iterdir())) == 1, "each run keeps its bundle"
    assert len(_Slack.posts) == 1 and "payments" in json.loads(_Slack.posts[0])["text"]
    assert "the-slack-secret-path" not in "\n".join(lines) + err
