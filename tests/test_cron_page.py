"""The cron page (§3-F) executed for real by papermill: the drill matrix, the empty contract
database, the reader role, masking, secrets, the digest comparison end to end, the actions.

Each drill is seeded once (scale 1) on top of the healthy baseline; the page must raise the
drill's ground-truth findings at the right severity and stay below P1 on the healthy baseline.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import psycopg
import pytest
from drills import assert_expected_fired
from drills import problems as _problems

from opslib import actions, embedded, evidence, runner
from opslib.dispatcher import EDGE_SECRET_ENV
from opslib.errors import ActionRefused, ConfigError
from opslib.results import Outcome, Severity, Verdict
from opslib.seed.scenarios import SCENARIOS
from opslib.seed.scenarios.cron_secret_mismatch import ROTATED_VAULT_SECRET

_RUNS: dict[str, runner.RunResult] = {}
CRON_DRILLS = [*sorted(n for n, s in SCENARIOS.items() if s.runbook == "cron"), "healthy"]
EDGE_SECRET = "the-edge-functions-cron-secret-0001"  # what CRON_SECRET holds in the drill


@pytest.fixture(scope="module")
def page_run(seeded, tmp_path_factory):
    """page_run(scenario, **env) -> RunResult of the cron page on that drill's database."""
    out = tmp_path_factory.mktemp("evidence")

    def get(scenario: str, **env: str) -> runner.RunResult:
        key = scenario + "|" + ",".join(f"{k}={v}" for k, v in sorted(env.items()))
        if key not in _RUNS:
            s = seeded(scenario)
            with pytest.MonkeyPatch.context() as mp:
                mp.delenv(EDGE_SECRET_ENV, raising=False)
                for k, v in env.items():
                    mp.setenv(k, v)
                _RUNS[key] = runner.run(
                    "cron", {"until": s.as_of.isoformat()}, database_url=s.db.reader, out_dir=out, wi_id="WI-CRON"
                )
        return _RUNS[key]

    return get


@pytest.mark.parametrize("scenario", CRON_DRILLS)
def test_drill_matrix(scenario, page_run):
    result = page_run(scenario)
    assert result.error is None, result.error
    problems = assert_expected_fired(scenario, result)
    data = json.loads((result.folder / "result.json").read_text())
    assert not [n for n in data["notes"] if "never measured" in n], "every prefetched step is measured by the page"
    assert not [f for f in result.findings if f.outcome is Outcome.ERROR], [
        (f.key, f.detail) for f in result.findings if f.outcome is Outcome.ERROR
    ]
    if scenario == "healthy":
        assert not problems, f"healthy baseline raised {[(f.key, f.severity.value) for f in problems]}"
        assert result.verdict is Verdict.PASS
        assert data["facts"]["exit_condition_met"] is True
    else:
        worst = min(e.severity.rank for e in SCENARIOS[scenario].expected)
        assert result.verdict is (Verdict.FAIL if worst <= 1 else Verdict.CONDITIONAL_PASS) or (
            result.verdict is Verdict.FAIL
        ), result.verdict
        if scenario != "cleanup_not_running":
            assert data["facts"]["exit_condition_met"] is False, f"{scenario}: the incident is ongoing"


def test_bundle_is_complete_masked_and_secret_free(page_run):
    result = page_run("cron_secret_mismatch")
    names = {p.name for p in result.folder.iterdir()}
    assert names == {"cron.ipynb", "cron.html", "result.json", "manifest.json"}
    assert evidence.verify(result.folder) == []
    vault_digest = hashlib.sha256(ROTATED_VAULT_SECRET.encode()).hexdigest()
    for p in result.folder.iterdir():
        text = p.read_text(errors="replace")
        assert ROTATED_VAULT_SECRET not in text and "replace-me" not in text, p.name
        assert vault_digest[:16] not in text, f"{p.name}: more than a short digest prefix"
        # the drill's rate-limit keys and message ids carry IPs and user ids: none unmasked
        assert not re.search(r"\b203\.0\.113\.\d+\b", text), p.name
        assert not re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}", text), p.name


def test_secret_digests_compared_end_to_end(page_run):
    """The on-call sets the Edge digest; the page compares it with Vault's inside the database."""
    edge = hashlib.sha256(EDGE_SECRET.encode()).hexdigest()
    mismatch = page_run("cron_secret_mismatch", **{EDGE_SECRET_ENV: edge})
    facts = json.loads((mismatch.folder / "result.json").read_text())["facts"]
    assert facts["cron_secret"] == "MISMATCH"
    (digest,) = [f for f in mismatch.findings if f.check == "cron.secret_digest"]
    assert digest.outcome is Outcome.CRITICAL and digest.severity is Severity.P1
    for p in mismatch.folder.iterdir():
        assert edge not in p.read_text(errors="replace"), p.name
    vault = hashlib.sha256(ROTATED_VAULT_SECRET.encode()).hexdigest()
    match = page_run("cron_secret_mismatch", **{EDGE_SECRET_ENV: vault})
    assert json.loads((match.folder / "result.json").read_text())["facts"]["cron_secret"] == "MATCH"
    unset = page_run("cron_secret_mismatch")
    (nd,) = [f for f in unset.findings if f.check == "cron.secret_digest"]
    assert nd.outcome is Outcome.NOT_EVALUATED and EDGE_SECRET_ENV in nd.detail


