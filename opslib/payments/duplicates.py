"""Runbook §3-A 트리아지 2: idempotency (the same webhook twice, a key reused, a purchase credited twice)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy.engine import Connection

from opslib import checks
from opslib.display import evidence, for_display
from opslib.fetch import Fetched, QueryTiming, fetch, timings
from opslib.measures import join_counts
from opslib.payments import causes
from opslib.payments.stages import provider_label
from opslib.results import Finding
from opslib.timewindow import Window


@dataclass(frozen=True)
class Idempotency:
    window: Window
    duplicate_webhooks: pd.DataFrame  # provider, webhook_id, processed, first_at, last_at, order_ids ...
    conflicts: pd.DataFrame  # kind (key_reused | shared_purchase_key), scope, key, ...
    double_credits: pd.DataFrame  # provider, order_id, credits, credited_dt, extra_dt, ...
    extra_dt: int  # DT credited more than once in the window, the number a post-mortem quotes
    findings: tuple[Finding, ...]
    timings: tuple[QueryTiming, ...]


def idempotency(conn: Connection, window: Window) -> Idempotency:
    dup = fetch(conn, "payments.duplicate_webhook_processing", window.params())
    conflicts = fetch(conn, "payments.idempotency_conflicts", window.params())
    doubles = fetch(conn, "payments.double_credits", window.params())
    extra = int(doubles.frame["extra_dt"].sum()) if doubles.ok and not doubles.frame.empty else 0
    findings = [duplicate_finding(dup), conflict_finding(conflicts), double_credit_finding(doubles)]
    return Idempotency(
        window=window,
        duplicate_webhooks=for_display(dup.frame),
        conflicts=for_display(conflicts.frame),
        double_credits=for_display(doubles.frame),
        extra_dt=extra,
        findings=tuple(findings),
        timings=timings(dup, conflicts, doubles),
    )


def duplicate_finding(dup: Fetched) -> Finding:
    check = checks.get("payments.duplicate_webhook_processing")
    if not dup.ok:
        return checks.error(check, dup.error or "")
    frame = dup.frame
    by_provider = frame.groupby("provider").size() if not frame.empty else pd.Series(dtype=int)
    detail = f"같은 webhook_id가 두 번 이상 처리됨 {len(frame)}건"
    if len(frame):
        detail += " (" + join_counts((provider_label(str(k)), int(v)) for k, v in by_provider.items()) + ")"
    return checks.evaluate(
        check,
        len(frame),
        detail=detail,
        evidence=evidence(frame, ["provider", "webhook_id", "processed", "first_at", "last_at", "order_ids"]),
    )


def conflict_finding(conflicts: Fetched) -> Finding:
    check = checks.get("payments.idempotency_conflicts")
    if not conflicts.ok:
        return checks.error(check, conflicts.error or "")
    frame = conflicts.frame
    kinds = frame.groupby("kind").size() if not frame.empty else pd.Series(dtype=int)
    labels = {"key_reused": "다른 요청에 재사용된 키 (409/422)", "shared_purchase_key": "다른 사용자와 공유된 결제 키"}
    detail = f"멱등성 키 충돌 {len(frame)}건"
    if len(frame):
        detail += " (" + join_counts((labels.get(str(k), str(k)), int(v)) for k, v in kinds.items()) + ")"
    return checks.evaluate(check, len(frame), detail=detail, evidence=evidence(frame))


def double_credit_finding(doubles: Fetched, subject: str | None = None) -> Finding:
    check = checks.get("payments.double_credit")
    if not doubles.ok:
        return checks.error(check, doubles.error or "", subject=subject)
    frame = doubles.frame
    extra = int(frame["extra_dt"].sum()) if not frame.empty else 0
    detail = f"이중 적립 {len(frame)}건"
    if len(frame):
        detail += f", 중복 적립 DT {extra:,} (users {frame['user_id'].nunique()})"
    found = checks.evaluate(
        check,
        len(frame),
        subject=subject,
        detail=detail,
        evidence=evidence(
            frame,
            ["provider", "order_id", "user_id", "credits", "expected_dt", "credited_dt", "extra_dt", "last_credit_at"],
        ),
    )
    return causes.tag(found, causes.DOUBLE_CREDIT, frame)
