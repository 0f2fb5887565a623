"""The auth page (§3-B) executed for real by papermill: the drill matrix, masking, secrets, the report.

Each scenario is seeded once (scale 1) on top of the healthy baseline; the page must raise the
scenario's ground-truth findings at the right severity, name the symptom, keep credential
stuffing apart from an outage in both directions, and stay below P1 on the healthy baseline.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import psycopg
import pytest
from drills import assert_expected_fired
from drills import problems as _problems

from opslib import evidence, runner
from opslib.results import Outcome, Severity, Verdict
from opslib.seed.scenarios import SCENARIOS

_RUNS: dict[str, runner.RunResult] = {}

AUTH_DRILLS = sorted(n for n, s in SCENARIOS.items() if s.runbook == "auth" or n == "healthy")
# The symptom (triage 1) each drill must name: the runbook's question "which one is it?"
SYMPTOM = {
    "healthy": "none",
    "login_failure_spike": "new_logins",
    "refresh_token_failures": "session_refresh",
    "credential_stuffing": "none",
    "social_provider_down": "new_logins",
    "auth_rate_limited": "new_logins",
    "rls_denials_after_migration": "rls",
}
# The runbook's exit condition is login success alone: it holds while sessions or RLS fail (the
# verdict still fails on their own findings), and never while users' logins fail.
EXIT_MET = {
    "healthy": True,
    "login_failure_spike": False,
    "refresh_token_failures": True,
    "credential_stuffing": True,
    "social_provider_down": False,
    "auth_rate_limited": False,
    "rls_denials_after_migration": True,
}


@pytest.fixture(scope="module")
def page_run(seeded, tmp_path_factory):
    out = tmp_path_factory.mktemp("evidence")

    def get(scenario: str, **params: object) -> runner.RunResult:
        key = scenario + json.dumps(params, sort_keys=True)
        if key not in _RUNS:
            s = seeded(scenario)
            _RUNS[key] = runner.run(
                "auth",
                {"until": s.as_of.isoformat(), **params},
                database_url=s.db.reader,
                out_dir=out,
                wi_id="WI-DRILL",
            )
        return _RUNS[key]

    return get


# Users' own login attempts in the exit condition's held span (the last 10 minutes), read from the
# contract directly: the baseline's logins are sparse in a quiet hour and a span without a single one
# is "판단 보류" (not met), never "met". The drills that keep users' logins healthy share this count.
BASELINE_LOGINS = """
SELECT count(*) FROM logs.auth_logs
WHERE "timestamp" >= %(until)s::timestamptz - interval '10 minutes' AND "timestamp" < %(until)s::timestamptz
  AND ((path = '/token' AND grant_type IN ('password', 'id_token', 'pkce')) OR path IN ('/callback', '/verify'))
