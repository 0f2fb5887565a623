"""Runbook §3-A 복구: re-reconcile PG vs dt_purchases vs wallet_ledger for a period, read-only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pandas as pd
from sqlalchemy.engine import Connection

from opslib import checks
from opslib.display import evidence, for_display
from opslib.fetch import Fetched, QueryTiming, fetch, timings
from opslib.measures import rows, total
from opslib.payments import causes
from opslib.payments.pg_export import PgExport, empty_params, load_pg_export
from opslib.payments.stages import PROVIDERS, provider_label
from opslib.results import Finding
from opslib.timewindow import KST, Window, kst

# reconciliation_items.mismatch_type → the check that speaks for it.
MISMATCH_CHECKS: dict[str, str] = {
    "missing_in_db": "payments.recon_missing_in_db",
    "missing_in_pg": "payments.recon_missing_in_pg",
    "amount_mismatch": "payments.recon_amount_mismatch",
    "status_mismatch": "payments.recon_status_mismatch",
    "not_credited": "payments.ledger_uncredited",
    "credit_amount_mismatch": "payments.recon_credit_amount_mismatch",
    "double_credit": "payments.double_credit",
    "refund_not_clawed_back": "payments.refund_not_clawed_back",
}
MISMATCH_TYPES = tuple(MISMATCH_CHECKS)
# The cause a mismatch type shares with triage's checks (said once, counted once at the top).
_CAUSES = {
    "missing_in_db": causes.PAID_NOT_RECORDED,
    "not_credited": causes.NOT_CREDITED,
    "double_credit": causes.DOUBLE_CREDIT,
}
# A status mismatch is that cause only where the PG approved and the DB has not recorded the payment.
_PG_PAID = ("PAID",)
_DB_NOT_PAID = ("pending", "missing", "failed", "cancelled")
# Judged against the PG side: meaningless for a provider whose PG data is absent.
_NEEDS_PG = ("missing_in_db", "missing_in_pg", "amount_mismatch", "status_mismatch")
_LABEL_KO = {
    "missing_in_db": "PG 승인, DB 없음",
    "missing_in_pg": "DB 결제완료, PG 승인 없음",
    "amount_mismatch": "금액 불일치",
    "status_mismatch": "상태 불일치",
    "not_credited": "DT 미적립",
    "credit_amount_mismatch": "적립액 불일치",
    "double_credit": "이중 적립",
    "refund_not_clawed_back": "환불 DT 미회수",
}


@dataclass(frozen=True)
class ReconTotals:
    """The figures a reconciliation report quotes (KRW and DT), summed over providers with PG data."""

    pg_total_krw: int | None  # approvals − cancels at the PG; None without PG data
    db_total_krw: int  # purchases paid − refunds succeeded in the DB
    difference_krw: int | None  # PG − DB
    expected_dt: int
    credited_dt: int

    @property
    def dt_difference(self) -> int:
        return self.credited_dt - self.expected_dt


@dataclass(frozen=True)
class Reconciliation:
    period: Window
    subject: str  # e.g. "대사 2026-11-25"
    source: str  # "pg_transactions" or "export:<file name>"
    items: pd.DataFrame  # one row per (order, mismatch_type), masked, KST
    by_type: pd.DataFrame  # mismatch_type, label, items, pg_amount_krw, db_amount_krw, expected_dt, ledger_dt
    totals: pd.DataFrame  # per provider: PG / DB / difference in KRW, DT expected vs credited
    summary: ReconTotals
    uncovered_providers: tuple[str, ...]  # no PG rows in the period for these
    findings: tuple[Finding, ...]
    timings: tuple[QueryTiming, ...]


def period_subject(period: Window) -> str:
    start = period.since.astimezone(KST)
    end = period.until.astimezone(KST)
    if start.time().hour == 0 and start.minute == 0 and end - start == timedelta(days=1):
        return f"대사 {start.date().isoformat()}"
    return f"대사 {kst(period.since)} → {kst(period.until)}"


def reconcile(
    conn: Connection,
    period: Window,
    pg_export: PgExport | None = None,
    grace_minutes: int = 5,
) -> Reconciliation:
    grace = timedelta(minutes=grace_minutes)
    arrays = pg_export.sql_params() if pg_export is not None else empty_params()
    common = {**period.params(), "use_export": pg_export is not None, **arrays}
    items = fetch(conn, "payments.recon_items", {**common, "grace": grace})
    totals = fetch(conn, "payments.recon_totals", common)
    subject = period_subject(period)
    source = f"export:{pg_export.name}" if pg_export is not None else "pg_transactions"

    uncovered: tuple[str, ...] = ()
    if totals.ok and not totals.frame.empty:
        uncovered = tuple(str(p) for p in totals.frame.loc[~totals.frame["has_pg"].astype(bool), "provider"])
    if pg_export is not None:
        # An export covers the providers it lists; the others were not reconciled against the PG.
        uncovered = tuple(p for p in PROVIDERS if p not in pg_export.providers)

    findings = recon_findings(items, totals, subject, uncovered)
    return Reconciliation(
        period=period,
        subject=subject,
        source=source,
        items=for_display(items.frame),
        by_type=by_type(items.frame),
        totals=totals.frame.copy(),
        summary=summarise(totals.frame, uncovered),
        uncovered_providers=uncovered,
        findings=tuple(findings),
        timings=timings(items, totals),
    )


def reconcile_with_export(
    conn: Connection, period: Window, pg_export_path: str = "", grace_minutes: int = 5
) -> Reconciliation:
    """reconcile() with the PG side read from the export file at pg_export_path ("": pg_transactions)."""
    return reconcile(conn, period, load_pg_export(pg_export_path) if pg_export_path else None, grace_minutes)


def summarise(totals: pd.DataFrame, uncovered: tuple[str, ...]) -> ReconTotals:
    if totals.empty:
        return ReconTotals(None, 0, None, 0, 0)
    covered = totals[~totals["provider"].isin(uncovered)]
    pg = int(covered["pg_net_krw"].fillna(0).sum()) if not covered.empty else None
    db_all = int(totals["db_net_krw"].sum())
    db_cov = int(covered["db_net_krw"].sum()) if not covered.empty else 0
    return ReconTotals(
        pg_total_krw=pg,
        db_total_krw=db_all,
        difference_krw=(pg - db_cov) if pg is not None else None,
        expected_dt=int(totals["expected_dt"].sum()),
        credited_dt=int(totals["credited_dt"].sum()),
    )


def by_type(items: pd.DataFrame) -> pd.DataFrame:
    records = []
    for kind in MISMATCH_TYPES:
        part = rows(items, mismatch_type=kind)
        records.append(
            {
                "mismatch_type": kind,
                "label": _LABEL_KO[kind],
                "items": len(part),
                "pg_amount_krw": total(part, "pg_amount_krw"),
                "db_amount_krw": total(part, "db_amount_krw"),
                "expected_dt": total(part, "expected_dt"),
                "ledger_dt": total(part, "ledger_dt"),
            }
        )
    return pd.DataFrame(records)


def _import_gap(missing: pd.DataFrame, totals: pd.DataFrame) -> str:
    """Most of a provider's paid purchases absent at the PG points at the import, not at forgery."""
    notes = []
    for provider, n in missing.groupby("provider").size().items():
        paid = total(totals, "db_paid", provider=provider)
        if paid >= 4 and n * 2 >= paid:
            notes.append(
                f" · {provider_label(provider)} DB 결제 {paid}건 중 {n}건이 PG 데이터에 없음: PG 가져오기(import) 누락 "
                f"가능성이 큼, pg_transactions 적재(크론)부터 확인 (most of the period's payments are absent at the "
                f"PG: check the PG import first)"
            )
    return "".join(notes)


