"""The verdict rule (runbook §6) is written once and holds for every runbook."""

from __future__ import annotations

from opslib.results import Finding, Outcome, Severity, Verdict, decide


def f(outcome: Outcome, severity: Severity | None = None) -> Finding:
    return Finding(check="x", outcome=outcome, section="§", title="x", severity=severity)


def test_nothing_found_passes():
    assert decide([f(Outcome.OK), f(Outcome.NOT_EVALUATED)]) is Verdict.PASS


def test_p0_or_p1_fails():
    assert decide([f(Outcome.CRITICAL, Severity.P0)]) is Verdict.FAIL
    assert decide([f(Outcome.WARN, Severity.P1)]) is Verdict.FAIL


def test_one_or_two_p2_is_conditional():
    assert decide([f(Outcome.WARN, Severity.P2)]) is Verdict.CONDITIONAL_PASS
    assert decide([f(Outcome.WARN, Severity.P2), f(Outcome.WARN, Severity.P3)]) is Verdict.CONDITIONAL_PASS


def test_three_p2_is_beyond_conditional():
    assert decide([f(Outcome.WARN, Severity.P2)] * 3) is Verdict.FAIL


def test_a_check_that_could_not_run_is_never_pass():
    assert decide([f(Outcome.OK), f(Outcome.ERROR)]) is Verdict.ERROR


def test_a_real_p0_outranks_an_error():
    assert decide([f(Outcome.ERROR), f(Outcome.CRITICAL, Severity.P0)]) is Verdict.FAIL


def test_finding_json_round_trip():
    a = Finding(
        check="c",
        outcome=Outcome.WARN,
        section="§4-E",
        title="t",
        severity=Severity.P2,
        value=97.5,
        subject="portone",
        unit="%",
    )
    assert Finding.from_json(a.to_json()) == a
