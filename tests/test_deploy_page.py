"""The post-deploy page (§2) executed for real by papermill: the drill matrix (bad_deploy, healthy_deploy),
the Sentry API line against a local stub (the token never in the bundle), the smoke bundle of the
same WI, masking, the empty contract database and refused parameters.

One papermill run per drill, shared by the assertions about it (module-scoped).
"""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from drills import assert_expected_fired

from opslib import evidence, runner
from opslib.errors import ConfigError
from opslib.results import Outcome, Severity, Verdict
from opslib.seed.scenarios import SCENARIOS
from opslib.seed.scenarios.bad_deploy import ERROR
from opslib.sentry import TOKEN_ENV, URL_ENV

DEPLOY_DRILLS = sorted(n for n, s in SCENARIOS.items() if s.runbook == "deploy")
TOKEN = "sntrys_opsbook_test_token_0123456789abcdef"
RELEASE = "v3.4.2+8c1f2ab"
_RUNS: dict[str, runner.RunResult] = {}


class _Sentry(BaseHTTPRequestHandler):
    """A stand-in for Sentry's issues API on 127.0.0.1: answers only with the right bearer token."""

    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        type(self).seen.append(self.path)
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self.send_response(401)
            self.end_headers()
            return
        body = json.dumps(
            [
                {
                    "id": "1",
                    "shortId": "FANAPP-7Q",
                    "title": "TypeError: Cannot read properties of undefined (reading 'batch')",
                    "level": "error",
                    "count": "42",
                    "userCount": 17,
                    "firstSeen": "2099-01-01T00:00:00Z",
                    "firstRelease": {"version": RELEASE},
                },
                {
                    "id": "2",
                    "title": "an old issue of the previous release",
                    "level": "error",
                    "count": "3",
                    "firstSeen": "2020-01-01T00:00:00Z",
                    "firstRelease": {"version": "v3.4.1"},
                },
            ]
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def sentry_stub():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Sentry)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def page_run(seeded, tmp_path_factory, sentry_stub):
    """page_run(scenario) -> RunResult; bad_deploy reads Sentry through the stub's API with a token."""
    out = tmp_path_factory.mktemp("evidence")

    def get(scenario: str) -> runner.RunResult:
        if scenario not in _RUNS:
            s = seeded(scenario)
            params = {"until": s.as_of.isoformat()}
            with pytest.MonkeyPatch.context() as mp:
                mp.delenv(TOKEN_ENV, raising=False)
                if scenario == "bad_deploy":
                    mp.setenv(TOKEN_ENV, TOKEN)
                    mp.setenv(URL_ENV, sentry_stub)
                    params |= {"release": RELEASE, "sentry_org": "fanapp", "sentry_project": "web"}
                _RUNS[scenario] = runner.run(
                    "deploy", params, database_url=s.db.reader, out_dir=out / scenario, wi_id="WI-DEPLOY"
                )
        return _RUNS[scenario]

    return get


@pytest.mark.parametrize("scenario", DEPLOY_DRILLS)
def test_drill_matrix(scenario, page_run):
    result = page_run(scenario)
    assert result.error is None, result.error
    problems = assert_expected_fired(scenario, result)
    data = json.loads((result.folder / "result.json").read_text())
    errors = [(f.key, f.detail) for f in result.findings if f.outcome is Outcome.ERROR]
    assert not errors, errors
    (judged,) = [f for f in result.findings if f.check == "deploy.compared"]
    assert judged.outcome is Outcome.OK and judged.value >= 5, (judged.value, judged.detail)
    facts = data["facts"]["deployment"]
    assert facts["inferred"] is True and facts["judged"] == ["scheduled-dispatcher"]
    assert facts["changed"] == {
        "scheduled-dispatcher": {"previous": "scheduled-dispatcher@v17", "new": ["scheduled-dispatcher@v18"]}
    }
    if scenario == "healthy_deploy":
        assert not problems, f"healthy deploy raised {[(f.key, f.severity.value) for f in problems]}"
        assert result.verdict is Verdict.PASS
        assert data["facts"]["exit_condition_met"] is True and facts["complete"] is True
        # no Sentry source and no smoke run of the WI: the met exit says what is left by hand
        assert "남은 확인 (still to check): Sentry 신규 에러" in data["exit_state"]["sentence"]
        assert not [m for m in data["mitigations"] if m["needed"] and m["action"] == "deploy-rollback"]
    else:
        # exactly the ground truth, no other problem
        expected = {(e.check, e.subject) for e in SCENARIOS[scenario].expected}
        deploy_problems = {(f.check, f.subject) for f in problems if f.check.startswith("deploy.")}
        assert deploy_problems <= expected | {("deploy.sentry_new_errors", RELEASE)}, deploy_problems
        assert result.verdict is Verdict.FAIL
        assert data["facts"]["exit_condition_met"] is False and facts["complete"] is False
        (five,) = [f for f in result.findings if f.check == "deploy.function_5xx"]
        assert five.severity is Severity.P1 and "Fisher" in five.detail and "p < 0.0001" in five.detail