def recon_findings(items: Fetched, totals: Fetched, subject: str, uncovered: tuple[str, ...]) -> list[Finding]:
    out: list[Finding] = []
    no_pg = set(uncovered) >= set(PROVIDERS)
    for kind, check_id in MISMATCH_CHECKS.items():
        check = checks.get(check_id)
        if not items.ok:
            out.append(checks.error(check, items.error or "", subject=subject))
            continue
        part = rows(items.frame, mismatch_type=kind)
        if kind in _NEEDS_PG and no_pg and part.empty:
            out.append(
                checks.evaluate(
                    check,
                    None,
                    subject=subject,
                    detail="PG 데이터 없음: 이 기간의 pg_transactions(또는 내보내기 파일)가 없어 PG와 대사하지 못함 "
                    "(no PG data for the period)",
                )
            )
            continue
        detail = f"{_LABEL_KO[kind]} {len(part)}건"
        if len(part):
            providers = ", ".join(f"{provider_label(p)} {n}" for p, n in part.groupby("provider").size().items())
            detail += f" ({providers})"
            if kind in ("not_credited", "credit_amount_mismatch", "double_credit", "refund_not_clawed_back"):
                expected, ledger = total(part, "expected_dt"), total(part, "ledger_dt")
                detail += f", 기대 DT {expected:,} / 원장 DT {ledger:,}"
            else:
                detail += f", PG {total(part, 'pg_amount_krw'):,}원 / DB {total(part, 'db_amount_krw'):,}원"
                cancelled, refunded = total(part, "pg_cancelled_krw"), total(part, "db_refunded_krw")
                if kind == "amount_mismatch" and cancelled != refunded:
                    detail += f"; 취소 PG {cancelled:,}원 / 환불 DB {refunded:,}원 (cancelled vs refunded)"
        if kind == "missing_in_pg" and len(part) and totals.ok:
            detail += _import_gap(part, totals.frame)
        if kind in _NEEDS_PG and uncovered and not no_pg:
            detail += f" · PG 데이터 없음: {', '.join(provider_label(p) for p in uncovered)} (대사 제외)"
        if kind == "status_mismatch" and len(part):
            states = part.groupby([part["pg_status"].astype(str), part["db_status"].astype(str)]).size()
            detail += " · " + ", ".join(f"PG {pg} · DB {db} {n}건" for (pg, db), n in states.items())
        found = checks.evaluate(
            check,
            len(part),
            subject=subject,
            detail=detail,
            evidence=evidence(
                part,
                [
                    "provider",
                    "order_id",
                    "pg_amount_krw",
                    "db_amount_krw",
                    "expected_dt",
                    "ledger_dt",
                    "pg_status",
                    "db_status",
                    "event_at",
                    "age_s",
                ],
            ),
        )
        cause = _CAUSES.get(kind)
        if kind == "status_mismatch" and len(part):
            paid_pending = part["pg_status"].isin(_PG_PAID) & part["db_status"].isin(_DB_NOT_PAID)
            cause = causes.PAID_NOT_RECORDED if bool(paid_pending.all()) else None
        out.append(causes.tag(found, cause, part) if cause else found)
    if not totals.ok:
        out.append(
            checks.error(
                checks.get("payments.recon_amount_mismatch"),
                f"합계 조회 실패: {totals.error}",
                subject=f"{subject} 합계",
            )
        )
    return out
