"""Runbook §3-C 종료 조건: message delivery latency < 2 s, held for 5 consecutive minutes.

Judged per minute over the last half hour. A minute is good when
  * the backlog at its end is under the §4-E warning line (50);
  * no message was sent in it more than one cron period (+30 s) after it was due, and none is
    still waiting at its end that long after its due time (pg_cron runs the dispatcher every
    minute, so up to 60 s after the due time is by design; a message left waiting keeps every
    minute bad until it goes out, not only the minute it was due in);
  * inbox rows delivered in it reached fans within 2 s of the dispatcher sending (P95 of
    delivered_at - sent_at), when anything was delivered;
  * Realtime's delivery latency P95 in it is under 2 s, when it reported at least 3 latencies.
The held span is then judged once more as a whole for Realtime (latency P95 and error rate over
every event of the span), so minutes too quiet to judge alone cannot add up to "met" while
Realtime is failing. A query that fails makes the exit "cannot judge", never "met".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd
from sqlalchemy.engine import Connection

from opslib import checks
from opslib.display import for_display
from opslib.fetch import QueryTiming, fetch, timings
from opslib.measures import first_value, number, pct, total
from opslib.results import Finding
from opslib.timewindow import kst

BUCKET = timedelta(minutes=1)
LOOKBACK = timedelta(minutes=30)
BACKLOG_LINE = 50  # §4-E warning line
MIN_RT_SAMPLES = 3  # per minute
RT_ERROR_LINE = 2.0  # % (messaging.realtime_error_rate warn)
RT_MIN_ATTEMPTS = 20
RT_MIN_ERRORS = 5


@dataclass(frozen=True)
class ExitCondition:
    """Met (and since when) or what still fails; None when it cannot be judged."""

    hold_minutes: int
    met: bool | None
    met_since: datetime | None
    sentence: str
    buckets: pd.DataFrame  # bucket_start, bucket_end (KST), good, failing, due, late, backlog_end, ...
    findings: tuple[Finding, ...]  # ERROR only: a part that could not be measured
    timings: tuple[QueryTiming, ...]


def bucket_failures(row: dict[str, object], latency_line: float, late_after_s: float) -> list[str]:
    """Pure: what fails in one minute (empty: the minute is good)."""
    out = []
    backlog = int(row.get("backlog_end") or 0)  # type: ignore[call-overload]
    if backlog > BACKLOG_LINE:
        out.append(f"백로그 {backlog}건 > {BACKLOG_LINE}")
    late = int(row.get("late_sent") or 0)  # type: ignore[call-overload]
    if late:
        out.append(f"{late_after_s:.0f}초 넘게 늦은 발송 {late}건")
    waiting = int(row.get("late_waiting") or 0)  # type: ignore[call-overload]
    if waiting:
        out.append(f"{late_after_s:.0f}초 넘게 기다리는 메시지 {waiting}건")
    p95 = number(row.get("delivery_p95_ms"))
    if int(row.get("deliveries") or 0) and p95 is not None and p95 >= latency_line:  # type: ignore[call-overload]
        out.append(f"전달 지연 P95 {p95 / 1000:.1f}초")
    rt = number(row.get("rt_latency_p95_ms"))
    if int(row.get("rt_latency_samples") or 0) >= MIN_RT_SAMPLES and rt is not None and rt >= latency_line:  # type: ignore[call-overload]
        out.append(f"Realtime P95 {rt / 1000:.1f}초")
    return out


def exit_condition(conn: Connection, until: datetime, hold_minutes: int = 5) -> ExitCondition:
    """Judge the exit condition at `until` over the last half hour, per minute."""
    latency = checks.get("messaging.exit_delivery_latency")
    lateness = checks.get("messaging.exit_dispatch_lateness")
    line = float(latency.warn or 2000)
    late_after = timedelta(seconds=float(lateness.warn or 90))
    span = max(LOOKBACK, timedelta(minutes=hold_minutes * 2))
    buckets = fetch(
        conn,
        "messaging.exit_buckets",
        {"since": until - span, "until": until, "bucket": BUCKET, "late_after": late_after},
    )
    if not buckets.ok:
        error = checks.error(latency, buckets.error or "")
        return ExitCondition(
            hold_minutes,
            None,
            None,
            f"판단 불가 (cannot judge): {buckets.error}",
            pd.DataFrame(),
            (error,),
            timings(buckets),
        )
    frame = buckets.frame.copy()
    failing = [bucket_failures(r, line, late_after.total_seconds()) for r in frame.to_dict("records")]
    frame["failing"] = ["; ".join(f) for f in failing]
    frame["good"] = [not f for f in failing]
    met_since = good_since(frame)
    held = (until - met_since).total_seconds() / 60 if met_since is not None else 0.0
    realtime = None
    span_problem = ""
    if met_since is not None:
        realtime = fetch(conn, "messaging.realtime_latencies", {"since": met_since, "until": until})
        span_problem = realtime_span_problem(realtime.frame) if realtime.ok else ""
    if realtime is not None and not realtime.ok:
        error = checks.error(latency, realtime.error or "")
        return ExitCondition(
            hold_minutes,
            None,
            met_since,
            f"판단 불가 (cannot judge): Realtime 측정 실패 {realtime.error}",
            for_display(frame),
            (error,),
            timings(buckets, realtime),
        )
    met = met_since is not None and held >= hold_minutes and not span_problem
    sentence = exit_sentence(frame, met, met_since, held, hold_minutes, span_problem)
    return ExitCondition(
        hold_minutes,
        met,
        met_since if met else None,
        sentence,
        for_display(frame),
        (),
        timings(buckets, *([realtime] if realtime is not None else [])),
    )


def good_since(frame: pd.DataFrame) -> datetime | None:
    """Start of the run of good minutes that reaches the last minute (None: the last minute fails)."""
    if frame.empty or not bool(frame["good"].iloc[-1]):
        return None
    start = None
    for row in frame.iloc[::-1].itertuples():
        if not row.good:
            break
        start = row.bucket_start
    return pd.Timestamp(start).to_pydatetime() if start is not None else None


def realtime_span_problem(frame: pd.DataFrame) -> str:
    """Pure: Realtime over the whole held span (too quiet per minute, still judged as a whole)."""
    samples = total(frame, "latency_samples")
    p95 = number(first_value(frame, "latency_p95_ms"))
    joins, errors = total(frame, "joins"), total(frame, "errors")
    problems = []
    if samples >= MIN_RT_SAMPLES and p95 is not None and p95 >= 2000:
        problems.append(f"유지 구간 Realtime P95 {p95 / 1000:.1f}초")
    rate = pct(errors, joins + errors)
    if rate is not None and rate > RT_ERROR_LINE and (joins + errors >= RT_MIN_ATTEMPTS or errors >= RT_MIN_ERRORS):
        problems.append(f"유지 구간 Realtime 에러율 {rate:.1f}%")
    return "; ".join(problems)


def exit_sentence(
    frame: pd.DataFrame, met: bool, since: datetime | None, held: float, hold: int, span_problem: str
) -> str:
    quiet = ""
    if since is not None:
        recent = frame[pd.to_datetime(frame["bucket_start"], utc=True) >= pd.Timestamp(since)]
        if not total(recent, "due") and not total(recent, "deliveries") and not total(recent, "rt_latency_samples"):
            quiet = (
                " · 조용한 구간: 예정 발송/전달/Realtime 지연 표본 없음, 백로그로만 판단 (quiet: judged on the backlog)"
            )
    if met:
        at = kst(since, "%H:%M KST")
        return f"종료 조건 충족: {at} 이후 {held:.0f}분 유지 (≥ {hold}분) (met since {at}){quiet}"
    if span_problem:
        return f"미충족: {span_problem} (not met over the held span){quiet}"
    if since is not None:
        return (
            f"미충족: {kst(since, '%H:%M KST')} 이후 {held:.0f}분 정상, {hold}분 유지 필요 "
            f"(not met: good for {held:.0f} of {hold} min){quiet}"
        )
    last_bad = frame[~frame["good"]].iloc[-1] if not frame.empty and (~frame["good"]).any() else None
    if last_bad is None:
        return "미충족: 판단할 구간 없음 (no minutes to judge)"
    at = kst(pd.Timestamp(last_bad["bucket_start"]).to_pydatetime(), "%H:%M KST")
    return f"미충족 (not met): {at} 현재 {last_bad['failing']}"
