"""Runbook §3-A 트리아지 1: where is the Checkout → Confirm → Webhook → Ledger pipeline broken?"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pandas as pd
from sqlalchemy.engine import Connection

from opslib import checks
from opslib.display import evidence, for_display
from opslib.fetch import Fetched, QueryTiming, fetch, timings
from opslib.masking import mask_text
from opslib.measures import join_counts, number, pct, rows, total
from opslib.payments import causes
from opslib.payments.diagnosis import diagnose
from opslib.payments.stages import PROVIDERS, Stage, provider_label
from opslib.results import Finding
from opslib.timewindow import Window

# (label, lower bound s, upper bound s) of the lag histogram columns in funnel_lags.sql.
LAG_BUCKETS: tuple[tuple[str, float, float], ...] = (
    ("lt_5s", 0, 5),
    ("lt_30s", 5, 30),
    ("lt_1m", 30, 60),
    ("lt_2m", 60, 120),
    ("lt_5m", 120, 300),
    ("lt_10m", 300, 600),
    ("lt_30m", 600, 1800),
    ("lt_1h", 1800, 3600),
    ("ge_1h", 3600, float("inf")),
)
# Payments still stuck now are shown even if they began before the window: the customer has
# paid and has no DT until someone acts, whenever the webhook or the credit went missing.
OPEN_LOOKBACK = timedelta(days=1)


def open_params(window: Window, grace: timedelta) -> dict[str, object]:
    """Parameters of the still-open queries (pg_paid_db_pending, ledger_uncredited)."""
    return {**window.params(), "grace": grace, "open_since": min(window.since, window.until - OPEN_LOOKBACK)}


_TRANSITION = {"confirm": "checkout→confirm", "webhook": "confirm→webhook", "ledger": "paid→credit"}


@dataclass(frozen=True)
class Funnel:
    """The pipeline per provider, where purchases are stuck, and the broken stage named."""

    window: Window
    grace_minutes: int
    stages: (
        pd.DataFrame
    )  # provider, stage, stage_label, stage_order, entered, failed, stuck_after, oldest_stuck_after_s
    lags: pd.DataFrame  # provider, transition, n, p50_s, p95_s, max_s
    lag_histogram: pd.DataFrame  # provider, transition, bucket, lower_s, upper_s, n
    pg_paid_db_pending: pd.DataFrame  # masked rows: PG approved, DB pending or missing
    uncredited: pd.DataFrame  # masked rows: paid, no purchase_credit
    ledger_lag: pd.DataFrame  # provider, paid, credited, uncredited, lag_p50_s, lag_p95_s, lag_max_s
    failure_codes: pd.DataFrame  # provider, failure_code, purchases
    broken_stage: Stage | None
    diagnosis: str
    findings: tuple[Finding, ...]
    timings: tuple[QueryTiming, ...]


def funnel(conn: Connection, window: Window, grace_minutes: int = 5) -> Funnel:
    grace = timedelta(minutes=grace_minutes)
    whole = window.until - window.since  # one bucket: the funnel of the whole window
    stages = fetch(conn, "payments.funnel_stages", {**window.params(), "bucket": whole, "grace": grace})
    lags = fetch(conn, "payments.funnel_lags", window.params())
    pending = fetch(conn, "payments.pg_paid_db_pending", open_params(window, grace))
    ledger = fetch(conn, "payments.ledger_credit_lag", {**window.params(), "bucket": whole, "grace": grace})
    uncredited = fetch(conn, "payments.ledger_uncredited", open_params(window, grace))
    failed = fetch(conn, "payments.failed_purchases", window.params())

    findings = (
        confirm_findings(stages, failed)
        + pending_findings(pending, grace_minutes)
        + ledger_findings(ledger, uncredited, grace_minutes)
    )
    verdict = diagnose(findings)
    return Funnel(
        window=window,
        grace_minutes=grace_minutes,
        stages=stage_frame(stages.frame),
        lags=lag_frame(lags.frame),
        lag_histogram=lag_histogram(lags.frame),
        pg_paid_db_pending=for_display(pending.frame),
        uncredited=for_display(uncredited.frame),
        ledger_lag=ledger_frame(ledger.frame),
        failure_codes=failure_code_frame(failed.frame),
        broken_stage=verdict.stage,
        diagnosis=verdict.sentence,
        findings=tuple(findings),
        timings=timings(stages, lags, pending, ledger, uncredited, failed),
    )


# --- frames ----------------------------------------------------------------------------


def stage_frame(raw: pd.DataFrame) -> pd.DataFrame:
    """Long frame for a funnel chart: one row per provider and stage, zeros included."""
    records = []
    for provider in PROVIDERS:

        def n(col: str, p: str = provider) -> int:
            return total(raw, col, provider=p)

        def oldest(col: str, p: str = provider) -> float | None:
            if raw.empty:
                return None
            values = raw.loc[raw["provider"] == p, col].dropna()
            return float(values.max()) if not values.empty else None

        entered = {
            Stage.CHECKOUT: n("checkout"),
            Stage.CONFIRM: n("approved") + n("failed"),
            Stage.WEBHOOK: n("db_paid"),
            Stage.LEDGER: n("credited"),
        }
        stuck = {
            Stage.CHECKOUT: (n("stuck_checkout"), oldest("oldest_stuck_checkout_s")),
            Stage.CONFIRM: (n("stuck_confirm"), oldest("oldest_stuck_confirm_s")),
            Stage.WEBHOOK: (n("stuck_webhook"), oldest("oldest_stuck_webhook_s")),
            Stage.LEDGER: (0, None),
        }
        for stage in Stage:
            records.append(
                {
                    "provider": provider,
                    "stage": stage.value,
                    "stage_label": f"{stage.label} ({stage.label_ko})",
                    "stage_order": stage.order,
                    "entered": entered[stage],
                    "approved": n("approved") if stage is Stage.CONFIRM else None,
                    "failed": n("failed") if stage is Stage.CONFIRM else 0,
                    "stuck_after": stuck[stage][0],
                    "oldest_stuck_after_s": stuck[stage][1],
                }
            )
    return pd.DataFrame(records)


def lag_frame(raw: pd.DataFrame) -> pd.DataFrame:
    cols = ["provider", "transition", "n", "p50_s", "p95_s", "max_s"]
    if raw.empty:
        return pd.DataFrame(columns=cols)
    out = raw.copy()
    out["transition"] = out["transition"].map(lambda t: _TRANSITION.get(t, t))
    for col in ("p50_s", "p95_s", "max_s"):
        out[col] = [number(v) for v in out[col]]
    return out[cols].reset_index(drop=True)


def lag_histogram(raw: pd.DataFrame) -> pd.DataFrame:
    records = []
    for rec in raw.to_dict(orient="records"):
        for label, lower, upper in LAG_BUCKETS:
            records.append(
                {
                    "provider": rec["provider"],
                    "transition": _TRANSITION.get(rec["transition"], rec["transition"]),
                    "bucket": label,
                    "lower_s": lower,
                    "upper_s": upper,
                    "n": int(rec[label]),
                }
            )
    return pd.DataFrame(records, columns=["provider", "transition", "bucket", "lower_s", "upper_s", "n"])


def ledger_frame(raw: pd.DataFrame) -> pd.DataFrame:
    records = []
    for provider in PROVIDERS:
        part = rows(raw, provider=provider)
        records.append(
            {
                "provider": provider,
                "paid": total(part, "paid"),
                "credited": total(part, "credited"),
                "uncredited": total(part, "uncredited"),
                # One bucket per window: the percentiles of that bucket are the window's.
                "lag_p50_s": number(part["lag_p50_s"].max()) if not part.empty else None,
                "lag_p95_s": number(part["lag_p95_s"].max()) if not part.empty else None,
                "lag_max_s": number(part["lag_max_s"].max()) if not part.empty else None,
            }
        )
    return pd.DataFrame(records)


def failure_code_frame(raw: pd.DataFrame) -> pd.DataFrame:
    if raw.empty:
        return pd.DataFrame(columns=["provider", "failure_code", "purchases", "amount_krw"])
    # a PG's failure code is free text in our table: whatever a hand or a bug put there is masked
    raw = raw.assign(failure_code=raw["failure_code"].map(lambda v: mask_text(str(v)) if v is not None else v))
    grouped = (
        raw.groupby(["provider", "failure_code"], as_index=False)
        .agg(purchases=("order_id", "count"), amount_krw=("amount_krw", "sum"))
        .sort_values(["purchases", "provider"], ascending=[False, True])
    )
    return grouped.reset_index(drop=True)


# --- findings --------------------------------------------------------------------------


def confirm_findings(stages: Fetched, failed: Fetched) -> list[Finding]:
    check = checks.get("payments.checkout_failure_rate")
    if not stages.ok:
        return [checks.error(check, stages.error or "")]
    codes = failure_code_frame(failed.frame) if failed.ok else pd.DataFrame()
    out = []
    for provider in PROVIDERS:
        declined = total(stages.frame, "failed", provider=provider)
        approved = total(stages.frame, "approved", provider=provider)
        decided = declined + approved
        top = rows(codes, provider=provider).head(5)
        detail = f"{provider_label(provider)} PG 결정 {decided}건 중 실패 {declined}건"
        if not top.empty:
            detail += " (" + join_counts((str(r.failure_code), int(r.purchases)) for r in top.itertuples()) + ")"
        out.append(
            checks.evaluate(
                check,
                pct(declined, decided),
                sample=decided,
                failures=declined,
                subject=provider,
                detail=detail,
                evidence=evidence(top),
            )
        )
    return out


def pending_findings(pending: Fetched, grace_minutes: int) -> list[Finding]:
    check = checks.get("payments.pg_paid_db_pending")
    if not pending.ok:
        return [checks.error(check, pending.error or "")]
    out = []
    for provider in PROVIDERS:
        mine = rows(pending.frame, provider=provider)
        missing = int((mine["db_status"] == "missing").sum()) if not mine.empty else 0
        rejected = int((mine["rejected_signatures"] > 0).sum()) if not mine.empty else 0
        detail = f"{provider_label(provider)} PG 승인 후 {grace_minutes}분 넘게 DB 미반영 {len(mine)}건"
        if missing:
            detail += f" (DB 행 없음 {missing}건)"
        if rejected:
            detail += f" · 그중 {rejected}건은 webhook 서명 거부됨 (signature rejected: see 트리아지 3)"
        if len(mine):
            detail += f" · 가장 오래된 것 {float(mine['age_s'].max()) / 60:.0f}분"
        found = checks.evaluate(
            check,
            len(mine),
            subject=provider,
            detail=detail,
            evidence=evidence(
                mine,
                ["order_id", "db_status", "amount_krw", "approved_at", "age_s", "sources", "rejected_signatures"],
            ),
        )
        out.append(causes.tag(found, causes.PAID_NOT_RECORDED, mine))
    return out


def ledger_findings(ledger: Fetched, uncredited: Fetched, grace_minutes: int) -> list[Finding]:
    missing_check = checks.get("payments.ledger_uncredited")
    lag_check = checks.get("payments.ledger_lag_p95")
    out: list[Finding] = []
    if uncredited.ok:
        for provider in PROVIDERS:
            mine = rows(uncredited.frame, provider=provider)
            dt = int(mine["expected_dt"].sum()) if not mine.empty else 0
            detail = f"{provider_label(provider)} 결제 완료 후 {grace_minutes}분 넘게 미적립 {len(mine)}건"
            if len(mine):
                detail += f", 미적립 DT {dt:,}"
            found = checks.evaluate(
                missing_check,
                len(mine),
                subject=provider,
                detail=detail,
                evidence=evidence(mine, ["order_id", "user_id", "amount_krw", "expected_dt", "paid_at", "age_s"]),
            )
            out.append(causes.tag(found, causes.NOT_CREDITED, mine))
    else:
        out.append(checks.error(missing_check, uncredited.error or ""))
    if ledger.ok:
        frame = ledger_frame(ledger.frame)
        for row in frame.itertuples(index=False):
            sample = int(row.credited) + int(row.uncredited)
            out.append(
                checks.evaluate(
                    lag_check,
                    number(row.lag_p95_s),
                    sample=int(row.paid),
                    subject=row.provider,
                    detail=(
                        f"{provider_label(row.provider)} 결제 {row.paid}건, 적립 {row.credited}건"
                        + (f", 미적립 {row.uncredited}건 (지연은 지금까지의 값으로 포함)" if row.uncredited else "")
                        if sample or row.paid
                        else f"{provider_label(row.provider)} 구간 내 결제 없음 (no paid purchases)"
                    ),
                )
            )
    else:
        out.append(checks.error(lag_check, ledger.error or ""))
    return out
