"""Threshold evaluation is a pure function of the measured value (runbook §4-E as data)."""

from __future__ import annotations

import pytest

from opslib import checks
from opslib.results import Outcome, Severity


@pytest.mark.parametrize(
    ("value", "outcome", "severity"),
    [
        (99.5, Outcome.OK, None),
        (98.0, Outcome.OK, None),
        (97.9, Outcome.WARN, Severity.P2),
        (95.0, Outcome.WARN, Severity.P2),
        (94.9, Outcome.CRITICAL, Severity.P0),
    ],
)
def test_webhook_success_rate_lines_are_98_and_95(value, outcome, severity):
    f = checks.evaluate(checks.get("payments.webhook_success_rate"), value, sample=500)
    assert f.outcome is outcome
    assert f.severity is severity


def test_negative_balance_any_is_p0():
    check = checks.get("payments.negative_balance")
    assert checks.evaluate(check, 0).outcome is Outcome.OK
    f = checks.evaluate(check, 1)
    assert f.outcome is Outcome.CRITICAL and f.severity is Severity.P0


def test_no_value_is_not_evaluated_never_ok():
    f = checks.evaluate(checks.get("payments.webhook_success_rate"), None)
    assert f.outcome is Outcome.NOT_EVALUATED


def test_too_small_a_sample_is_not_judged():
    f = checks.evaluate(checks.get("payments.webhook_success_rate"), 50.0, sample=3)
    assert f.outcome is Outcome.NOT_EVALUATED
    assert "표본 부족" in f.detail


def test_a_small_sample_is_judged_once_enough_of_it_failed():
    check = checks.get("payments.webhook_success_rate")
    assert check.min_failures == 3 and check.min_sample == 10
    outage = checks.evaluate(check, 0.0, sample=9, failures=9)
    assert (outage.outcome, outage.severity) == (Outcome.CRITICAL, Severity.P0)
    assert "실패 9건으로 판정" in outage.detail
    # two failures in three events are still too few to call a rate
    assert checks.evaluate(check, 33.3, sample=3, failures=2).outcome is Outcome.NOT_EVALUATED
    # without a failure count the old rule stands
    assert checks.evaluate(check, 0.0, sample=9).outcome is Outcome.NOT_EVALUATED
    declines = checks.get("payments.checkout_failure_rate")
    assert checks.evaluate(declines, 100.0, sample=4, failures=4).outcome is Outcome.NOT_EVALUATED
    assert checks.evaluate(declines, 100.0, sample=8, failures=8).outcome is Outcome.CRITICAL


def test_error_finding_is_error():
    f = checks.error(checks.get("payments.double_credit"), "query failed: timeout")
    assert f.outcome is Outcome.ERROR and f.severity is None


def test_every_check_in_the_catalogue_is_well_formed():
    cat = checks.catalogue()
    assert len(cat) >= 15
    for c in cat.values():
        assert c.op in ("<", "<=", ">", ">=")
        assert c.warn is not None or c.critical is not None
        assert "§" in c.section, c.id
        if c.warn is not None and c.critical is not None and c.op in ("<", "<="):
            assert c.critical <= c.warn, c.id
        if c.warn is not None and c.critical is not None and c.op in (">", ">="):
            assert c.critical >= c.warn, c.id


def test_threshold_text_names_both_lines():
    text = checks.get("payments.webhook_success_rate").threshold_text()
    assert "98" in text and "95" in text and "P0" in text