def test_a_malformed_edge_digest_is_refused_before_the_page_runs(seeded, tmp_path, monkeypatch):
    s = seeded("healthy")
    monkeypatch.setenv(EDGE_SECRET_ENV, "not-a-digest")
    with pytest.raises(ConfigError, match="not a 64-character"):
        runner.run("cron", {"until": s.as_of.isoformat()}, database_url=s.db.reader, out_dir=tmp_path)


def test_empty_contract_database_is_clean(contract_db, tmp_path):
    result = runner.run("cron", {}, database_url=contract_db.reader, out_dir=tmp_path)
    assert result.error is None, result.error
    assert not [f for f in result.findings if f.outcome is Outcome.ERROR], [
        (f.key, f.detail) for f in result.findings if f.outcome is Outcome.ERROR
    ]
    # the contract registers its five jobs; nothing ever ran (no worker in the shim): an empty
    # history cannot tell missed runs from a pg_cron that records none, so it is not judged
    assert result.verdict is Verdict.PASS, [(f.key, f.severity) for f in _problems(result)]
    registered = [f for f in result.findings if f.check == "cron.job_registered"]
    assert len(registered) == 5 and all(f.outcome is Outcome.OK for f in registered)
    missed = [f for f in result.findings if f.check == "cron.missed_runs"]
    assert missed and all(f.outcome is Outcome.NOT_EVALUATED and "no run of any job" in f.detail for f in missed)


def test_actions_dry_run_then_run_once_and_pause_with_audit(seeded):
    s = seeded("healthy")
    url = embedded.url(s.db.name, user=embedded.ACTOR_ROLE)
    plan = actions.perform("cron-run-job-once", target="scheduled-dispatcher", database_url=url)
    assert not plan.executed and "invoke_edge_function('scheduled-dispatcher'" in plan.before["command"]
    with pytest.raises(ActionRefused, match="does not match"):
        actions.perform("cron-run-job-once", target="scheduled-dispatcher", confirm="cron-pause-job", database_url=url)
    with pytest.raises(ActionRefused, match="--target"):
        actions.perform("cron-run-job-once", confirm="cron-run-job-once", database_url=url)
    with psycopg.connect(s.db.admin) as conn:
        (seq_before,) = conn.execute("SELECT last_value FROM net.http_request_queue_id_seq").fetchone()
    ran = actions.perform(
        "cron-run-job-once",
        target="scheduled-dispatcher",
        confirm="cron-run-job-once",
        reason="drill",
        wi_id="WI-CRON",
        database_url=url,
    )
    assert ran.executed and ran.after["request_id"] == seq_before + 1
    assert len(ran.audit_rows) == 1 and ran.audit_rows[0]["action"] == "cron.run_once"
    with pytest.raises(ActionRefused, match="already run once"):
        actions.perform(
            "cron-run-job-once", target="scheduled-dispatcher", confirm="cron-run-job-once", database_url=url
        )
    sql_job = actions.perform(
        "cron-run-job-once", target="rate-limits-cleanup", confirm="cron-run-job-once", database_url=url
    )
    assert sql_job.executed and sql_job.after["request_id"] is None
    paused = actions.perform("cron-pause-job", target="payment-reconcile", confirm="cron-pause-job", database_url=url)
    assert paused.changed and paused.after["active"] is False
    again = actions.perform("cron-pause-job", target="payment-reconcile", confirm="cron-pause-job", database_url=url)
    assert again.executed and not again.changed and again.audit_rows == ()
    resumed = actions.perform(
        "cron-pause-job", target="payment-reconcile", confirm="cron-pause-job", undo=True, database_url=url
    )
    assert resumed.after["active"] is True
    with psycopg.connect(s.db.admin) as conn:
        rows = conn.execute(
            "SELECT action, target_id, after->>'request_id' FROM public.admin_audit_log"
            " WHERE target_type = 'cron_job' ORDER BY id"
        ).fetchall()
        (active,) = conn.execute("SELECT active FROM cron.job WHERE jobname = 'payment-reconcile'").fetchone()
        queued = conn.execute("SELECT count(*) FROM net.http_request_queue WHERE id = %s", (seq_before + 1,)).fetchone()
    assert [(a, t) for a, t, _ in rows] == [
        ("cron.run_once", "scheduled-dispatcher"),
        ("cron.run_once", "rate-limits-cleanup"),
        ("cron.pause", "payment-reconcile"),
        ("cron.resume", "payment-reconcile"),
    ]
    assert rows[0][2] == str(seq_before + 1) and active is True and queued == (1,)


def test_the_reader_cannot_act_and_the_actor_cannot_read_vault(seeded):
    s = seeded("healthy")
    reader = embedded.libpq_url(s.db.name, user=embedded.READER_ROLE)
    with psycopg.connect(reader) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("SELECT * FROM opsbook.run_cron_job_once('scheduled-dispatcher')")
    actor = embedded.libpq_url(s.db.name, user=embedded.ACTOR_ROLE)
    with psycopg.connect(actor) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("SELECT * FROM opsbook.cron_secret_sha256()")


def test_html_report_in_chromium(page_run, artifacts: Path):
    from conftest import report_in_chromium

    result = page_run("cron_secret_mismatch")
    html = result.folder / "cron.html"
    with report_in_chromium(html) as page:
        banner = page.locator(".opsbook-verdict")
        assert banner.count() == 1 and banner.get_attribute("data-verdict") == "FAIL"
        assert page.locator("img").count() >= 1
        page.screenshot(path=str(artifacts / "cron-report.png"), full_page=True)
