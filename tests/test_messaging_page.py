"""The messaging page (§3-C) executed for real by papermill: the drill matrix, evidence, masking, secrets, the report.

Each messaging scenario is seeded once (scale 1) on top of the healthy baseline; the page must
raise exactly the scenario's ground-truth findings at P0/P1 (nothing else that serious), name
the broken layer, and find the healthy baseline clean.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import psycopg
import pytest
from drills import page_runner
from drills import problems as _problems

from opslib import evidence, runner
from opslib.results import Outcome, Severity, Verdict
from opslib.seed.scenarios import SCENARIOS

MESSAGING_DRILLS = sorted(n for n, s in SCENARIOS.items() if s.runbook == "messaging" or n == "healthy")

# The layer of triage 1 each drill breaks (the three-way split the runbook asks for); push and
# RLS drills break none of the three (their own sections find them).
BROKEN_LAYERS = {
    "healthy": [],
    "dispatcher_secret_mismatch": ["dispatcher"],
    "dispatcher_stalled": ["dispatcher"],
    "messages_stuck_processing": ["dispatcher"],
    "scheduled_dispatch_kill_switch_left_off": ["dispatcher"],
    "realtime_degraded": ["realtime"],
    "push_provider_failures": [],
    "fan_read_policy_dropped": [],
}


@pytest.fixture(scope="module")
def page_run(seeded, tmp_path_factory):
    """page_run(scenario) -> RunResult of the messaging page on that scenario's database."""
    return page_runner("messaging", seeded, tmp_path_factory.mktemp("evidence"))


def test_every_messaging_drill_has_a_layer_expectation():
    assert set(BROKEN_LAYERS) == set(MESSAGING_DRILLS)
    assert len(MESSAGING_DRILLS) == 8


@pytest.mark.parametrize("scenario", MESSAGING_DRILLS)
def test_drill_matrix(scenario, page_run):
    result = page_run(scenario)
    assert result.error is None, result.error
    expected = SCENARIOS[scenario].expected
    problems = _problems(result)
    for e in expected:
        hits = [f for f in problems if f.check == e.check and (e.subject is None or f.subject == e.subject)]
        assert hits, f"{scenario}: {e.check} did not fire; problems were {[f.key for f in problems]}"
        assert any(f.severity.at_least(e.severity) for f in hits), (
            f"{scenario}: {e.check} fired at {[f.severity.value for f in hits]}, expected {e.severity.value} or worse"
        )
    serious = {f.check for f in problems if f.severity and f.severity.at_least(Severity.P1)}
    assert serious <= {e.check for e in expected}, f"{scenario}: unexpected P0/P1 {serious}"
    assert not [f for f in result.findings if f.outcome is Outcome.ERROR], "no step may fail on a seeded database"
    data = json.loads((result.folder / "result.json").read_text())
    assert not [n for n in data["notes"] if "never measured" in n], "every prefetched step is measured by the page"
    assert data["facts"]["broken_layers"] == BROKEN_LAYERS[scenario]
    if scenario == "healthy":
        assert result.verdict is Verdict.PASS, [(f.key, f.severity.value) for f in problems]
        assert data["facts"]["exit_condition_met"] is True
    else:
        assert result.verdict is Verdict.FAIL and result.exit_code == runner.ExitCode.FAIL


def test_the_exit_condition_is_not_met_while_messages_wait(page_run):
    for scenario in ("dispatcher_secret_mismatch", "dispatcher_stalled", "scheduled_dispatch_kill_switch_left_off"):
        facts = json.loads((page_run(scenario).folder / "result.json").read_text())["facts"]
        assert facts["exit_condition_met"] is False, scenario


def _text(html_text: str) -> str:
    """What a reader sees: the report without its tags (code blocks are highlighted span by span)."""
    import html

    return html.unescape(re.sub(r"<[^>]+>", "", html_text))