"""


def expected_exit(scenario: str, seeded) -> bool:
    if not EXIT_MET[scenario]:
        return False
    healthy = seeded("healthy")
    with psycopg.connect(healthy.db.admin) as conn:
        (n,) = conn.execute(BASELINE_LOGINS, {"until": healthy.as_of}).fetchone()  # type: ignore[misc]
    return n > 0


def _facts(result: runner.RunResult) -> dict:
    return json.loads((result.folder / "result.json").read_text())["facts"]


def test_every_auth_drill_has_a_symptom():
    assert set(AUTH_DRILLS) == set(SYMPTOM) == set(EXIT_MET)


@pytest.mark.parametrize("scenario", AUTH_DRILLS)
def test_drill_matrix(scenario, page_run, seeded):
    result = page_run(scenario)
    assert result.error is None, result.error
    problems = assert_expected_fired(scenario, result)
    data = json.loads((result.folder / "result.json").read_text())
    assert not [n for n in data["notes"] if "never measured" in n], "every prefetched step is measured"
    assert data["facts"]["symptom"] == SYMPTOM[scenario], data["facts"]
    assert data["database"]["user"] == "opsbook_reader"
    assert not [f for f in result.findings if f.outcome is Outcome.ERROR], "no step failed to measure"
    if scenario == "healthy":
        worst = [f for f in problems if f.severity.at_least(Severity.P1)]
        assert not worst, f"healthy baseline raised {[(f.key, f.severity.value) for f in worst]}"
        assert result.verdict is Verdict.PASS, [(f.key, f.severity.value) for f in problems]
    else:
        assert result.verdict is Verdict.FAIL and result.exit_code == runner.ExitCode.FAIL
    met = expected_exit(scenario, seeded)
    assert data["facts"]["exit_condition_met"] is met, (data["facts"], data["exit_state"]["sentence"])
    if EXIT_MET[scenario] and not met:
        assert "판단 보류" in data["exit_state"]["sentence"], "no attempt in the span: undecided, not a bad rate"


def test_credential_stuffing_is_not_read_as_an_outage(page_run, seeded):
    result = page_run("credential_stuffing")
    problems = {f.check for f in _problems(result)}
    assert "auth.credential_stuffing" in problems
    assert not problems & {"auth.login_failure_rate", "auth.token_server_errors", "auth.social_provider_failure"}
    stuffing = next(f for f in result.findings if f.check == "auth.credential_stuffing")
    assert stuffing.severity is Severity.P1, "a security incident, not the P0 of an outage"
    facts = _facts(result)
    assert facts["credential_stuffing"] is True and facts["symptom"] == "none"
    assert facts["exit_condition_met"] is expected_exit("credential_stuffing", seeded), (
        "users' own logins held: the attack does not hold the exit back"
    )


def test_an_outage_is_not_read_as_stuffing(page_run):
    result = page_run("login_failure_spike")
    problems = {f.check for f in _problems(result)}
    assert not problems & {"auth.credential_stuffing", "auth.user_hammering", "auth.stuffing_account_takeover"}
    assert _facts(result)["credential_stuffing"] is False
    report = (result.folder / "auth.html").read_text(encoding="utf-8")
    assert "GoTrue가 5xx/무응답" in report, "the diagnosis names the server side"


def test_social_outage_names_the_one_provider(page_run):
    facts = _facts(page_run("social_provider_down"))
    assert facts["failing_providers"] == ["kakao"]


IDENTIFIERS = {
    "ip": re.compile(r"\b(?:45\.133\.1\.1[01]|185\.220\.101\.7|211\.\d{1,3}\.\d{1,3}\.\d{1,3})\b"),
    "email": re.compile(r"\b(?:fan|creator|ops\.admin)\d+@example\.com\b"),
    "phone": re.compile(r"\+8210\d{8}"),
    "uuid": re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\b"),
}


@pytest.mark.parametrize("scenario", ["credential_stuffing", "rls_denials_after_migration"])
def test_no_raw_identifier_in_the_bundle(scenario, page_run):
    result = page_run(scenario)
    for p in result.folder.iterdir():
        text = p.read_text(encoding="utf-8", errors="replace")
        if p.suffix == ".ipynb":
            # the executed notebook's code cells are ours; its outputs are what matter
            nb = json.loads(text)
            text = json.dumps([c.get("outputs", []) for c in nb["cells"]], ensure_ascii=False)
        for kind, pattern in IDENTIFIERS.items():
            found = pattern.findall(text)
            assert not found, f"{scenario}: raw {kind} in {p.name}: {found[:3]}"
    assert (
        "45.133.x.x" in (result.folder / "auth.html").read_text(encoding="utf-8") or scenario != "credential_stuffing"
    )


def test_bundle_is_complete_and_verifies(page_run):
    result = page_run("login_failure_spike")
    assert {p.name for p in result.folder.iterdir()} == {"auth.ipynb", "auth.html", "result.json", "manifest.json"}
    assert evidence.verify(result.folder) == []


def test_empty_contract_database_gives_a_clean_verdict(contract_db, tmp_path):
    result = runner.run("auth", database_url=contract_db.reader, out_dir=tmp_path)
    assert result.error is None, result.error
    assert result.verdict is Verdict.PASS
    assert not [f for f in result.findings if f.outcome is Outcome.ERROR]
    facts = json.loads((result.folder / "result.json").read_text())["facts"]
    assert facts["exit_condition_met"] is False, "no login at all is 'cannot judge', never 'met'"


def test_bad_parameters_are_refused_before_the_page_runs(tmp_path, capsys):
    from opslib.cli import main

    for name, value in (("jwt_expiry_seconds", "5"), ("probe_timeout_s", "0"), ("slow_ms", "-1")):
        code = main(
            ["run", "auth", "--database-url", "postgresql://reader@127.0.0.1:9/app", "-p", name, value,
             "--out", str(tmp_path / "ev")]
        )  # fmt: skip
        assert code == runner.ExitCode.USAGE, name
        err = capsys.readouterr().err
        assert name in err and err.count("\n") == 1, err


def test_html_report_renders_in_chromium(page_run, artifacts: Path):
    from conftest import report_in_chromium

    result = page_run("social_provider_down")
    html = result.folder / "auth.html"
    with report_in_chromium(html) as page:
        banner = page.locator(".opsbook-verdict")
        assert banner.count() == 1 and banner.get_attribute("data-verdict") == "FAIL"
        assert "로그인 점검 중" in page.content(), "the notice's wording is on the page"
        assert "정책적으로 금지" in page.content()
        widths = page.eval_on_selector_all("img", "els => els.map(e => e.naturalWidth)")
        assert len(widths) >= 2 and all(w > 100 for w in widths), widths
        page.screenshot(path=str(artifacts / "auth-report.png"), full_page=True)


def test_the_anon_key_probe_runs_in_the_page_and_the_key_is_in_no_file(seeded, tmp_path, monkeypatch):
    """The recovery probe through the whole notebook, against a local stub (127.0.0.1) the test starts."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    key = "eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoiYW5vbiIsImlzcyI6InN1cGFiYXNlIn0.c2lnbmF0dXJlLW9mLXRoZS10ZXN0"

    class Healthy(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200 if self.headers.get("apikey") == key else 401)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Healthy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("SUPABASE_URL", f"http://127.0.0.1:{server.server_address[1]}")
        monkeypatch.setenv("SUPABASE_ANON_KEY", key)
        s = seeded("healthy")
        result = runner.run(
            "auth",
            {"until": s.as_of.isoformat(), "probe_health": True, "probe_timeout_s": 5.0},
            database_url=s.db.reader,
            out_dir=tmp_path,
        )
    finally:
        server.shutdown()
        server.server_close()
    assert result.error is None, result.error
    probe = next(f for f in result.findings if f.check == "auth.anon_key_probe")
    assert probe.outcome is Outcome.OK and probe.value == 0, probe.detail
    assert result.verdict is Verdict.PASS, "nothing secret was found and redacted (that would be ERROR)"
    for p in result.folder.iterdir():
        data = p.read_bytes()
        assert key.encode() not in data and key.split(".")[1].encode() not in data, p.name
