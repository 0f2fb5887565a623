"""Runbook §3-C 트리아지 1, second layer: is the database write itself failing?

Message inserts compared with the same window on previous days (creators stop writing when
the app cannot insert), the dispatcher's updates to 'sent', and REST errors on the messages
tables in the API gateway log.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy.engine import Connection

from opslib import checks
from opslib.display import evidence, for_display
from opslib.fetch import Fetched, QueryTiming, fetch, timings
from opslib.measures import join_counts, pct, rows, total
from opslib.results import Finding
from opslib.timewindow import Window

PREVIOUS_DAYS = 7


@dataclass(frozen=True)
class WriteLayer:
    """Inserts and sends against the same window of previous days, and REST answers on messages."""

    window: Window
    writes: pd.DataFrame  # days_ago, window_start (KST), inserts, sent
    usual_inserts: float | None  # median of the previous days
    usual_sent: float | None
    rest: pd.DataFrame  # resource, method, status_class, requests
    findings: tuple[Finding, ...]
    timings: tuple[QueryTiming, ...]


def write_layer(conn: Connection, window: Window) -> WriteLayer:
    """Measure the DB-write layer over the window (and the same window on the 7 previous days)."""
    writes = fetch(conn, "messaging.db_writes", {**window.params(), "days": PREVIOUS_DAYS})
    rest = fetch(conn, "messaging.rest_status", window.params())
    previous = writes.frame[writes.frame["days_ago"] > 0] if writes.ok and not writes.frame.empty else pd.DataFrame()
    usual_inserts = float(previous["inserts"].median()) if not previous.empty else None
    usual_sent = float(previous["sent"].median()) if not previous.empty else None
    findings = [insert_finding(writes, usual_inserts), rest_finding(rest)]
    return WriteLayer(
        window=window,
        writes=for_display(writes.frame),
        usual_inserts=usual_inserts,
        usual_sent=usual_sent,
        rest=rest.frame,
        findings=tuple(findings),
        timings=timings(writes, rest),
    )


def insert_finding(writes: Fetched, usual: float | None) -> Finding:
    check = checks.get("messaging.db_write_drop")
    if not writes.ok:
        return checks.error(check, writes.error or "")
    now = total(rows(writes.frame, days_ago=0), "inserts")
    sent = total(rows(writes.frame, days_ago=0), "sent")
    if not usual:
        return checks.evaluate(
            check, None, detail=f"이전 {PREVIOUS_DAYS}일 같은 시간대 메시지 작성 없음: 비교 불가 (inserts now {now})"
        )
    detail = f"작성 {now}건 (평소 중앙값 {usual:g}건) · 발송 처리 {sent}건 · 이전 {PREVIOUS_DAYS}일 같은 시간대와 비교"
    if usual < check.min_sample:
        detail += f" · 평소 {usual:g}건 < {check.min_sample}건: 판단 보류 (too few usual writes to judge a drop)"
    # the "sample" is the usual volume: a quiet hour's usual 3 inserts cannot show a drop
    return checks.evaluate(check, pct(now, usual), sample=int(usual), detail=detail, evidence=evidence(writes.frame))


def rest_finding(rest: Fetched) -> Finding:
    check = checks.get("messaging.rest_5xx_rate")
    if not rest.ok:
        return checks.error(check, rest.error or "")
    whole = total(rest.frame, "requests")
    errors = total(rest.frame, "requests", status_class="5xx")
    by_class = rest.frame.groupby("status_class")["requests"].sum() if whole else pd.Series(dtype=int)
    detail = (
        f"/rest/v1/messages·message_delivery 요청 {whole}건: "
        + join_counts((str(k), int(v)) for k, v in by_class.items())
        if whole
        else "edge_logs에 메시지 REST 요청 없음 (no REST requests on the messages tables drained)"
    )
    worst = rest.frame[rest.frame["status_class"] == "5xx"] if whole else rest.frame
    return checks.evaluate(
        check, pct(errors, whole), sample=whole, failures=errors, detail=detail, evidence=evidence(worst)
    )