def test_the_runbook_query_is_shown_verbatim_with_its_answer(page_run):
    from opslib import queries

    result = page_run("dispatcher_secret_mismatch")
    report = _text((result.folder / "messaging.html").read_text(encoding="utf-8"))
    verbatim = queries.get("messaging.runbook_backlog").sql.strip()
    assert verbatim.startswith("SELECT COUNT(*) FROM messages")
    assert verbatim in report, "the runbook's query, word for word, line by line"
    backlog = next(f for f in result.findings if f.check == "messaging.scheduled_backlog")
    answer = re.search(
        r"런북 쿼리 답 \(NOW\(\) 기준\): (\d+)건 · 측정 구간 끝 \d\d:\d\d KST 기준 미발송 (\d+)건", report
    )
    assert answer, "the verbatim query's answer is on the page"
    # NOW() is later than the data's end: posts scheduled since then are due too, none went out
    assert int(answer.group(1)) >= int(answer.group(2)) == int(backlog.value)


def test_dry_runs_of_the_mitigations_are_on_the_page(page_run):
    report = (page_run("scheduled_dispatch_kill_switch_left_off").folder / "messaging.html").read_text(encoding="utf-8")
    for name in (
        "messages-kill-switch",
        "messages-notice-banner",
        "trigger-scheduled-dispatcher",
        "release-stuck-messages",
    ):
        assert name in report
    assert "DRY-RUN" in report and "EXECUTED" not in report
    assert "messages.scheduled_dispatch is off: a run would claim nothing" in report


def test_the_stuck_release_dry_run_lists_what_it_would_release(page_run):
    report = (page_run("messages_stuck_processing").folder / "messaging.html").read_text(encoding="utf-8")
    assert re.search(r"would put \d+ message\(s\) back to pending", report)


def test_bundle_is_complete_masked_and_verifies(page_run, seeded):
    result = page_run("fan_read_policy_dropped")
    names = {p.name for p in result.folder.iterdir()}
    assert names == {"messaging.ipynb", "messaging.html", "result.json", "manifest.json"}
    assert evidence.verify(result.folder) == []
    s = seeded("fan_read_policy_dropped")
    with psycopg.connect(s.db.admin) as conn:
        fans = [
            str(r[0])
            for r in conn.execute(
                "SELECT DISTINCT user_id FROM logs.edge_logs WHERE path = '/rest/v1/messages' AND user_id IS NOT NULL"
                " ORDER BY 1 LIMIT 50"
            ).fetchall()
        ]
        senders = [
            str(r[0]) for r in conn.execute("SELECT DISTINCT sender_id FROM public.messages LIMIT 50").fetchall()
        ]
        message_ids = [
            str(r[0])
            for r in conn.execute("SELECT id FROM public.messages ORDER BY created_at DESC LIMIT 50").fetchall()
        ]
        emails = [r[0] for r in conn.execute("SELECT email FROM auth.users LIMIT 50").fetchall()]
    assert fans and senders and message_ids
    for p in result.folder.iterdir():
        text = p.read_text(encoding="utf-8", errors="replace")
        for raw in fans + senders + message_ids + emails:
            assert raw not in text, f"{p.name} holds an unmasked identifier"


def test_no_secret_reaches_the_bundle(page_run, seeded):
    result = page_run("dispatcher_secret_mismatch")
    s = seeded("dispatcher_secret_mismatch")
    with psycopg.connect(s.db.admin) as conn:
        secret = conn.execute(
            "SELECT decrypted_secret FROM vault.decrypted_secrets WHERE name = 'cron_secret'"
        ).fetchone()[0]
    assert secret
    for p in result.folder.iterdir():
        assert secret.encode() not in p.read_bytes(), p.name


def _vault_digest(seeded, scenario: str) -> str:
    s = seeded(scenario)
    with psycopg.connect(s.db.admin) as conn:
        return conn.execute("SELECT sha256_hex FROM opsbook.cron_secret_sha256()").fetchone()[0]


