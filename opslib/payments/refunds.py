"""Runbook §3-A 복구 (refund-process): refunds and chargebacks still open, and where they wait."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd
from sqlalchemy.engine import Connection

from opslib import checks
from opslib.display import evidence, for_display
from opslib.fetch import QueryTiming, fetch, timings
from opslib.measures import rows
from opslib.results import Finding

STUCK_HOURS = 24  # payments.refunds_stuck: "open for more than 24 h"
_STUCK_LABEL = {
    "awaiting_approval": "승인 대기 (requested: awaiting approval)",
    "pg_cancel_pending": "PG 취소 대기 (processing: PG cancel pending)",
    "dispute_unresolved": "분쟁 진행 중 (chargeback dispute UNRESOLVED)",
}


@dataclass(frozen=True)
class Refunds:
    now: datetime
    open: pd.DataFrame  # one row per open refund / dispute, masked, KST, age_h
    by_stage: pd.DataFrame  # stuck_at, label, open, over_24h, oldest_age_h, amount_krw
    findings: tuple[Finding, ...]
    timings: tuple[QueryTiming, ...]


def open_refunds(conn: Connection, now: datetime) -> Refunds:
    fetched = fetch(conn, "payments.open_refunds", {"now": now})
    check = checks.get("payments.refunds_stuck")
    frame = fetched.frame.copy()
    if not frame.empty:
        frame["age_h"] = frame["age_s"].astype(float) / 3600
    if not fetched.ok:
        findings = (checks.error(check, fetched.error or ""),)
    else:
        # Card disputes take weeks by design: they are listed, but only refunds count as stuck.
        refunds = frame[frame["stuck_at"] != "dispute_unresolved"] if not frame.empty else frame
        stuck = refunds[refunds["age_h"] > STUCK_HOURS] if not refunds.empty else refunds
        detail = (
            f"미완료 환불 {len(refunds)}건 중 24시간 초과 {len(stuck)}건 "
            f"(분쟁 진행 중 차지백 {len(frame) - len(refunds)}건은 별도 표시)"
        )
        findings = (
            checks.evaluate(
                check,
                len(stuck),
                detail=detail,
                evidence=evidence(stuck, ["provider", "order_id", "kind", "status", "stuck_at", "amount_krw", "age_h"]),
            ),
        )
    return Refunds(
        now=now,
        open=for_display(frame),
        by_stage=stage_summary(frame),
        findings=findings,
        timings=timings(fetched),
    )


def stage_summary(frame: pd.DataFrame) -> pd.DataFrame:
    records = []
    for stage, label in _STUCK_LABEL.items():
        part = rows(frame, stuck_at=stage)
        records.append(
            {
                "stuck_at": stage,
                "label": label,
                "open": len(part),
                "over_24h": int((part["age_h"] > STUCK_HOURS).sum()) if len(part) else 0,
                "oldest_age_h": float(part["age_h"].max()) if len(part) else None,
                "amount_krw": int(part["amount_krw"].sum()) if len(part) else 0,
            }
        )
    return pd.DataFrame(records)
