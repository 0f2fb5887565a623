"""Post-mortem numbers for a payment incident: who and how much was affected, by cause."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd
from sqlalchemy.engine import Connection

from opslib import checks
from opslib.affected import Affected, from_rows
from opslib.display import for_display
from opslib.fetch import QueryTiming, fetch, timings
from opslib.measures import pct, total
from opslib.measures import rows as select
from opslib.payments.pg_export import empty_params
from opslib.payments.pipeline import open_params
from opslib.payments.stages import PROVIDERS, provider_label
from opslib.results import Finding
from opslib.timewindow import KST, Window, kst


class Cause(enum.Enum):
    STUCK_AT_WEBHOOK = "stuck_at_webhook"
    DELAYED = "delayed"
    NOT_CREDITED = "not_credited"
    DOUBLE_CREDIT = "double_credit"
    FAILED_AT_PG = "failed_at_pg"
    AMOUNT_MISMATCH = "amount_mismatch"
    REFUND_NOT_CLAWED_BACK = "refund_not_clawed_back"

    @property
    def label_ko(self) -> str:
        return {
            "stuck_at_webhook": "Webhook 단계 정체 (PG 승인, DB 미반영)",
            "delayed": "지연 반영 (webhook 실패 후 복구, recovered)",
            "not_credited": "DT 미적립",
            "double_credit": "이중 적립",
            "failed_at_pg": "PG 승인 실패",
            "amount_mismatch": "금액 불일치",
            "refund_not_clawed_back": "환불 DT 미회수",
        }[self.value]


AFFECTED_COLUMNS = [
    "cause",
    "provider",
    "order_id",
    "user_id",
    "amount_krw",
    "dt_not_credited",
    "dt_credited_twice",
    "dt_not_clawed_back",
    "at",
]


@dataclass(frozen=True)
class ImpactTotals:
    users: int
    orders: int
    amount_krw: int
    dt_not_credited: int
    dt_credited_twice: int
    dt_not_clawed_back: int
    first_at: datetime | None  # KST
    last_at: datetime | None


@dataclass(frozen=True)
class Impact:
    window: Window
    totals: ImpactTotals  # over the causes counted in the headline
    by_cause: pd.DataFrame  # cause, label, counted, users, orders, amount_krw, dt_*, first_at, last_at
    affected: pd.DataFrame  # one row per (cause, order), masked, KST
    markdown: str
    excluded: tuple[Cause, ...]  # causes listed but left out of the headline (ordinary PG declines)
    findings: tuple[Finding, ...]  # ERROR only: a cause that could not be measured
    timings: tuple[QueryTiming, ...]
    affected_keys: Affected | None = None  # the counted orders and users, keyed for the incident page (§1)


# --- pure aggregation ------------------------------------------------------------------


def _rows(
    cause: Cause,
    frame: pd.DataFrame,
    *,
    amount: str,
    at: str,
    dt_missing: str | None = None,
    dt_twice: str | None = None,
    dt_kept: str | None = None,
) -> pd.DataFrame:
    if frame.empty:
        return pd.DataFrame(columns=AFFECTED_COLUMNS)
    out = pd.DataFrame(
        {
            "cause": cause.value,
            "provider": frame["provider"],
            "order_id": frame["order_id"],
            "user_id": frame["user_id"].map(lambda v: None if v is None or pd.isna(v) else str(v)),
            "amount_krw": pd.to_numeric(frame[amount], errors="coerce").fillna(0).astype("int64"),
            "dt_not_credited": pd.to_numeric(frame[dt_missing], errors="coerce").fillna(0).astype("int64")
            if dt_missing
            else 0,
            "dt_credited_twice": pd.to_numeric(frame[dt_twice], errors="coerce").fillna(0).astype("int64")
            if dt_twice
            else 0,
            "dt_not_clawed_back": pd.to_numeric(frame[dt_kept], errors="coerce").fillna(0).astype("int64")
            if dt_kept
            else 0,
            "at": pd.to_datetime(frame[at], utc=True),
        }
    )
    return out[AFFECTED_COLUMNS]


def totals_of(rows: pd.DataFrame) -> ImpactTotals:
    """Distinct users and orders; money summed once per order (an order can have two causes)."""
    if rows.empty:
        return ImpactTotals(0, 0, 0, 0, 0, 0, None, None)
    users = rows["user_id"].dropna().nunique()
    per_order = rows.groupby(["provider", "order_id"])["amount_krw"].max()
    at = pd.to_datetime(rows["at"], utc=True).dropna()
    return ImpactTotals(
        users=int(users),
        orders=len(per_order),
        amount_krw=int(per_order.sum()),
        dt_not_credited=int(rows["dt_not_credited"].sum()),
        dt_credited_twice=int(rows["dt_credited_twice"].sum()),
        dt_not_clawed_back=int(rows["dt_not_clawed_back"].sum()),
        first_at=at.min().tz_convert(KST).to_pydatetime() if len(at) else None,
        last_at=at.max().tz_convert(KST).to_pydatetime() if len(at) else None,
    )


def by_cause_frame(rows: pd.DataFrame, excluded: tuple[Cause, ...]) -> pd.DataFrame:
    out = []
    for cause in Cause:
        part = select(rows, cause=cause.value)
        t = totals_of(part)
        out.append(
            {
                "cause": cause.value,
                "label": cause.label_ko,
                "counted": cause not in excluded,
                "users": t.users,
                "orders": t.orders,
                "amount_krw": t.amount_krw,
                "dt_not_credited": t.dt_not_credited,
                "dt_credited_twice": t.dt_credited_twice,
                "dt_not_clawed_back": t.dt_not_clawed_back,
                "first_at": t.first_at,
                "last_at": t.last_at,
            }
        )
    return pd.DataFrame(out)


def impact_markdown(
    window: Window,
    totals: ImpactTotals,
    by_cause: pd.DataFrame,
    excluded: tuple[Cause, ...],
    notes: tuple[str, ...] = (),
    incomplete: bool = False,
) -> str:
    """incomplete: a query behind the figures failed, so "no impact" cannot be said."""
    lines = [
        f"**결제 장애 영향 (payment impact)** {window.label()}",
        "",
        (
            f"영향 사용자 **{totals.users:,}명**, 주문 **{totals.orders:,}건**, 금액 **{totals.amount_krw:,}원**; "
            f"DT 미적립 **{totals.dt_not_credited:,} DT**, 이중 적립 **{totals.dt_credited_twice:,} DT**"
            + (f", 환불 후 미회수 **{totals.dt_not_clawed_back:,} DT**" if totals.dt_not_clawed_back else "")
            + (
                f". 최초 {kst(totals.first_at)}, 최종 {kst(totals.last_at)}."
                if totals.first_at
                else ". 일부 측정 실패: 영향 미확정 (incomplete: a measurement failed)."
                if incomplete
                else ". 영향 없음."
            )
        ),
        (
            f"Affected: {totals.users:,} users, {totals.orders:,} orders, KRW {totals.amount_krw:,}; "
            f"{totals.dt_not_credited:,} DT not credited, {totals.dt_credited_twice:,} DT credited twice."
        ),
        "",
        "| 원인 (cause) | 사용자 | 주문 | 금액 (원) | DT 미적립 | DT 이중 적립 | DT 미회수 | 최초 | 최종 |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for r in by_cause.itertuples(index=False):
        if not r.orders:
            continue
        mark = "" if r.counted else " (합계 제외)"
        lines.append(
            f"| {r.label}{mark} | {r.users:,} | {r.orders:,} | {r.amount_krw:,} | {r.dt_not_credited:,} | "
            f"{r.dt_credited_twice:,} | {r.dt_not_clawed_back:,} | {kst(r.first_at)} | {kst(r.last_at)} |"
        )
    if excluded:
        lines += [
            "",
            "PG 승인 실패는 실패율이 평시 수준(경고 임계값 이하)이거나 판단하기에 건수가 적어 합계에서 제외했습니다 "
            "(ordinary declines: below the warning threshold or too few to judge; not counted).",
        ]
    lines += [f"- {n}" for n in notes]
    return "\n".join(lines)


# --- measuring -------------------------------------------------------------------------


def impact(conn: Connection, window: Window, grace_minutes: int = 5) -> Impact:
    grace = timedelta(minutes=grace_minutes)
    pending = fetch(conn, "payments.pg_paid_db_pending", open_params(window, grace))
    uncredited = fetch(conn, "payments.ledger_uncredited", open_params(window, grace))
    doubles = fetch(conn, "payments.double_credits", window.params())
    failed = fetch(conn, "payments.failed_purchases", window.params())
    stages = fetch(
        conn, "payments.funnel_stages", {**window.params(), "bucket": window.until - window.since, "grace": grace}
    )
    recon = fetch(
        conn, "payments.recon_items", {**window.params(), "grace": grace, "use_export": False, **empty_params()}
    )
    delayed = fetch(conn, "payments.delayed_payments", {**window.params(), "grace": grace})

    parts = [
        _rows(Cause.STUCK_AT_WEBHOOK, pending.frame, amount="amount_krw", at="approved_at", dt_missing="expected_dt"),
        _rows(Cause.NOT_CREDITED, uncredited.frame, amount="amount_krw", at="paid_at", dt_missing="expected_dt"),
        _rows(Cause.DOUBLE_CREDIT, doubles.frame, amount="amount_krw", at="last_credit_at", dt_twice="extra_dt"),
        _rows(Cause.FAILED_AT_PG, failed.frame, amount="amount_krw", at="created_at"),
        _rows(Cause.DELAYED, delayed.frame, amount="amount_krw", at="first_delivery_at"),
    ]
    if recon.ok and not recon.frame.empty:
        mismatch = recon.frame[recon.frame["mismatch_type"] == "amount_mismatch"]
        refunds = recon.frame[recon.frame["mismatch_type"] == "refund_not_clawed_back"]
        parts.append(_rows(Cause.AMOUNT_MISMATCH, mismatch, amount="db_amount_krw", at="event_at"))
        parts.append(
            _rows(Cause.REFUND_NOT_CLAWED_BACK, refunds, amount="db_refunded_krw", at="event_at", dt_kept="expected_dt")
        )
    rows = (
        pd.concat([p for p in parts if not p.empty], ignore_index=True)
        if any(not p.empty for p in parts)
        else (pd.DataFrame(columns=AFFECTED_COLUMNS))
    )

    # PG declines happen every day; they are incident impact only where the decline rate breached.
    check = checks.get("payments.checkout_failure_rate")
    breached = set()
    if stages.ok:
        for p in PROVIDERS:
            declined = total(stages.frame, "failed", provider=p)
            decided = declined + total(stages.frame, "approved", provider=p)
            if checks.evaluate(check, pct(declined, decided), sample=decided, failures=declined).outcome.is_problem:
                breached.add(p)
    decline_rows = rows["cause"] == Cause.FAILED_AT_PG.value if not rows.empty else pd.Series(dtype=bool)
    excluded: tuple[Cause, ...] = ()
    if not rows.empty and decline_rows.any():
        keep = ~decline_rows | rows["provider"].isin(breached)
        if not keep.all():
            excluded = (Cause.FAILED_AT_PG,)
        counted = rows[keep]
    else:
        counted = rows

    findings = []
    feeds = (
        (pending, "payments.pg_paid_db_pending"),
        (uncredited, "payments.ledger_uncredited"),
        (doubles, "payments.double_credit"),
        (failed, "payments.checkout_failure_rate"),
        (stages, "payments.checkout_failure_rate"),
        (recon, "payments.recon_amount_mismatch"),
        (delayed, "payments.webhook_success_rate"),
    )
    notes = []
    for fetched, check_id in feeds:
        if not fetched.ok:
            findings.append(checks.error(checks.get(check_id), fetched.error or "", subject="영향 분석"))
            notes.append(f"측정 실패 ({fetched.name}): {fetched.error}")
    totals = totals_of(counted)
    table = by_cause_frame(rows, excluded)
    affected = rows.copy()
    if not affected.empty:
        affected["provider"] = affected["provider"].map(provider_label)
    return Impact(
        window=window,
        totals=totals,
        by_cause=table,
        affected=for_display(affected),
        markdown=impact_markdown(window, totals, table, excluded, tuple(notes), incomplete=bool(findings)),
        excluded=excluded,
        findings=tuple(findings),
        timings=timings(pending, uncredited, doubles, failed, stages, recon, delayed),
        affected_keys=from_rows(counted.to_dict("records")),
    )
