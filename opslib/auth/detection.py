"""Runbook §3-B 감지 (detect): are logins failing, is /token answering, are 401s spiking?"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import timedelta

import pandas as pd
from sqlalchemy.engine import Connection

from opslib import checks
from opslib.auth import attempts
from opslib.auth.attribution import Attribution, attribute, request_params
from opslib.display import evidence, for_display
from opslib.fetch import Fetched, QueryTiming, fetch, timings
from opslib.measures import pct
from opslib.results import Finding
from opslib.timewindow import Window

BUCKET = timedelta(minutes=5)
HISTORY_DAYS = 7
METHOD_LABELS = {
    "password": "이메일 비밀번호 (password)",
    "id_token": "네이티브 소셜 (id_token)",
    "pkce": "웹 소셜 (pkce)",
    "social_callback": "소셜 콜백 (/callback)",
    "otp": "OTP (/verify)",
}


@dataclass(frozen=True)
class Detection:
    """What §3-B 감지 shows: login failure rates, /token health, 401s against previous days."""

    window: Window
    login_buckets: pd.DataFrame  # bucket_start (KST), series, attempts, failures, failure_rate
    by_method: pd.DataFrame  # method, attempts, failures, failure_rate, top failure codes
    token_health: pd.DataFrame  # /token per bucket: requests, server errors/no answer, slow
    unauthorized: pd.DataFrame  # days_back, window start (KST), 401s, requests
    excluded_attempts: int  # login attempts left out as attack / hammering (see triage 2)
    findings: tuple[Finding, ...]
    timings: tuple[QueryTiming, ...]


def read_requests(
    conn: Connection, window: Window, attribution: Attribution, slow_ms: float = 3000.0, bucket: timedelta = BUCKET
) -> Fetched:
    params = {**window.params(), "bucket": bucket, "slow_ms": float(slow_ms), **request_params(attribution)}
    return fetch(conn, "auth.requests", params)


def detect(conn: Connection, window: Window, slow_ms: float = 3000.0) -> Detection:
    """Measure the §3-B 감지 signals over the window."""
    who = attribute(conn, window.since, window.until)
    requests = read_requests(conn, window, who, slow_ms)
    history = fetch(conn, "auth.api_401_history", {**window.params(), "days_back": HISTORY_DAYS})
    frame = attempts.annotate(requests.frame) if requests.ok else attempts.annotate(pd.DataFrame())
    logins = attempts.logins(frame)
    excluded = attempts.counts(attempts.logins(frame, include_excluded=True))[0] - attempts.counts(logins)[0]

    findings: list[Finding] = []
    findings += login_rate_findings(requests, logins, excluded)
    findings += token_findings(requests, frame, slow_ms)
    findings += unauthorized_findings(history)
    return Detection(
        window=window,
        login_buckets=for_display(login_buckets(logins)),
        by_method=method_table(logins),
        token_health=for_display(token_buckets(frame)),
        unauthorized=for_display(history.frame),
        excluded_attempts=excluded,
        findings=tuple(findings),
        timings=timings(who.sources, who.users, requests, history),
    )


def method_table(logins: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for method in attempts.LOGIN_METHODS:
        part = logins[logins["method"] == method] if not logins.empty else logins
        n, failed = attempts.counts(part)
        if n:
            rows.append(
                {
                    "method": METHOD_LABELS[method],
                    "attempts": n,
                    "failures": failed,
                    "failure_rate": pct(failed, n),
                    "failure_codes": attempts.top_codes(part),
                }
            )
    return pd.DataFrame(rows, columns=["method", "attempts", "failures", "failure_rate", "failure_codes"])


def login_buckets(logins: pd.DataFrame) -> pd.DataFrame:
    """Per bucket: every login method together ('all') and each method, for the chart."""
    columns = ["bucket_start", "series", "attempts", "failures", "failure_rate"]
    if logins.empty:
        return pd.DataFrame(columns=columns)
    records = []
    for start, part in logins.groupby("bucket_start"):
        n, failed = attempts.counts(part)
        records.append({"bucket_start": start, "series": "all", "attempts": n, "failures": failed})
        for method, mpart in part.groupby("method"):
            n, failed = attempts.counts(mpart)
            records.append({"bucket_start": start, "series": str(method), "attempts": n, "failures": failed})
    out = pd.DataFrame(records)
    out["failure_rate"] = [pct(f, n) for f, n in zip(out["failures"], out["attempts"], strict=True)]
    return out[columns]


def login_rate_findings(requests: Fetched, logins: pd.DataFrame, excluded: int) -> list[Finding]:
    check = checks.get("auth.login_failure_rate")
    if not requests.ok:
        return [checks.error(check, requests.error or "", subject="all")]
    note = f" · 공격/반복 시도 {excluded:,}건 제외 (attack or hammering, see 트리아지 2)" if excluded else ""
    n, failed = attempts.counts(logins)
    out = [
        checks.evaluate(
            check,
            pct(failed, n),
            sample=n,
            failures=failed,
            subject="all",
            detail=(
                f"로그인 {n:,}건 중 실패 {failed:,}건" + (f" ({attempts.top_codes(logins)})" if failed else "") + note
                if n
                else "측정 구간에 로그인 시도 없음 (no login attempts in the window)" + note
            ),
            evidence=evidence(
                logins[logins["failed"]].sort_values("requests", ascending=False) if not logins.empty else logins,
                ["method", "provider", "platform", "status", "error_code", "requests", "first_at", "last_at"],
            ),
        )
    ]
    for method in attempts.LOGIN_METHODS:
        part = logins[logins["method"] == method] if not logins.empty else logins
        n, failed = attempts.counts(part)
        if not n:
            continue
        out.append(
            checks.evaluate(
                check,
                pct(failed, n),
                sample=n,
                failures=failed,
                subject=method,
                detail=f"{METHOD_LABELS[method]} {n:,}건 중 실패 {failed:,}건"
                + (f" ({attempts.top_codes(part)})" if failed else ""),
            )
        )
    return out


def token_buckets(frame: pd.DataFrame) -> pd.DataFrame:
    columns = ["bucket_start", "requests", "server_errors", "slow", "timed"]
    token = frame[frame["path"] == "/token"] if not frame.empty else frame
    if token.empty:
        return pd.DataFrame(columns=columns)
    token = token.assign(server=token["outcome"] == attempts.SERVER_ERROR)
    out = token.groupby("bucket_start").apply(
        lambda g: pd.Series(
            {
                "requests": int(g["requests"].sum()),
                "server_errors": int(g.loc[g["server"], "requests"].sum()),
                "slow": int(g["slow"].sum()),
                "timed": int(g["timed"].sum()),
            }
        ),
        include_groups=False,
    )
    return out.reset_index()[columns]


def token_findings(requests: Fetched, frame: pd.DataFrame, slow_ms: float) -> list[Finding]:
    errors = checks.get("auth.token_server_errors")
    slow = checks.get("auth.token_slow_answers")
    if not requests.ok:
        return [checks.error(errors, requests.error or ""), checks.error(slow, requests.error or "")]
    token = frame[(frame["path"] == "/token") & ~frame["excluded"].astype(bool)] if not frame.empty else frame
    n = int(token["requests"].sum()) if not token.empty else 0
    server = token[token["outcome"] == attempts.SERVER_ERROR] if not token.empty else token
    bad = int(server["requests"].sum()) if not server.empty else 0
    no_answer = int(server.loc[server["status"].isna(), "requests"].sum()) if not server.empty else 0
    out = [
        checks.evaluate(
            errors,
            pct(bad, n),
            sample=n,
            failures=bad,
            detail=(
                f"/token {n:,}건 중 5xx {bad - no_answer:,}건 · 무응답 {no_answer:,}건"
                + (f" ({attempts.top_codes(token)})" if bad else "")
                if n
                else "측정 구간에 /token 요청 없음 (no /token requests)"
            ),
            evidence=evidence(
                server.sort_values("requests", ascending=False) if not server.empty else server,
                ["method", "status", "error_code", "requests", "first_at", "last_at"],
            ),
        )
    ]
    timed = int(token["timed"].sum()) if not token.empty else 0
    slow_n = int(token["slow"].sum()) if not token.empty else 0
    if timed == 0:
        out.append(
            checks.evaluate(
                slow,
                None,
                detail="auth_logs에 응답 시간(duration)이 없음: 느린 응답은 판단 불가 (the drain carries no duration)",
            )
        )
    else:
        out.append(
            checks.evaluate(
                slow,
                pct(slow_n, timed),
                sample=timed,
                failures=slow_n,
                detail=f"/token 응답 {timed:,}건 중 {slow_ms / 1000:g}초 초과 {slow_n:,}건",
            )
        )
    return out


def unauthorized_findings(history: Fetched) -> list[Finding]:
    check = checks.get("auth.api_401_spike")
    if not history.ok:
        return [checks.error(check, history.error or "")]
    frame = history.frame
    now = frame[frame["days_back"] == 0]
    current = int(now["unauthorized"].iloc[0]) if not now.empty else 0
    # Days the drain covered (any request at all); a day without rows is not a day without 401s.
    before = frame[(frame["days_back"] > 0) & (frame["requests"].astype(int) > 0)]
    if before.empty:
        return [
            checks.evaluate(
                check,
                None,
                detail=f"401 {current:,}건 · 이전 날짜의 같은 시간대 로그 없음: 비교 불가 (no earlier days drained)",
            )
        ]
    usual = statistics.median(int(x) for x in before["unauthorized"])
    ratio = current / max(1.0, float(usual))
    return [
        checks.evaluate(
            check,
            round(ratio, 2),
            sample=current,
            failures=current,
            detail=(
                f"측정 구간 401 {current:,}건 vs 이전 {len(before)}일 같은 시간대 중앙값 {usual:g}건 "
                f"(401s now vs the median of the same hours on {len(before)} earlier days)"
            ),
            evidence=evidence(frame, ["days_back", "window_start", "unauthorized", "requests"]),
        )
    ]
