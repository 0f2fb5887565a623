"""Runbook §3-B 트리아지 1 (증상 분리): new logins failing, sessions that cannot come back, or RLS?

(1) 신규 로그인 실패: /token password·id_token·pkce, /callback, /verify failing.
(2) 기존 세션 만료 후 재로그인 실패: refresh_token grants failing (refresh_token_not_found,
    refresh_token_already_used, session_not_found) and bad_jwt answers.
(3) 권한(RLS)로 기능 접근 불가: /rest/v1/* answered 403 (and 401 when no session symptom explains
    it) to callers whose login or refresh succeeded in the last day.
Each gets its own rate and examples, and the page says which one it is.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import pandas as pd
from sqlalchemy.engine import Connection

from opslib import checks
from opslib.auth import attempts
from opslib.auth.attribution import attribute
from opslib.auth.detection import read_requests
from opslib.display import evidence, for_display
from opslib.fetch import Fetched, QueryTiming, fetch, timings
from opslib.measures import pct, total
from opslib.results import Finding
from opslib.timewindow import Window

REST_COLUMNS = [
    "path",
    "requests",
    "denied_401",
    "denied_403",
    "signed_in_requests",
    "signed_in_403",
    "signed_in_401",
    "signed_in_users_denied",
    "first_denied_at",
    "last_denied_at",
]


class Symptom(enum.Enum):
    NEW_LOGINS = "new_logins"
    SESSION_REFRESH = "session_refresh"
    RLS = "rls"
    NONE = "none"

    @property
    def label_ko(self) -> str:
        return {
            "new_logins": "(1) 신규 로그인 실패 (new logins failing)",
            "session_refresh": "(2) 기존 세션 만료 후 재로그인 실패 (sessions cannot come back)",
            "rls": "(3) 권한(RLS)로 기능 접근 불가 (RLS/grants block signed-in users)",
            "none": "증상 없음 (no symptom above its threshold)",
        }[self.value]


@dataclass(frozen=True)
class Symptoms:
    """The three symptoms side by side, and which one it is."""

    table: pd.DataFrame  # symptom, requests, failures, rate_pct, examples
    rest_denials: pd.DataFrame  # per /rest/v1 path: requests, 401, 403, signed-in callers denied
    symptom: Symptom  # the first failing symptom in the runbook's order, or NONE
    failing: tuple[Symptom, ...]
    diagnosis: str
    findings: tuple[Finding, ...]
    timings: tuple[QueryTiming, ...]


def separate(conn: Connection, window: Window) -> Symptoms:
    who = attribute(conn, window.since, window.until)
    requests = read_requests(conn, window, who)
    denials = fetch(conn, "auth.api_denials", window.params())
    frame = attempts.annotate(requests.frame) if requests.ok else attempts.annotate(pd.DataFrame())

    logins = attempts.logins(frame)
    session = session_requests(frame)
    n_login, f_login = attempts.counts(logins)
    n_session, f_session = attempts.counts(session)

    login_judged = checks.evaluate(
        checks.get("auth.login_failure_rate"), pct(f_login, n_login), sample=n_login, failures=f_login
    )
    session_finding = refresh_finding(requests, session)
    session_failing = session_finding.outcome.is_problem
    rls = rls_finding(denials, count_401=not session_failing)

    failing: list[Symptom] = []
    if requests.ok and login_judged.outcome.is_problem:
        failing.append(Symptom.NEW_LOGINS)
    if session_failing:
        failing.append(Symptom.SESSION_REFRESH)
    if rls.outcome.is_problem:
        failing.append(Symptom.RLS)
    symptom = failing[0] if failing else Symptom.NONE

    table = pd.DataFrame(
        [
            _row(Symptom.NEW_LOGINS, n_login, f_login, logins, requests.ok),
            _row(Symptom.SESSION_REFRESH, n_session, f_session, session, requests.ok),
            _rls_row(denials, count_401=not session_failing),
        ]
    )
    return Symptoms(
        table=table,
        rest_denials=for_display(denials.frame[[c for c in REST_COLUMNS if c in denials.frame.columns]]),
        symptom=symptom,
        failing=tuple(failing),
        diagnosis=diagnose(symptom, tuple(failing), logins, session, who.attack_ips, requests.ok and denials.ok),
        findings=(session_finding, rls),
        timings=timings(who.sources, who.users, requests, denials),
    )


def session_requests(frame: pd.DataFrame) -> pd.DataFrame:
    """refresh_token grants, and bad_jwt answers on any other endpoint (a token the server refused)."""
    if frame.empty:
        return frame
    refresh = frame["method"] == attempts.REFRESH_METHOD
    bad_jwt = (frame["error_code"] == "bad_jwt") & ~frame["method"].isin(attempts.LOGIN_METHODS)
    part = frame[(refresh | bad_jwt) & ~frame["excluded"].astype(bool)]
    return part


def refresh_finding(requests: Fetched, session: pd.DataFrame) -> Finding:
    check = checks.get("auth.refresh_failure_rate")
    if not requests.ok:
        return checks.error(check, requests.error or "")
    n, failed = attempts.counts(session)
    return checks.evaluate(
        check,
        pct(failed, n),
        sample=n,
        failures=failed,
        detail=(
            f"세션 갱신/토큰 검증 {n:,}건 중 실패 {failed:,}건"
            + (f" ({attempts.top_codes(session)})" if failed else "")
            if n
            else "측정 구간에 refresh_token 요청 없음 (no refresh_token grants)"
        ),
        evidence=evidence(
            session[session["failed"]].sort_values("requests", ascending=False) if not session.empty else session,
            ["method", "path", "status", "error_code", "requests", "first_at", "last_at"],
        ),
    )


def rls_finding(denials: Fetched, *, count_401: bool) -> Finding:
    check = checks.get("auth.rls_denials")
    if not denials.ok:
        return checks.error(check, denials.error or "")
    frame = denials.frame
    n = total(frame, "signed_in_requests")
    denied = total(frame, "signed_in_403") + (total(frame, "signed_in_401") if count_401 else 0)
    worst = frame.sort_values("signed_in_403", ascending=False).head(5) if not frame.empty else frame
    paths = ", ".join(
        f"{r.path} 403 {int(r.signed_in_403):,}/401 {int(r.signed_in_401):,}"
        for r in worst.itertuples(index=False)
        if int(r.signed_in_403) or (count_401 and int(r.signed_in_401))
    )
    why_401 = "" if count_401 else " · 401은 세션 증상(2)으로 봄 (401s counted under symptom 2)"
    return checks.evaluate(
        check,
        pct(denied, n),
        sample=n,
        failures=denied,
        detail=(
            f"로그인 성공 사용자의 REST 요청 {n:,}건 중 거부 {denied:,}건" + (f" ({paths})" if paths else "") + why_401
            if n
            else "로그인 성공 사용자의 REST 요청 없음 (no REST requests from signed-in callers)"
        ),
        evidence=evidence(
            worst,
            ["path", "requests", "signed_in_requests", "signed_in_403", "signed_in_401", "first_denied_at"],
        ),
    )


def _row(symptom: Symptom, n: int, failed: int, part: pd.DataFrame, ok: bool) -> dict[str, object]:
    return {
        "symptom": symptom.label_ko,
        "requests": n if ok else None,
        "failures": failed if ok else None,
        "rate_pct": pct(failed, n) if ok else None,
        "examples": attempts.top_codes(part) if ok else "측정 실패 (query failed)",
    }


def _rls_row(denials: Fetched, *, count_401: bool) -> dict[str, object]:
    frame = denials.frame
    n = total(frame, "signed_in_requests")
    denied = total(frame, "signed_in_403") + (total(frame, "signed_in_401") if count_401 else 0)
    top = frame.sort_values("signed_in_403", ascending=False).head(3) if not frame.empty else frame
    return {
        "symptom": Symptom.RLS.label_ko,
        "requests": n if denials.ok else None,
        "failures": denied if denials.ok else None,
        "rate_pct": pct(denied, n) if denials.ok else None,
        "examples": ", ".join(
            f"{r.path} 403×{int(r.signed_in_403)}" for r in top.itertuples(index=False) if int(r.signed_in_403)
        )
        if denials.ok
        else "측정 실패 (query failed)",
    }


def diagnose(
    symptom: Symptom,
    failing: tuple[Symptom, ...],
    logins: pd.DataFrame,
    session: pd.DataFrame,
    attack_ips: tuple[str, ...],
    measured: bool,
) -> str:
    if not measured:
        return "판정 불가: 일부 조회 실패 (could not measure every symptom)"
    if symptom is Symptom.NONE:
        base = "증상 없음: 신규 로그인·세션 갱신·REST 권한 모두 기준 이내 (no symptom above its threshold)"
        if attack_ips:
            base += (
                f" · 단, 크리덴셜 스터핑 의심 소스 {len(attack_ips)}곳: 서비스 장애가 아니라 보안 대응"
                " (credential stuffing: a security incident, not an outage; see 트리아지 2)"
            )
        return base
    parts = [f"증상: {symptom.label_ko}"]
    if symptom is Symptom.NEW_LOGINS:
        failed = logins[logins["failed"]]
        by_kind = failed.groupby("outcome")["requests"].sum().sort_values(ascending=False)
        kind = str(by_kind.index[0]) if not by_kind.empty else ""
        parts.append(
            {
                attempts.SERVER_ERROR: "GoTrue가 5xx/무응답: 서비스 장애 (the auth server is failing: outage)",
                attempts.PROVIDER: "소셜 제공자 오류: 트리아지 5 확인 (a social provider is failing)",
                attempts.RATE_LIMITED: "rate limit(429): 트리아지 4 확인 (requests are rate-limited)",
                attempts.CREDENTIALS: "비밀번호 오류가 대부분: 클라이언트/해시 변경 의심 (mostly invalid_credentials)",
            }.get(kind, f"주된 실패 유형 {kind}")
        )
    if symptom is Symptom.SESSION_REFRESH:
        parts.append(f"세션 갱신 실패 ({attempts.top_codes(session)}): 클라이언트의 토큰 갱신/저장 확인")
    if len(failing) > 1:
        parts.append("함께 실패: " + ", ".join(s.label_ko for s in failing[1:]))
    return " · ".join(parts)
