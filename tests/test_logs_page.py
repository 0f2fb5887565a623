"""The logs page (§4-A~C 로그 표준) executed for real by papermill: the drill matrix with exact ground truth,
the healthy baseline over its whole three days of logs, the empty contract database (clean), masking and
secrets in the bundle.

Each drill is injected on top of the healthy baseline; the page must raise exactly the drill's ground
truth (no other problem) and nothing at P0/P1 on the healthy baseline. One papermill run per database.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from drills import page_runner

from opslib import evidence, runner
from opslib.errors import ConfigError
from opslib.results import Outcome, Verdict
from opslib.seed.scenarios import SCENARIOS

LOG_DRILLS = [*sorted(n for n, s in SCENARIOS.items() if s.runbook == "logs"), "healthy"]


@pytest.fixture(scope="module")
def page_run(seeded, tmp_path_factory):
    return page_runner("logs", seeded, tmp_path_factory.mktemp("evidence"), wi_id="WI-LOGS")


def problems(result: runner.RunResult) -> dict[tuple[str, str | None], str]:
    return {(f.check, f.subject): f.severity.value for f in result.findings if f.outcome.is_problem and f.severity}


def test_the_two_drills_are_registered_for_this_page():
    assert LOG_DRILLS == ["log_fields_missing", "pii_in_logs", "healthy"]


@pytest.mark.parametrize("scenario", LOG_DRILLS)
def test_drill_matrix_exact_ground_truth(scenario, page_run):
    result = page_run(scenario)
    assert result.error is None, result.error
    mine = [f for f in result.findings if f.check.startswith("logs.")]
    unjudged = [(f.key, f.detail) for f in mine if f.outcome in (Outcome.ERROR, Outcome.NOT_EVALUATED)]
    assert not unjudged, unjudged
    # every function that logged in the window is judged on every check
    functions = {f.subject for f in mine if f.check == "logs.structured"}
    assert {"payment-webhook", "scheduled-dispatcher"} <= functions
    expected = {(e.check, e.subject): e.severity.value for e in SCENARIOS[scenario].expected}
    assert problems(result) == expected  # exactly: nothing missed, nothing else raised
    data = json.loads((result.folder / "result.json").read_text())
    assert any(h.startswith("콘솔 로그 ") for h in result.headline), result.headline
    if scenario == "healthy":
        assert result.verdict is Verdict.PASS
        assert data["exit_state"]["met"] is True
    else:
        assert data["exit_state"]["met"] is False
    if scenario == "pii_in_logs":
        assert result.verdict is Verdict.FAIL


def test_the_dropped_fields_are_tied_to_the_release(page_run):
    result = page_run("log_fields_missing")
    html = (result.folder / "logs.html").read_text()
    assert "payment-webhook@v42" in html  # the by-release table names the release the fields vanished with
    detail = next(f.detail for f in result.findings if f.check == "logs.common_fields" and f.outcome.is_problem)
    assert "request_id" in detail and "event" in detail
    pay = next(f for f in result.findings if f.check == "logs.payment_fields" and f.outcome.is_problem)
    assert "idempotency_key" in pay.detail and "currency" in pay.detail and "payer_id" not in pay.detail


def test_the_healthy_baseline_over_three_days_raises_nothing_at_p0_p1(seeded, tmp_path):
    """The whole log horizon of the baseline (3 days, every function, quiet nights included)."""
    s = seeded("healthy")
    result = runner.run(
        "logs",
        {"until": s.as_of.isoformat(), "window_minutes": int(timedelta(days=3).total_seconds() // 60)},
        database_url=s.db.reader,
        out_dir=tmp_path,
    )
    assert result.error is None, result.error
    urgent = {k: v for k, v in problems(result).items() if v in ("P0", "P1")}
    assert not urgent, urgent
    assert not any(f.check == "logs.pii" and f.outcome.is_problem for f in result.findings)
    # the baseline's only honest deviation: a webhook timeout (status failed) logged at warn, §4-A's ERROR
    assert set(problems(result)) <= {("logs.payment_failure_level", "payment-webhook")}, problems(result)
    judged = {f.subject for f in result.findings if f.check == "logs.payment_fields"}
    assert judged == {"payment-webhook", "refund-process"}  # a reconcile run is settlement, not one payment


def test_bundle_is_complete_masked_and_secret_free(page_run):
    result = page_run("pii_in_logs")
    names = {p.name for p in result.folder.iterdir()}
    assert names == {"logs.ipynb", "logs.html", "result.json", "manifest.json"}
    assert evidence.verify(result.folder) == []
    html = (result.folder / "logs.html").read_text()
    # what was found, masked: every kind shown at least once (each kind's first example leads the table)
    assert "010-****-**" in html and "****-1111" in html and "***@e***" in html and "…(uuid)" in html
    for p in result.folder.iterdir():
        text = p.read_text(errors="replace")
        assert not re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", text), p.name
        assert not re.search(r"[\w.+-]+@[\w-]+\.[\w.]+", text.replace("@/", "")), p.name
        assert not re.search(r"01[016789][-. ]?\d{3,4}[-. ]?\d{4}", text), p.name
        assert not re.search(r"\+82[-. ]?10", text), p.name
        assert not re.search(r"4111[- ]?1111[- ]?1111[- ]?1111", text), p.name
        assert "eyJ" not in text and "whsec_" not in text, p.name


def test_empty_contract_database_is_clean(contract_db, tmp_path):
    """No function_logs at all (as the reader role): PASS, no crash, "no events", the exit cannot be judged."""
    result = runner.run("logs", {}, database_url=contract_db.reader, out_dir=tmp_path)
    assert result.error is None, result.error
    assert result.verdict is Verdict.PASS
    mine = [f for f in result.findings if f.check.startswith("logs.")]
    assert mine and all(f.outcome is Outcome.NOT_EVALUATED for f in mine), [(f.key, f.outcome) for f in mine]
    assert any("no events" in h for h in result.headline), result.headline
    data = json.loads((result.folder / "result.json").read_text())
    assert data["exit_state"]["met"] is None


def test_a_bad_sample_size_is_refused_before_any_kernel_starts(tmp_path):
    with pytest.raises(ConfigError, match="sample_per_function"):
        runner.run("logs", {"sample_per_function": -5}, database_url="postgresql+psycopg://x@/y", out_dir=tmp_path)


def test_html_report_renders_in_chromium(page_run, artifacts):
    from conftest import report_in_chromium

    result = page_run("pii_in_logs")
    html = result.folder / "logs.html"
    with report_in_chromium(html) as page:
        banner = page.locator(".opsbook-verdict")
        assert banner.count() == 1 and banner.get_attribute("data-verdict") == "FAIL"
        text = banner.inner_text()
        assert "원본 개인정보" in text and "ops-manage" in text, "the P1 is named at the top"
        assert "콘솔 로그" in text, "the headline (lines, functions, JSON share) is at the top"
        page.screenshot(path=str(artifacts / "logs-report.png"), full_page=True)
