"""The storage page (§3-D) executed for real by papermill: the drill matrix, the empty contract database,
the reader role, masking, the opt-in probe (local stub) and no secret in any file."""

from __future__ import annotations

import json
import re
import threading
import typing
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psycopg
import pytest
from drills import assert_expected_fired

from opslib import evidence, runner
from opslib.results import Outcome, Severity, Verdict
from opslib.seed.scenarios import SCENARIOS

_RUNS: dict[str, runner.RunResult] = {}
STORAGE_DRILLS = sorted(n for n, s in SCENARIOS.items() if s.runbook == "storage" or n == "healthy")
KEY = "sb_secret_" + "Qx7" * 12


@pytest.fixture(scope="module")
def page_run(seeded, tmp_path_factory):
    out = tmp_path_factory.mktemp("evidence")

    def get(scenario: str, params: dict | None = None, **env: str) -> runner.RunResult:
        key = scenario + json.dumps(params or {}, sort_keys=True) + ",".join(sorted(env))
        if key not in _RUNS:
            s = seeded(scenario)
            with pytest.MonkeyPatch.context() as mp:
                for k, v in env.items():
                    mp.setenv(k, v)
                _RUNS[key] = runner.run(
                    "storage",
                    {"until": s.as_of.isoformat(), **(params or {})},
                    database_url=s.db.reader,
                    out_dir=out,
                    wi_id="WI-DRILL",
                )
        return _RUNS[key]

    return get


def _facts(result: runner.RunResult) -> dict:
    return json.loads((result.folder / "result.json").read_text())["facts"]


@pytest.mark.parametrize("scenario", STORAGE_DRILLS)
def test_drill_matrix(scenario, page_run):
    result = page_run(scenario)
    assert result.error is None, result.error
    problems = assert_expected_fired(scenario, result)
    data = json.loads((result.folder / "result.json").read_text())
    assert not [n for n in data["notes"] if "never measured" in n], "every prefetched step is measured"
    assert not [f for f in result.findings if f.outcome is Outcome.ERROR], "nothing failed to measure"
    if scenario == "healthy":
        worst = [f for f in problems if f.severity.at_least(Severity.P1)]
        assert not worst, f"healthy baseline raised {[(f.key, f.severity.value) for f in worst]}"
        assert result.verdict is Verdict.PASS, [f.key for f in problems]
        assert data["facts"]["exit_condition_met"] in (True, False)
    else:
        assert result.verdict is Verdict.FAIL and result.exit_code == runner.ExitCode.FAIL
    assert evidence.verify(result.folder) == []


def test_what_each_drill_says_about_symptom_cause_and_exit(page_run):
    up = _facts(page_run("upload_failures"))
    assert up["leading_symptom"] == "upload" and up["failure_cause"] == "network" and up["exit_condition_met"] is False
    read = _facts(page_run("read_policy_dropped"))
    assert read["leading_symptom"] == "read" and read["failure_cause"] == "rls"
    cors = page_run("cors_misconfigured")
    cors_problems = {f.check for f in cors.findings if f.outcome.is_problem}
    assert "storage.upload_success_rate" not in cors_problems, "mobile uploads still work: the rate stays normal"
    html = (cors.folder / "storage.html").read_text(encoding="utf-8")
    assert "https://fanapp.kr" in html, "the blocked origin is named"


def test_public_bucket_drill_offers_the_private_switch_as_a_dry_run(page_run):
    result = page_run("bucket_made_public")
    html = (result.folder / "storage.html").read_text(encoding="utf-8")
    assert "storage-bucket-private" in html and "DRY-RUN" in html
    assert "--target message-media --confirm storage-bucket-private" in html
    exposure = next(f for f in result.findings if f.check == "storage.public_exposure")
    assert exposure.subject == "message-media" and exposure.value > 1000, "the objects affected are counted"


def test_masking_no_raw_user_id_in_the_bundle(page_run, seeded):
    result = page_run("read_policy_dropped")
    with psycopg.connect(seeded("read_policy_dropped").db.admin) as conn:
        ids = {str(r[0]) for r in conn.execute("SELECT id FROM auth.users")}
    for p in result.folder.iterdir():
        text = p.read_text(encoding="utf-8", errors="replace")
        found = set(re.findall(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", text)) & ids
        assert not found, f"{p.name} shows user ids unmasked: {sorted(found)[:3]}"


class _Stub(BaseHTTPRequestHandler):
    calls: typing.ClassVar[list[str]] = []

    def _ok(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        _Stub.calls.append(self.command)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    do_POST = _ok
    do_DELETE = _ok

    def log_message(self, *args: object) -> None:
        pass


def test_opt_in_probe_against_a_local_stub_says_rls_and_never_writes_the_key(page_run):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Stub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        result = page_run(
            "read_policy_dropped",
            {"service_role_probe": True},
            SUPABASE_URL=f"http://127.0.0.1:{server.server_address[1]}",
            SUPABASE_SERVICE_ROLE_KEY=KEY,
        )
    finally:
        server.shutdown()
        server.server_close()
    assert result.error is None, result.error
    assert _Stub.calls == ["POST", "DELETE"]
    probe = next(f for f in result.findings if f.check == "storage.service_role_probe")
    assert probe.outcome is Outcome.OK
    assert _facts(result)["failure_cause"] == "rls"
    for p in result.folder.iterdir():
        assert KEY not in p.read_text(encoding="utf-8", errors="replace"), p.name


def test_empty_contract_database_gives_a_clean_verdict(contract_db, tmp_path):
    result = runner.run("storage", database_url=contract_db.reader, out_dir=tmp_path)
    assert result.error is None, result.error
    assert result.verdict is Verdict.PASS, [(f.key, f.outcome.value) for f in result.findings if f.outcome.is_problem]
    assert not [f for f in result.findings if f.outcome is Outcome.ERROR]


def test_a_mistyped_private_bucket_is_said_in_the_dry_run_and_the_page_goes_on(contract_db, tmp_path):
    # the dry-run raised "storage bucket 'nope' does not exist" and the page stopped at that step (ERROR,
    # exit 4): its exit condition and the steps after it were not measured
    result = runner.run("storage", {"private_bucket": "nope"}, database_url=contract_db.reader, out_dir=tmp_path)
    assert result.error is None and result.verdict is not Verdict.ERROR, result.error
    report = (result.folder / "storage.html").read_text(encoding="utf-8")
    assert "storage bucket &#x27;nope&#x27; does not exist" in report and "private_bucket" in report
    data = json.loads((result.folder / "result.json").read_text(encoding="utf-8"))
    assert data.get("exit_state") is not None, "the exit condition after the dry-run was measured"


@pytest.mark.parametrize(
    ("name", "value"),
    [("probe_timeout_s", "120"), ("bucket_quota_gb", "0"), ("exit_hold_minutes", "0"), ("probe_path", "../x")],
)
def test_bad_parameters_are_refused_before_the_page_runs(name, value, tmp_path, capsys):
    from opslib.cli import main

    code = main(
        [
            "run",
            "storage",
            "--database-url",
            "postgresql://reader@127.0.0.1:9/app",
            "-p",
            name,
            value,
            "--out",
            str(tmp_path / "ev"),
        ]
    )
    assert code == runner.ExitCode.USAGE
    assert name in capsys.readouterr().err
