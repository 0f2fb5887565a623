"""Runbook §3-B 트리아지 3 (JWT 만료 설정 확인): observed session lifetimes vs the configured expiry.

JWT Expiry is a dashboard setting (Supabase → Auth → Settings): the page takes it as the parameter
jwt_expiry_seconds and compares it with what the database shows. A client refreshes its access
token shortly before it expires, so the gap between two refresh tokens of one session is about the
expiry; a median gap far from the parameter means the setting is not what the team believes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd
from sqlalchemy.engine import Connection

from opslib import checks
from opslib.auth import attempts
from opslib.auth.attribution import nothing_attributed
from opslib.auth.detection import read_requests
from opslib.fetch import QueryTiming, fetch, timings
from opslib.measures import first_value, number
from opslib.results import Finding
from opslib.timewindow import Window

# Look back at least this far, and at least three expiries: a gap needs two tokens of one session.
MIN_LOOKBACK = timedelta(hours=3)
MAX_LOOKBACK = timedelta(days=1)


@dataclass(frozen=True)
class JwtExpiry:
    configured_s: int
    observed: pd.DataFrame  # measure, value
    session_errors: pd.DataFrame  # error_code, requests (bad_jwt, session_expired, refresh_token_*)
    sentence: str
    findings: tuple[Finding, ...]
    timings: tuple[QueryTiming, ...]


def lookback(window: Window, jwt_expiry_seconds: int) -> Window:
    span = max(MIN_LOOKBACK, timedelta(seconds=3 * jwt_expiry_seconds), window.until - window.since)
    return Window(window.until - min(span, MAX_LOOKBACK), window.until)


def jwt_expiry(conn: Connection, window: Window, jwt_expiry_seconds: int = 3600) -> JwtExpiry:
    span = lookback(window, jwt_expiry_seconds)
    chains = fetch(conn, "auth.refresh_chains", span.params())
    requests = read_requests(conn, window, nothing_attributed())
    frame = attempts.annotate(requests.frame) if requests.ok else attempts.annotate(pd.DataFrame())
    errors = frame[frame["outcome"] == attempts.SESSION] if not frame.empty else frame
    by_code = (
        errors.groupby("error_code")["requests"].sum().sort_values(ascending=False).reset_index()
        if not errors.empty
        else pd.DataFrame(columns=["error_code", "requests"])
    )
    finding = expiry_finding(chains.ok, chains.error, chains.frame, jwt_expiry_seconds, span.since)
    return JwtExpiry(
        configured_s=jwt_expiry_seconds,
        observed=observed_table(chains.frame, jwt_expiry_seconds),
        session_errors=by_code,
        sentence=finding.detail,
        findings=(finding,),
        timings=timings(chains, requests),
    )


def observed_table(frame: pd.DataFrame, configured: int) -> pd.DataFrame:
    rows = [("설정값 jwt_expiry_seconds (parameter)", float(configured))]
    names = {
        "tokens": "갱신 토큰 수 (refresh tokens in range)",
        "sessions": "세션 수 (sessions)",
        "rotations": "연속 토큰 간격 수 (gaps measured)",
        "gap_p10_s": "토큰 간격 P10 (s)",
        "gap_p50_s": "토큰 간격 중앙값 (s) ≈ 실제 만료",
        "gap_p90_s": "토큰 간격 P90 (s)",
        "session_age_p50_s": "세션 나이 중앙값 (s)",
        "session_age_max_s": "세션 나이 최대 (s)",
        "timeboxed_sessions": "not_after 설정 세션 (time-boxed)",
    }
    for col, name in names.items():
        value = number(first_value(frame, col))
        rows.append((name, value))
    return pd.DataFrame(rows, columns=["measure", "value"])


def expiry_finding(ok: bool, error: str | None, frame: pd.DataFrame, configured: int, since: datetime) -> Finding:
    check = checks.get("auth.jwt_expiry_mismatch")
    if not ok:
        return checks.error(check, error or "")
    gaps = int(number(first_value(frame, "rotations")) or 0)
    median = number(first_value(frame, "gap_p50_s"))
    if not gaps or median is None or median <= 0:
        return checks.evaluate(
            check,
            None,
            detail="auth.refresh_tokens에 연속 토큰 없음: 관측 불가 (no refresh token rotations to observe)",
        )
    ratio = max(median / configured, configured / median)
    verdict = (
        "설정과 일치 (agrees with the setting)"
        if ratio <= (check.warn or 2)
        else "설정과 다름: 대시보드의 JWT Expiry 확인 (disagrees: check Auth → Settings → JWT Expiry)"
    )
    return checks.evaluate(
        check,
        round(ratio, 2),
        sample=gaps,
        detail=f"관측 토큰 간격 중앙값 {median:,.0f}초 vs 설정 {configured:,}초 ({gaps:,}개 간격): {verdict}",
    )