@pytest.mark.parametrize(("edge", "status", "outcome"), [("same", "MATCH", "OK"), ("other", "MISMATCH", "CRITICAL")])
def test_cron_secret_digests_are_compared_never_shown(seeded, tmp_path, monkeypatch, edge, status, outcome):
    import hashlib

    s = seeded("dispatcher_secret_mismatch")
    vault = _vault_digest(seeded, "dispatcher_secret_mismatch")
    digest = vault if edge == "same" else hashlib.sha256(b"a-rotated-secret").hexdigest()
    monkeypatch.setenv("OPSBOOK_EDGE_CRON_SECRET_SHA256", digest)
    result = runner.run("messaging", {"until": s.as_of.isoformat()}, database_url=s.db.reader, out_dir=tmp_path)
    assert result.error is None, result.error
    found = next(f for f in result.findings if f.check == "cron.secret_digest")
    assert found.outcome.value == outcome
    report = (result.folder / "messaging.html").read_text(encoding="utf-8")
    assert ("다이제스트가 같음" in report) is (status == "MATCH")
    assert ("다이제스트가 다름" in report) is (status == "MISMATCH")
    for p in result.folder.iterdir():
        data = p.read_text(encoding="utf-8", errors="replace")
        assert vault not in data and digest not in data, f"{p.name} holds a whole digest"


def test_without_the_edge_digest_the_page_says_what_it_needs(page_run):
    result = page_run("dispatcher_secret_mismatch")
    found = next(f for f in result.findings if f.check == "cron.secret_digest")
    assert found.outcome is Outcome.NOT_EVALUATED
    report = (result.folder / "messaging.html").read_text(encoding="utf-8")
    assert "OPSBOOK_EDGE_CRON_SECRET_SHA256" in report


def test_empty_contract_database_gives_a_clean_verdict(contract_db, tmp_path):
    result = runner.run("messaging", database_url=contract_db.reader, out_dir=tmp_path)
    assert result.error is None, result.error
    assert result.verdict is Verdict.PASS, [(f.key, f.outcome.value) for f in result.findings if f.outcome.is_problem]
    assert not [f for f in result.findings if f.outcome is Outcome.ERROR]
    facts = json.loads((result.folder / "result.json").read_text())["facts"]
    assert facts["broken_layers"] == []
    silent = next(f for f in result.findings if f.check == "messaging.dispatcher_silent")
    assert silent.outcome is Outcome.NOT_EVALUATED, "an empty drain cannot tell silence from a missing drain"


def test_a_bad_parameter_is_refused_before_the_page_runs(tmp_path, capsys):
    from opslib.cli import main

    code = main(
        [
            "run",
            "messaging",
            "--database-url",
            "postgresql://reader@127.0.0.1:9/app",  # never reached
            "-p",
            "stuck_lock_minutes",
            "2",
            "--out",
            str(tmp_path / "ev"),
        ]
    )
    assert code == runner.ExitCode.USAGE
    err = capsys.readouterr().err
    assert "stuck_lock_minutes" in err and err.count("\n") == 1


def test_html_report_renders_in_chromium(page_run, artifacts: Path):
    from conftest import report_in_chromium

    result = page_run("dispatcher_secret_mismatch")
    html = result.folder / "messaging.html"
    with report_in_chromium(html) as page:
        banner = page.locator(".opsbook-verdict")
        assert banner.count() == 1 and banner.get_attribute("data-verdict") == "FAIL"
        widths = page.eval_on_selector_all("img", "els => els.map(e => e.naturalWidth)")
        assert len(widths) >= 4 and all(w > 100 for w in widths), widths
        page.screenshot(path=str(artifacts / "messaging-report.png"), full_page=True)


@pytest.mark.demo_database
def test_demo_shows_the_messaging_page_and_the_embedded_default_runs_it(tmp_path):
    """`opsbook demo --runbook messaging`, then `opsbook run messaging` with no URL, as the README says."""
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPSBOOK_") or k == "OPSBOOK_HOME"}

    def opsbook(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "opslib.cli", *args], capture_output=True, text=True, timeout=900, env=env, cwd=root
        )

    demo = opsbook("demo", "--runbook", "messaging", "--scale", "1", "--out", str(tmp_path))
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert "running the messaging page" in demo.stdout
    assert "found the injected incident (dispatcher_secret_mismatch)" in demo.stdout
    run = opsbook("run", "messaging", "--out", str(tmp_path), "--quiet")
    assert run.returncode == runner.ExitCode.FAIL, run.stdout + run.stderr
    folder = Path(next(line.split(": ", 1)[1] for line in run.stdout.splitlines() if line.startswith("evidence:")))
    result = json.loads((folder / "result.json").read_text())
    assert result["database"]["user"] == "opsbook_reader"
    assert any(f["check"] == "messaging.scheduled_backlog" and f["severity"] == "P0" for f in result["findings"])
