"""The rls-audit page (§7 DB RLS 감사) executed for real by papermill: the drill matrix with exact ground
truth, the empty contract database (clean), the reader role, masking and secrets in the bundle.

Each drill is one catalog change on top of the healthy baseline; the page must raise exactly the
drill's ground truth (no other problem) and nothing at all on the healthy baseline. One papermill run
per database, shared by the assertions about it.
"""

from __future__ import annotations

import json
import re

import pytest
from drills import page_runner
from test_rls_audit_handbuilt import stray_roles

from opslib import evidence, runner
from opslib.errors import ConfigError
from opslib.results import Outcome, Verdict
from opslib.seed.scenarios import SCENARIOS

# Roles are cluster-wide: the modules that create BYPASSRLS roles and the ones that audit them share
# one xdist worker, so an audit never sees another worker's role appear mid-run.
pytestmark = pytest.mark.xdist_group("cluster_roles")

RLS_DRILLS = [*sorted(n for n, s in SCENARIOS.items() if s.runbook == "rls-audit"), "healthy"]


@pytest.fixture(scope="module")
def page_run(seeded, tmp_path_factory):
    return page_runner("rls-audit", seeded, tmp_path_factory.mktemp("evidence"), wi_id="WI-RLS")


def problems(result: runner.RunResult) -> dict[tuple[str, str | None], str]:
    return {(f.check, f.subject): f.severity.value for f in result.findings if f.outcome.is_problem and f.severity}


def test_the_three_drills_are_registered_for_this_page():
    assert RLS_DRILLS == ["definer_without_search_path", "permissive_policy", "rls_disabled_table", "healthy"]


@pytest.mark.parametrize("scenario", RLS_DRILLS)
def test_drill_matrix_exact_ground_truth(scenario, page_run, seeded):
    result = page_run(scenario)
    assert result.error is None, result.error
    errors = [(f.key, f.detail) for f in result.findings if f.outcome in (Outcome.ERROR, Outcome.NOT_EVALUATED)]
    assert not errors, errors
    stray = stray_roles(seeded(scenario).db.admin)
    expected = {(e.check, e.subject): e.severity.value for e in SCENARIOS[scenario].expected} | stray
    assert problems(result) == expected  # exactly: nothing missed, nothing else raised
    data = json.loads((result.folder / "result.json").read_text())
    assert any(re.match(r"RLS 적용 \d+/\d+ 테이블", h) for h in result.headline), result.headline
    if scenario == "healthy":
        assert result.verdict is (Verdict.FAIL if stray else Verdict.PASS)
        assert data["exit_state"]["met"] is (not stray)
        assert "RLS 적용 24/24 테이블" in result.headline[0] or any("24/24" in h for h in result.headline)
    else:
        assert result.verdict is Verdict.FAIL
        assert data["exit_state"]["met"] is False
    if scenario == "rls_disabled_table":
        assert any("23/24" in h for h in result.headline), result.headline


def test_the_fix_is_shown_and_nothing_was_written(page_run):
    result = page_run("definer_without_search_path")
    from html import unescape

    # as shown: a table cell escapes its quote as &#39;, a findings row as &#x27;
    html = unescape((result.folder / "rls-audit.html").read_text())
    assert "ALTER FUNCTION public.profile_contact(p_user uuid) SET search_path = ''" in html
    assert "NOT executed by opsbook" in html
    # the contract's known gaps are listed, the verdict banner counts only the drift
    assert "contract's known gap" in html


def test_bundle_is_complete_masked_and_secret_free(page_run):
    result = page_run("permissive_policy")
    names = {p.name for p in result.folder.iterdir()}
    assert names == {"rls-audit.ipynb", "rls-audit.html", "result.json", "manifest.json"}
    assert evidence.verify(result.folder) == []
    for p in result.folder.iterdir():
        text = p.read_text(errors="replace")
        assert not re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", text), p.name
        assert not re.search(r"[\w.+-]+@[\w-]+\.[\w.]+", text.replace("@/", "")), p.name
        assert "eyJ" not in text and "whsec_" not in text, p.name


def test_empty_contract_database_is_clean(contract_db, tmp_path):
    """Exactly the contract (as the reader role): PASS, every check evaluated, 24/24 tables, its own gaps listed."""
    stray = stray_roles(contract_db.admin)
    result = runner.run("rls-audit", {}, database_url=contract_db.reader, out_dir=tmp_path)
    assert result.error is None, result.error
    audit = [f for f in result.findings if f.check.startswith("rls-audit.") and f.subject not in {s for _, s in stray}]
    assert len(audit) == (8 if stray else 9), [f.key for f in audit]
    assert all(f.outcome is Outcome.OK for f in audit), [
        (f.key, f.outcome.value, f.value, f.detail[:300]) for f in audit if f.outcome is not Outcome.OK
    ]
    assert problems(result) == stray
    assert result.verdict is (Verdict.FAIL if stray else Verdict.PASS)
    assert any("RLS 적용 24/24 테이블" in h for h in result.headline), result.headline
    html = (result.folder / "rls-audit.html").read_text()
    assert "profiles: read all (authenticated)" in html  # the contract's own true policy, listed as known


def test_a_bad_schema_name_is_refused_before_any_kernel_starts(tmp_path):
    with pytest.raises(ConfigError, match="exposed_schemas"):
        runner.run(
            "rls-audit",
            {"exposed_schemas": "public; DROP TABLE x"},
            database_url="postgresql+psycopg://x@/y",
            out_dir=tmp_path,
        )
