"""§4-E 크래시: the crash-free session rate, from Sentry only (the database holds no crash data).

Two ways in, both explicit: a session-stats export (the JSON Sentry's sessions API answers,
saved to a file and given as `sentry_sessions_file`), or an opt-in API call (`sentry_api`)
with the token from $SENTRY_AUTH_TOKEN. Without either the metric is NOT_EVALUATED with the
reason. The token is sent in a header and never written anywhere: errors name the HTTP status
or the exception's class, never the request.
"""

from __future__ import annotations

import json
import urllib.parse
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy.engine import Connection

from opslib import checks, sentry
from opslib.errors import ConfigError
from opslib.fetch import QueryTiming
from opslib.measures import pct
from opslib.results import Finding
from opslib.timewindow import Window, kst

TOKEN_ENV = sentry.TOKEN_ENV
SESSIONS_FIELD = "sum(session)"
CRASH_FREE_FIELD = "crash_free_rate(session)"


@dataclass(frozen=True)
class SessionStats:
    """Sessions and the crash-free rate over a period, as Sentry reported them."""

    sessions: int
    crash_free_pct: float | None
    start: datetime | None
    end: datetime | None
    origin: str  # "file <name>" or "Sentry API"


@dataclass(frozen=True)
class CrashFree:
    origin: str  # where the figure came from, or "" when there was none
    table: pd.DataFrame
    findings: tuple[Finding, ...]
    timings: tuple[QueryTiming, ...] = ()


def parse_sessions(data: Any, origin: str) -> SessionStats:
    """Sentry's sessions answer: groups[*].totals with sum(session) and crash_free_rate(session) (0..1)."""
    if not isinstance(data, dict) or not isinstance(data.get("groups"), list):
        raise ConfigError(f"{origin}: not a Sentry sessions answer (no 'groups' list)")
    sessions = 0
    crash_free = 0.0
    for group in data["groups"]:
        totals = group.get("totals", {}) if isinstance(group, dict) else {}
        n = totals.get(SESSIONS_FIELD)
        rate = totals.get(CRASH_FREE_FIELD)
        if not isinstance(n, int | float) or (rate is not None and not isinstance(rate, int | float)):
            raise ConfigError(f"{origin}: a group lacks totals.{SESSIONS_FIELD} / totals.{CRASH_FREE_FIELD}")
        if n and rate is not None:
            sessions += int(n)
            crash_free += float(rate) * int(n)
    return SessionStats(
        sessions=sessions,
        crash_free_pct=pct(crash_free, sessions),
        start=_instant(data.get("start")),
        end=_instant(data.get("end")),
        origin=origin,
    )


def _instant(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def load_export(path: str) -> SessionStats:
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"sentry_sessions_file={p.name!r} is not readable JSON ({exc.__class__.__name__})") from None
    return parse_sessions(data, f"file {p.name}")


def fetch_api(window: Window, org: str, project: str, timeout: float = sentry.TIMEOUT_S) -> SessionStats:
    """GET /api/0/organizations/<org>/sessions/ for the window (opslib.sentry: token from the environment)."""
    query = [
        ("field", SESSIONS_FIELD),
        ("field", CRASH_FREE_FIELD),
        ("start", window.since.isoformat()),
        ("end", window.until.isoformat()),
        ("interval", "1h"),
    ]
    if project:
        query.append(("project", project))
    try:
        data = sentry.get_json(f"/api/0/organizations/{urllib.parse.quote(org, safe='')}/sessions/", query, timeout)
    except sentry.SentryUnavailable as exc:
        raise ConfigError(str(exc)) from None
    return parse_sessions(data, "Sentry API")


def crash_free(
    _conn: Connection | None,
    window: Window,
    *,
    sessions_file: str = "",
    api: bool = False,
    org: str = "",
    project: str = "",
) -> CrashFree:
    """The §4-E crash row. A step like the others (it takes the page's session and reads no table)."""
    check = checks.get("alerts.crash_free_sessions")
    if not sessions_file and not api:
        reason = (
            "Sentry 데이터 없음: sentry_sessions_file (세션 통계 export) 또는 sentry_api = True "
            f"(${TOKEN_ENV}, sentry_org)를 주세요 (no Sentry source given; the database holds no crash data)"
        )
        return CrashFree("", pd.DataFrame(), (checks.evaluate(check, None, detail=reason),))
    try:
        stats = load_export(sessions_file) if sessions_file else fetch_api(window, org, project)
    except ConfigError as exc:
        return CrashFree("", pd.DataFrame(), (checks.error(check, str(exc)),))
    period = (
        f"{kst(stats.start, '%m-%d %H:%M')}–{kst(stats.end, '%m-%d %H:%M KST')}" if stats.start and stats.end else ""
    )
    table = pd.DataFrame(
        [
            {
                "source": stats.origin,
                "period": period or "-",
                "sessions": stats.sessions,
                "crash_free_pct": stats.crash_free_pct,
            }
        ]
    )
    if stats.start and stats.end and (stats.end <= window.since or stats.start >= window.until):
        detail = f"{stats.origin}의 기간 {period}이 측정 구간과 겹치지 않음 (the export is for another period)"
        return CrashFree(stats.origin, table, (checks.evaluate(check, None, detail=detail),))
    crashed = round(stats.sessions * (100 - (stats.crash_free_pct or 100)) / 100)
    detail = f"{stats.origin}: 세션 {stats.sessions:,}개 중 크래시 약 {crashed:,}개" + (
        f" ({period})" if period else ""
    )
    finding = checks.evaluate(check, stats.crash_free_pct, sample=stats.sessions, failures=crashed, detail=detail)
    return CrashFree(stats.origin, table, (finding,))
