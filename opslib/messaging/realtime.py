"""Runbook §3-C 트리아지 1 (Realtime 연결) and 2 (연결 수/에러율), and whether a Realtime restart helped.

The Realtime dashboard is outside the database; its server log is drained into
logs.realtime_logs, and this reads channel joins, errors and delivery latency from there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd
from sqlalchemy.engine import Connection

from opslib.display import for_display
from opslib.fetch import QueryTiming, fetch, timings
from opslib.measures import first_value, number, pct, total
from opslib.timewindow import Window, kst, parse_instant

BUCKET = timedelta(minutes=5)
# Without a restart time, "after" is the last 10 minutes of the window.
AFTER_DEFAULT = timedelta(minutes=10)


@dataclass(frozen=True)
class RealtimeLayer:
    """Realtime per 5 minutes (connections, errors, error rate, latency) and the errors by kind."""

    window: Window
    buckets: pd.DataFrame  # bucket_start (KST), events, joins, errors, error_rate, latency_p95_ms, ...
    errors: pd.DataFrame  # event_type, message, errors, first_at, last_at
    timings: tuple[QueryTiming, ...]


def realtime_layer(conn: Connection, window: Window) -> RealtimeLayer:
    buckets = fetch(conn, "messaging.realtime_buckets", {**window.params(), "bucket": BUCKET})
    errors = fetch(conn, "messaging.realtime_errors", window.params())
    return RealtimeLayer(
        window=window,
        buckets=for_display(with_error_rate(buckets.frame)),
        errors=for_display(errors.frame),
        timings=timings(buckets, errors),
    )


def with_error_rate(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    if out.empty:
        for col in ("errors", "error_rate"):
            out[col] = pd.Series(dtype=float)
        return out
    out["errors"] = out["channel_errors"] + out["connection_errors"] + out["other_errors"]
    out["error_rate"] = [pct(e, j + e) for e, j in zip(out["errors"], out["joins"], strict=True)]
    return out


@dataclass(frozen=True)
class RestartCheck:
    """Realtime before and after a restart done in the Supabase dashboard (복구)."""

    restart_at: datetime
    before: dict[str, float | int | None]
    after: dict[str, float | int | None]
    helped: bool | None  # None: too little traffic after the restart to tell
    sentence: str
    table: pd.DataFrame
    timings: tuple[QueryTiming, ...]


def _summary(frame: pd.DataFrame) -> dict[str, float | int | None]:
    joins, errors = total(frame, "joins"), total(frame, "errors")
    return {
        "events": total(frame, "events"),
        "joins": joins,
        "errors": errors,
        "error_rate_pct": pct(errors, joins + errors),
        "latency_p95_ms": number(first_value(frame, "latency_p95_ms")),
        "latency_samples": total(frame, "latency_samples"),
    }


def restart_check(conn: Connection, window: Window, restart_at: str = "") -> RestartCheck:
    """Compare Realtime before and after `restart_at` (ISO; empty: the window's last 10 minutes)."""
    at = parse_instant(restart_at, name="realtime_restart_at") if restart_at else window.until - AFTER_DEFAULT
    at = min(max(at, window.since), window.until)
    before_f = fetch(conn, "messaging.realtime_latencies", {"since": window.since, "until": at})
    after_f = fetch(conn, "messaging.realtime_latencies", {"since": at, "until": window.until})
    before, after = _summary(before_f.frame), _summary(after_f.frame)
    helped: bool | None = None
    label = "재시작" if restart_at else "최근 10분"
    if not (before_f.ok and after_f.ok):
        sentence = f"Realtime 전/후 비교 실패: {before_f.error or after_f.error}"
    elif not after["events"]:
        sentence = (
            f"{label} 이후 Realtime 이벤트 없음: 효과 판단 불가 (no Realtime events after {kst(at, '%H:%M KST')})"
        )
    else:
        rate_after = after["error_rate_pct"] or 0.0
        p95_after, p95_before = after["latency_p95_ms"], before["latency_p95_ms"]
        helped = rate_after <= 2 and (p95_after is None or p95_after <= 2000)
        sentence = (
            f"{kst(at, '%H:%M KST')} {label} 이후: 에러율 {rate_after:.1f}% · P95 {_ms(p95_after)} "
            f"(이전 에러율 {(before['error_rate_pct'] or 0):.1f}% · P95 {_ms(p95_before)}) → "
            + ("정상 범위 (normal: error rate ≤ 2 %, P95 ≤ 2 s)" if helped else "아직 비정상 (still degraded)")
        )
    table = pd.DataFrame(
        [{"구간 (span)": "before", **before}, {"구간 (span)": "after", **after}],
    )
    return RestartCheck(at, before, after, helped, sentence, table, timings(before_f, after_f))


def _ms(value: float | int | None) -> str:
    return "-" if value is None else f"{value:.0f} ms"
