"""Runbook §3-C 감지 (detect): are scheduled messages going out, reaching every fan, and in real time?"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd
from sqlalchemy.engine import Connection

from opslib import checks
from opslib.display import evidence, for_display
from opslib.fetch import Fetched, QueryTiming, fetch, timings
from opslib.measures import first_value, number, pct, total
from opslib.results import Finding
from opslib.timewindow import Window, kst

# The dispatcher writes a message's delivery rows before it marks it sent; a minute covers a
# fan-out still in flight when the page reads (the next cron run).
DELIVERY_GRACE = timedelta(minutes=1)
BACKLOG_LIST = 100


@dataclass(frozen=True)
class Backlog:
    """Overdue pending messages at one moment (the §4-E backlog)."""

    at: datetime
    overdue: int | None  # None: could not be measured
    send_now: int
    paid: int
    senders: int
    oldest_due: datetime | None
    oldest_age_s: float | None


@dataclass(frozen=True)
class Detection:
    """What §3-C 감지 shows: the backlog, sent messages missing deliveries, Realtime health."""

    window: Window
    backlog: Backlog
    backlog_messages: pd.DataFrame  # the oldest overdue messages (masked, KST)
    delivery_gaps: pd.DataFrame  # sent messages with fewer inbox rows than their audience
    sent_messages: int
    realtime: pd.DataFrame  # one row: events, joins, errors, latency percentiles
    findings: tuple[Finding, ...]
    timings: tuple[QueryTiming, ...]


def detect(conn: Connection, window: Window) -> Detection:
    """Measure the §3-C 감지 signals: backlog at the window's end, deliveries and Realtime over the window."""
    backlog = fetch(conn, "messaging.backlog", {"until": window.until})
    listed = fetch(conn, "messaging.backlog_messages", {"until": window.until, "max_rows": BACKLOG_LIST})
    gaps = fetch(conn, "messaging.delivery_gaps", {**window.params(), "grace": DELIVERY_GRACE})
    realtime = fetch(conn, "messaging.realtime_latencies", window.params())

    measured = read_backlog(backlog, window.until)
    findings = [backlog_finding(backlog, measured), gaps_finding(gaps), *realtime_findings(realtime)]
    missing = gaps.frame[gaps.frame["missing"] > 0] if gaps.ok and not gaps.frame.empty else gaps.frame
    return Detection(
        window=window,
        backlog=measured,
        backlog_messages=for_display(listed.frame),
        delivery_gaps=for_display(missing),
        sent_messages=len(gaps.frame) if gaps.ok else 0,
        realtime=realtime.frame,
        findings=tuple(findings),
        timings=timings(backlog, listed, gaps, realtime),
    )


def read_backlog(fetched: Fetched, at: datetime) -> Backlog:
    if not fetched.ok or fetched.frame.empty:
        return Backlog(at, None, 0, 0, 0, None, None)
    f = fetched.frame
    oldest = first_value(f, "oldest_due")
    return Backlog(
        at=at,
        overdue=total(f, "overdue"),
        send_now=total(f, "overdue_send_now"),
        paid=total(f, "overdue_paid"),
        senders=total(f, "senders"),
        oldest_due=pd.Timestamp(oldest).to_pydatetime() if oldest is not None else None,  # type: ignore[arg-type]
        oldest_age_s=number(first_value(f, "oldest_age_s")),
    )


def age_text(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 120:
        return f"{seconds:.0f}초"
    if seconds < 7200:
        return f"{seconds / 60:.0f}분"
    return f"{seconds / 3600:.1f}시간"


def backlog_finding(fetched: Fetched, backlog: Backlog) -> Finding:
    check = checks.get("messaging.scheduled_backlog")
    if not fetched.ok or backlog.overdue is None:
        return checks.error(check, fetched.error or "backlog not measured")
    detail = f"{kst(backlog.at, '%H:%M KST')} 기준 미발송 {backlog.overdue}건"
    if backlog.overdue:
        detail += (
            f" · 가장 오래된 것 {age_text(backlog.oldest_age_s)} 지남"
            f" (due {kst(backlog.oldest_due, '%m-%d %H:%M KST')})"
            f" · 유료 {backlog.paid}건 · 보낸 사람 {backlog.senders}명"
        )
        if backlog.send_now:
            detail += f" · 즉시 발송(scheduled_at NULL) {backlog.send_now}건: 런북 쿼리에는 안 잡힘"
    return checks.evaluate(check, backlog.overdue, detail=detail)


def gaps_finding(gaps: Fetched) -> Finding:
    check = checks.get("messaging.delivery_missing")
    if not gaps.ok:
        return checks.error(check, gaps.error or "")
    frame = gaps.frame
    short = frame[frame["missing"] > 0] if not frame.empty else frame
    fans = total(short, "missing")
    unknown = int((frame["audience"] == "followers").sum()) if not frame.empty else 0
    detail = f"발송 {len(frame)}건 중 inbox 누락 {len(short)}건 (빠진 수신자 {fans}명)"
    if unknown:
        detail += (
            f" · followers 대상 {unknown}건은 팔로워 테이블이 계약에 없어 inbox 행이 하나도 없을 때만 누락으로 셈"
            " (no follower table in the contract)"
        )
    cols = ["message_id", "audience", "sent_at", "expected", "inbox_rows", "missing"]
    return checks.evaluate(check, len(short), detail=detail, evidence=evidence(short, cols))


def realtime_findings(realtime: Fetched) -> list[Finding]:
    latency = checks.get("messaging.realtime_latency_p95")
    errors = checks.get("messaging.realtime_error_rate")
    if not realtime.ok:
        return [checks.error(latency, realtime.error or ""), checks.error(errors, realtime.error or "")]
    f = realtime.frame
    samples = total(f, "latency_samples")
    p95 = number(first_value(f, "latency_p95_ms"))
    p50 = number(first_value(f, "latency_p50_ms"))
    slow = 0 if p95 is None else samples  # the latency check's "failures": every sample counts once p95 is high
    latency_detail = (
        f"지연 표본 {samples}건 · P50 {p50:.0f} ms · P95 {p95:.0f} ms"
        if p95 is not None and p50 is not None
        else "realtime_logs에 지연(latency_ms) 기록 없음 (no latency reported in the window)"
    )
    joins = total(f, "joins")
    failed = total(f, "errors")
    attempts = joins + failed
    error_detail = (
        f"채널 join {joins}건 · 에러 {failed}건 (channel_error/connection_error)"
        if total(f, "events")
        else "realtime_logs 비어 있음 (no Realtime events drained for the window)"
    )
    return [
        checks.evaluate(
            latency,
            p95,
            sample=samples,
            failures=slow if p95 is not None and p95 > (latency.warn or 0) else 0,
            detail=latency_detail,
        ),
        checks.evaluate(errors, pct(failed, attempts), sample=attempts, failures=failed, detail=error_detail),
    ]