def test_bad_deploy_says_what_to_do_now(page_run):
    result = page_run("bad_deploy")
    data = json.loads((result.folder / "result.json").read_text())
    (rollback,) = [m for m in data["mitigations"] if m["action"] == "deploy-rollback"]
    assert rollback["needed"] and "#ops-incidents" in rollback["label"]
    # Sentry's new issue implicates the web build too: reverse order, web first, then the function
    assert rollback["command"].startswith("롤백: 웹")
    assert "Edge Functions (scheduled-dispatcher → scheduled-dispatcher@v17)" in rollback["command"]
    assert "opsbook action messages-kill-switch --confirm messages-kill-switch" in rollback["command"]
    report = (result.folder / "deploy.html").read_text()
    assert "지금 할 일" in report and "roll back or pull the kill switch now" in report
    assert report.index("data-verdict='FAIL'") < report.index("무엇이 바뀌었나")  # the verdict first


def test_sentry_api_through_a_local_stub_and_the_token_never_leaks(page_run):
    result = page_run("bad_deploy")
    (sentry,) = [f for f in result.findings if f.check == "deploy.sentry_new_errors"]
    assert sentry.outcome is Outcome.WARN and sentry.value == 1, (sentry.outcome, sentry.value, sentry.detail)
    assert any(f"firstRelease%3A{RELEASE.replace('+', '%2B')}" in p for p in _Sentry.seen), _Sentry.seen
    for p in result.folder.iterdir():
        text = p.read_text(errors="replace")
        assert TOKEN not in text and TOKEN[:16] not in text, p.name


def test_smoke_bundle_of_the_same_wi_is_found(page_run, tmp_path):
    """A sealed smoke bundle for the WI (as every run leaves one) is read; another WI's is ignored."""
    from datetime import UTC, datetime, timedelta

    import pandas as pd

    from opslib.deploy.changes import Deployment
    from opslib.deploy.smoke import smoke_run

    result = page_run("healthy_deploy")
    (none_yet,) = [f for f in result.findings if f.check == "deploy.smoke_run"]
    assert none_yet.outcome is Outcome.NOT_EVALUATED and "WI-DEPLOY" in none_yet.detail
    deploy_at = datetime.now(UTC) - timedelta(minutes=20)
    for wi, verdict in (("WI-DEPLOY", "FAIL"), ("WI-OTHER", "PASS")):
        folder = evidence.new_run_folder(tmp_path, "smoke", deploy_at + timedelta(minutes=8), wi)
        evidence.write_json(
            folder / evidence.RESULT,
            {
                "runbook": "smoke",
                "wi_id": wi,
                "verdict": verdict,
                "started_at": (deploy_at + timedelta(minutes=8)).isoformat(),
            },
        )
        evidence.seal(folder)
    dep = Deployment(
        deploy_at=deploy_at,
        inferred=False,
        release="",
        before=None,
        after=None,
        observe_minutes=60,
        observation_ends=None,
        changes=(),
        judged=(),
        requested=(),
        table=pd.DataFrame(),
        events=pd.DataFrame(),
        sentence="",
        findings=(),
    )
    view = smoke_run(None, dep, "WI-DEPLOY", str(tmp_path))
    (f,) = view.findings
    assert f.outcome is Outcome.CRITICAL and f.severity is Severity.P1 and "FAIL" in f.detail
    assert len(view.bundles) == 1 and view.latest and "WI-DEPLOY" in view.latest


