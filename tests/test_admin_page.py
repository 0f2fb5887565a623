"""The admin page (§3-E) executed for real by papermill: the drill matrix, the empty database, masking, secrets.

Each admin drill is seeded once (scale 1) on top of the healthy baseline; the page must raise the
drill's ground-truth findings at the right severity and stay below P1 on the healthy baseline.
"""

from __future__ import annotations

import json
import re

import psycopg
import pytest
from drills import assert_expected_fired, page_runner
from drills import problems as _problems

from opslib import evidence, runner
from opslib.results import Outcome, Severity, Verdict
from opslib.seed.scenarios import SCENARIOS

ADMIN_DRILLS = sorted(n for n, s in SCENARIOS.items() if s.runbook == "admin" or n == "healthy")


@pytest.fixture(scope="module")
def page_run(seeded, tmp_path_factory):
    return page_runner("admin", seeded, tmp_path_factory.mktemp("evidence"))


@pytest.mark.parametrize("scenario", ADMIN_DRILLS)
def test_drill_matrix(scenario, page_run):
    result = page_run(scenario)
    assert result.error is None, result.error
    problems = assert_expected_fired(scenario, result)
    data = json.loads((result.folder / "result.json").read_text())
    assert not [n for n in data["notes"] if "never measured" in n], "every prefetched step is measured by the page"
    assert not [f for f in result.findings if f.outcome is Outcome.ERROR], [
        (f.key, f.detail) for f in result.findings if f.outcome is Outcome.ERROR
    ]
    facts = data["facts"]
    if scenario == "healthy":
        worst = [f for f in problems if f.severity.at_least(Severity.P1)]
        assert not worst, f"healthy baseline raised {[(f.key, f.severity.value) for f in worst]}"
        assert result.verdict is Verdict.PASS, [(f.key, f.severity.value) for f in problems]
        assert facts["active_admins"] == 3
        assert facts["exit_condition_met"] is not False, "the healthy baseline must not read as an ongoing incident"
    else:
        assert result.verdict is Verdict.FAIL and result.exit_code == runner.ExitCode.FAIL
    if scenario != "healthy" and scenario != "audit_log_gap":
        # §3-E's exit condition is console access + ops-manage 200; an audit gap does not stop either
        assert facts["exit_condition_met"] is False, f"{scenario}: the incident is ongoing, the exit cannot be met"
    if scenario == "admins_demoted":
        assert facts["active_admins"] == 0
    if scenario == "ops_manage_500_after_deploy":
        assert facts["new_version"] == "ops-manage@v24"
    else:
        assert facts["new_version"] is None, f"{scenario}: no new version was deployed"
    assert facts["service_role_key_missing"] is (scenario == "service_role_key_missing")


def test_bundle_verifies_and_holds_no_raw_identifier(page_run, seeded):
    result = page_run("admins_demoted")
    assert evidence.verify(result.folder) == []
    s = seeded("admins_demoted")
    with psycopg.connect(s.db.admin) as conn:
        rows = conn.execute(
            "SELECT u.id::text, u.email FROM auth.users u JOIN public.user_profiles p ON p.id = u.id"
            " WHERE p.updated_at >= now() - interval '1 day' OR p.role = 'admin' LIMIT 20"
        ).fetchall()
    ids = [r[0] for r in rows] + [r[1] for r in rows if r[1]]
    assert ids, "the drill has admins whose ids could leak"
    for p in result.folder.iterdir():
        text = p.read_text(encoding="utf-8", errors="replace")
        for value in ids:
            assert value not in text, f"{p.name} holds a raw identifier"


def test_service_key_drill_names_the_key_but_never_a_value(page_run):
    result = page_run("service_role_key_missing")
    report = (result.folder / "admin.html").read_text(encoding="utf-8")
    assert "SUPABASE_SERVICE_ROLE_KEY" in report
    for p in result.folder.iterdir():
        text = p.read_text(encoding="utf-8", errors="replace")
        assert not re.search(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.", text), f"{p.name} holds a JWT"
        assert "sb_secret_" not in text


def test_empty_contract_database_gives_a_clean_verdict(contract_db, tmp_path):
    result = runner.run("admin", database_url=contract_db.reader, out_dir=tmp_path)
    assert result.error is None, result.error
    assert not [f for f in result.findings if f.outcome is Outcome.ERROR], [
        (f.key, f.detail) for f in result.findings if f.outcome is Outcome.ERROR
    ]
    assert result.verdict is Verdict.PASS, [(f.key, f.outcome.value) for f in _problems(result)]
    facts = json.loads((result.folder / "result.json").read_text())["facts"]
    assert facts["exit_condition_met"] is not True, "no admin and no ops-manage call: never met"


def test_a_bad_restore_user_is_refused_before_the_page_runs(tmp_path, capsys):
    from opslib.cli import main

    code = main(
        [
            "run",
            "admin",
            "--database-url",
            "postgresql://reader@127.0.0.1:9/app",
            "-p",
            "restore_user_id",
            "all-admins",
            "--out",
            str(tmp_path / "ev"),
        ]
    )
    assert code == runner.ExitCode.USAGE
    err = capsys.readouterr().err
    assert "restore_user_id" in err and err.count("\n") == 1


def test_html_report_renders_in_chromium(page_run, artifacts):
    from conftest import report_in_chromium

    result = page_run("admins_demoted")
    html = result.folder / "admin.html"
    with report_in_chromium(html) as page:
        banner = page.locator(".opsbook-verdict")
        assert banner.count() == 1 and banner.get_attribute("data-verdict") == "FAIL"
        assert "활성 관리자" in banner.inner_text(), "the P0 (zero active admins) is named in the verdict"
        widths = page.eval_on_selector_all("img", "els => els.map(e => e.naturalWidth)")
        assert widths and all(w > 100 for w in widths), widths
        assert page.locator("text=admin.publish").count() >= 1, "the page names the flag production needs"
        page.screenshot(path=str(artifacts / "admin-report.png"), full_page=True)
