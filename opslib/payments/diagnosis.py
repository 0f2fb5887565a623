"""Naming the broken stage of the payment pipeline in one sentence (pure: findings in, words out)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from opslib.payments.stages import Stage, provider_label
from opslib.results import Finding, Outcome

# Which stage each funnel check speaks for (runbook §3-A 트리아지 1).
CHECK_STAGE = {
    "payments.checkout_failure_rate": Stage.CONFIRM,
    "payments.pg_paid_db_pending": Stage.WEBHOOK,
    "payments.ledger_uncredited": Stage.LEDGER,
    "payments.ledger_lag_p95": Stage.LEDGER,
}
# At the same stage and severity, missing credits say more than slow ones.
_CHECK_ORDER = {
    "payments.checkout_failure_rate": 1,
    "payments.pg_paid_db_pending": 2,
    "payments.ledger_uncredited": 3,
    "payments.ledger_lag_p95": 4,
}


@dataclass(frozen=True)
class Diagnosis:
    stage: Stage | None
    sentence: str  # Korean, then English


def diagnose(findings: Iterable[Finding]) -> Diagnosis:
    """The most severe problem wins; ties go to the earliest stage (upstream breaks come first)."""
    items = [f for f in findings if f.check in CHECK_STAGE]
    problems = [f for f in items if f.outcome.is_problem]
    if not problems:
        if any(f.outcome is Outcome.ERROR for f in items):
            failed = sorted({CHECK_STAGE[f.check].label for f in items if f.outcome is Outcome.ERROR})
            return Diagnosis(
                None,
                f"판정 불가: {', '.join(failed)} 단계를 측정하지 못함 "
                f"(could not measure the {', '.join(failed)} stage; see the ERROR findings)",
            )
        return Diagnosis(
            None,
            "끊긴 단계 없음: Checkout → Confirm → Webhook → Ledger 정상 (no broken stage in the payment pipeline)",
        )

    def rank(f: Finding) -> tuple[int, int, int, int]:
        severity = f.severity.rank if f.severity else 9
        critical = 0 if f.outcome is Outcome.CRITICAL else 1
        return (severity, critical, CHECK_STAGE[f.check].order, _CHECK_ORDER[f.check])

    worst = min(problems, key=rank)
    same = sorted(
        (f for f in problems if f.check == worst.check),
        key=lambda f: -(f.value or 0),
    )
    return Diagnosis(CHECK_STAGE[worst.check], _sentence(worst.check, same))


def _providers(items: list[Finding]) -> str:
    return ", ".join(provider_label(f.subject) for f in items)


def _count(items: list[Finding]) -> int:
    return int(sum(f.value or 0 for f in items))


def _sentence(check: str, items: list[Finding]) -> str:
    who = _providers(items)
    if check == "payments.checkout_failure_rate":
        rates = ", ".join(f"{provider_label(f.subject)} {float(f.value or 0):.1f} %" for f in items)
        return (
            f"Confirm 단계에서 끊김: PG 승인 실패율 {rates} "
            f"/ Broken at Confirm: the PG declines too many payments ({rates})"
        )
    if check == "payments.pg_paid_db_pending":
        n = _count(items)
        return (
            f"Webhook 단계에서 끊김: PG 승인 {n}건이 DB에 반영되지 않음 ({who}) "
            f"/ Broken at Webhook: {n} PG approvals not reflected in the DB ({who})"
        )
    if check == "payments.ledger_uncredited":
        n = _count(items)
        return (
            f"Ledger 단계에서 끊김: 결제 완료 {n}건에 DT 미적립 ({who}) "
            f"/ Broken at Ledger: {n} paid purchases without a DT credit ({who})"
        )
    lags = ", ".join(f"{provider_label(f.subject)} {float(f.value or 0):.0f}초" for f in items)
    lags_en = ", ".join(f"{provider_label(f.subject)} {float(f.value or 0):.0f} s" for f in items)
    return f"Ledger 단계 지연: DT 적립 지연 P95 {lags} / Ledger lagging: credit lag p95 {lags_en}"