def test_bundle_is_masked(page_run):
    result = page_run("bad_deploy")
    assert evidence.verify(result.folder) == []
    for p in result.folder.iterdir():
        text = p.read_text(errors="replace")
        assert not re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}", text), p.name
        assert not re.search(r"\b211\.\d+\.\d+\.\d+\b", text), p.name
    assert ERROR[:40] in (result.folder / "deploy.html").read_text()  # the new error line is shown


def _cannot_judge(result: runner.RunResult, why: str) -> None:
    """Nothing to compare is never PASS: the verdict says it could not judge (ERROR, exit 4), with why on top."""
    assert result.error is None, result.error
    assert result.verdict is Verdict.ERROR and result.exit_code == runner.ExitCode.ERROR, (
        result.verdict,
        [(f.key, f.outcome.value) for f in result.findings if f.outcome is not Outcome.OK],
    )
    (judged,) = [f for f in result.findings if f.check == "deploy.compared"]
    assert judged.outcome is Outcome.ERROR and why in judged.detail, judged.detail
    # the only check that could not run is the page's own judgement: nothing failed to measure
    assert [f.key for f in result.findings if f.outcome is Outcome.ERROR] == ["deploy.compared"]
    assert not [f.key for f in result.findings if f.outcome is Outcome.OK and f.check.startswith("deploy.")], [
        (f.key, f.detail) for f in result.findings if f.outcome is Outcome.OK
    ]
    assert judged.detail in result.headline
    data = json.loads((result.folder / "result.json").read_text())
    assert data["verdict"] == "ERROR" and data["exit_state"]["met"] is None  # nothing to observe is not "met"
    report = (result.folder / "deploy.html").read_text(encoding="utf-8")
    banner = report[report.index("data-verdict='ERROR'") :]
    assert banner.index("판정 불가 (ERROR)") < banner.index(why) < banner.index("무엇이 바뀌었나")
    assert banner[: banner.index("무엇이 바뀌었나")].count(why) == 1, "the reason is said once, on top"


def test_empty_contract_database_cannot_be_judged(contract_db, tmp_path):
    result = runner.run("deploy", {}, database_url=contract_db.reader, out_dir=tmp_path)
    _cannot_judge(result, "관찰할 배포가 없습니다")
    (change,) = [f for f in result.findings if f.check == "deploy.version_change"]
    assert change.outcome is Outcome.NOT_EVALUATED and "no version change" in change.detail
    # the read-permission line says what its number counts (it read as a bare 0)
    report = (result.folder / "deploy.html").read_text(encoding="utf-8")
    assert "0개 테이블 읽기 불가 (tables not fully readable)" in report


def test_a_deploy_with_no_logs_either_side_cannot_be_judged(contract_db, tmp_path):
    """A deploy time given, and no function call, gateway request, webhook or console line on either side."""
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC)
    params = {"deploy_at": (now - timedelta(minutes=40)).isoformat(), "until": now.isoformat()}
    result = runner.run("deploy", params, database_url=contract_db.reader, out_dir=tmp_path)
    _cannot_judge(result, "배포 전후 모두 비교할 트래픽이 없습니다")
    (logs,) = [f for f in result.findings if f.check == "deploy.function_log_errors"]
    assert logs.outcome is Outcome.NOT_EVALUATED, "no console line at all is not '0 errors an hour, OK'"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"observe_minutes": 20}, "between 30 and 60"),
        ({"observe_minutes": 90}, "between 30 and 60"),
        ({"deploy_at": "yesterday"}, "not an ISO-8601"),
        ({"functions": "payment-webhook; rm -rf /"}, "not an Edge Function name"),
        ({"sentry_org": "fanapp", "sentry_project": "web"}, "release must name"),
        ({"sentry_org": "fanapp", "release": "v1"}, "go together"),
        ({"sentry_export": "/nonexistent.json", "release": "v1"}, "no such file"),
        ({"evidence_dir": "/nonexistent-dir"}, "no such folder"),
    ],
)
def test_bad_parameters_are_refused_before_a_kernel_starts(params, message, tmp_path):
    with pytest.raises(ConfigError, match=message):
        runner.run("deploy", params, out_dir=tmp_path)
    assert not list(Path(tmp_path).iterdir())
