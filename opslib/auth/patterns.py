"""Runbook §3-B 트리아지 2 (Recent sign-ins 에러 패턴): by error code, provider and platform;
credential stuffing against one user hammering; the successes compared with audit_log_entries.

audit_log_entries holds successful logins only (a wrong password writes no row): it is read here to
check that the auth_logs drain is complete, never as the source of failures.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pandas as pd
from sqlalchemy.engine import Connection

from opslib import checks
from opslib.auth import attempts
from opslib.auth.attribution import Attribution, attack_sources, attribute, hammering_users
from opslib.auth.detection import read_requests
from opslib.display import evidence, for_display
from opslib.fetch import Fetched, QueryTiming, fetch, timings
from opslib.measures import pct, total
from opslib.results import Finding
from opslib.timewindow import Window

AUDIT_BUCKET = timedelta(minutes=15)


@dataclass(frozen=True)
class Patterns:
    errors: pd.DataFrame  # failed logins by error code, provider, platform (attack traffic marked)
    sources: pd.DataFrame  # failing sources, IPs masked, with whether each was attributed to an attack
    hammering: pd.DataFrame  # users with many wrong passwords of their own (masked)
    audit: pd.DataFrame  # per 15 min: successful logins in auth_logs vs login rows in audit_log_entries
    stuffing: bool
    sentence: str
    findings: tuple[Finding, ...]
    timings: tuple[QueryTiming, ...]


def patterns(conn: Connection, window: Window) -> Patterns:
    who = attribute(conn, window.since, window.until)
    requests = read_requests(conn, window, who, bucket=AUDIT_BUCKET)
    audit = fetch(conn, "auth.audit_logins", {**window.params(), "bucket": AUDIT_BUCKET})
    frame = attempts.annotate(requests.frame) if requests.ok else attempts.annotate(pd.DataFrame())
    every_login = attempts.logins(frame, include_excluded=True)

    findings = [*stuffing_findings(who), hammering_finding(who), coverage_finding(requests, every_login, audit)]
    stuffing = bool(who.attack_ips)
    return Patterns(
        errors=error_pattern(every_login),
        sources=source_table(who),
        hammering=for_display(hammering_users(who.users.frame)) if who.users.ok else pd.DataFrame(),
        audit=for_display(audit_table(every_login, audit.frame)),
        stuffing=stuffing,
        sentence=sentence(who, every_login),
        findings=tuple(findings),
        timings=timings(who.sources, who.users, requests, audit),
    )


def error_pattern(logins: pd.DataFrame) -> pd.DataFrame:
    columns = ["error", "provider", "platform", "attack_or_hammering", "attempts", "first_at", "last_at"]
    failed = logins[logins["failed"]] if not logins.empty else logins
    if failed.empty:
        return pd.DataFrame(columns=columns)
    error = [
        c if isinstance(c, str) and c else (f"HTTP {int(s)}" if pd.notna(s) else "무응답 (no answer)")
        for c, s in zip(failed["error_code"], failed["status"], strict=True)
    ]
    grouped = (
        failed.assign(error=error, provider=failed["provider"].fillna("unknown"))
        .groupby(["error", "provider", "platform", "excluded"], dropna=False)
        .agg(attempts=("requests", "sum"), first_at=("first_at", "min"), last_at=("last_at", "max"))
        .reset_index()
        .rename(columns={"excluded": "attack_or_hammering"})
        .sort_values("attempts", ascending=False)
    )
    return for_display(grouped[columns])


def source_table(who: Attribution) -> pd.DataFrame:
    frame = who.sources.frame
    if not who.sources.ok or frame.empty:
        return pd.DataFrame()
    flagged = set(who.attack_ips)
    # the sources of wrong passwords: a provider or server failure says nothing about its source
    frame = frame[(frame["credential_failures"].astype(int) > 0) | frame["ip"].isin(flagged)]
    if frame.empty:
        return pd.DataFrame()
    out = frame.assign(
        attack=[ip in flagged for ip in frame["ip"]],
        ip=frame["ip"].fillna("(IP 없음 · no IP in the drain)"),
    )
    return for_display(out.head(30))


def stuffing_findings(who: Attribution) -> list[Finding]:
    check = checks.get("auth.credential_stuffing")
    takeover = checks.get("auth.stuffing_account_takeover")
    if not who.sources.ok:
        return [checks.error(check, who.sources.error or ""), checks.error(takeover, who.sources.error or "")]
    frame = who.sources.frame
    credential = total(frame, "credential_failures")
    attack = attack_sources(frame)
    if not credential:
        return [checks.evaluate(check, 0, detail="invalid_credentials 없음 (no wrong-password failures)")]
    if not who.ips_known:
        detail = (
            f"invalid_credentials {credential:,}건 · auth_logs에 IP(remote_addr)가 없어 소스별 판단 불가"
            " (the drain carries no source IP)"
        )
        return [checks.evaluate(check, None, detail=detail)]
    attack_failures = total(attack, "credential_failures")
    accounts = total(attack, "accounts")
    successes = total(attack, "successes")
    detail = (
        f"의심 소스 {len(attack)}곳이 invalid_credentials {attack_failures:,}건 (전체 {credential:,}건 중 "
        f"{pct(attack_failures, credential) or 0:.0f} %), 계정 {accounts:,}개 대상: 보안 대응 (IP 차단/rate limit),"
        " 서비스 장애 아님 (a security incident, not an outage)"
        if len(attack)
        else f"invalid_credentials {credential:,}건, 소수 소스 집중 없음 (no source stands out)"
    )
    columns = ["ip", "attempts", "credential_failures", "successes", "accounts", "first_at", "last_at"]
    out = [checks.evaluate(check, len(attack), detail=detail, evidence=evidence(attack, columns))]
    if len(attack):
        out.append(
            checks.evaluate(
                takeover,
                successes,
                detail=f"의심 소스에서 로그인 성공 {successes:,}건"
                + (": 계정 탈취 가능성, 세션 강제 종료 검토 (possible account takeover)" if successes else ""),
                evidence=evidence(attack[attack["successes"].astype(int) > 0], columns),
            )
        )
    return out


def hammering_finding(who: Attribution) -> Finding:
    check = checks.get("auth.user_hammering")
    if not who.users.ok:
        return checks.error(check, who.users.error or "")
    users = who.users.frame
    most = int(users["credential_failures"].max()) if not users.empty else 0
    noisy = hammering_users(users)
    return checks.evaluate(
        check,
        most,
        detail=(
            f"한 사용자 최대 비밀번호 실패 {most:,}회 · 10회 이상 {len(noisy)}명: "
            "개인 문제, 장애 아님 (one user, not an outage)"
            if most
            else "비밀번호 실패 사용자 없음"
        ),
        evidence=evidence(noisy, ["user_id", "attempts", "credential_failures", "successes", "platform"]),
    )


def audit_table(logins: pd.DataFrame, audit: pd.DataFrame) -> pd.DataFrame:
    columns = ["bucket_start", "auth_logs_successes", "audit_logins"]
    ok = logins[~logins["failed"]] if not logins.empty else logins
    left = (
        ok.groupby("bucket_start")["requests"].sum().rename("auth_logs_successes")
        if not ok.empty
        else pd.Series(dtype=int, name="auth_logs_successes")
    )
    right = (
        audit.groupby("bucket_start")["logins"].sum().rename("audit_logins")
        if not audit.empty
        else pd.Series(dtype=int, name="audit_logins")
    )
    both = pd.concat([left, right], axis=1).fillna(0).astype(int).reset_index()
    if both.empty:
        return pd.DataFrame(columns=columns)
    return both.rename(columns={"index": "bucket_start"})[columns].sort_values("bucket_start")


def coverage_finding(requests: Fetched, logins: pd.DataFrame, audit: Fetched) -> Finding:
    check = checks.get("auth.log_drain_coverage")
    if not audit.ok:
        return checks.error(check, audit.error or "")
    if not requests.ok:
        return checks.error(check, requests.error or "")
    audited = total(audit.frame, "logins")
    drained = int(logins.loc[~logins["failed"], "requests"].sum()) if not logins.empty else 0
    if not audited:
        return checks.evaluate(
            check, None, detail=f"audit_log_entries에 로그인 기록 없음 (auth_logs 성공 {drained:,}건): 비교 불가"
        )
    coverage = min(100.0, pct(drained, audited) or 0.0)
    return checks.evaluate(
        check,
        coverage,
        sample=audited,
        detail=(
            f"auth_logs 로그인 성공 {drained:,}건 / audit_log_entries login {audited:,}건"
            + (": auth_logs 수집 누락, 실패율이 과소 측정될 수 있음 (partial drain)" if coverage < 80 else "")
        ),
    )


def sentence(who: Attribution, logins: pd.DataFrame) -> str:
    if who.attack_ips:
        return (
            f"크리덴셜 스터핑 의심: 소스 {len(who.attack_ips)}곳 (IP 마스킹). 사용자 로그인 장애가 아니라 보안 사건:"
            " IP 차단/rate limit, 공지 불필요 (credential stuffing: block the sources; not an outage)"
        )
    if who.noisy_users:
        return f"한 사용자 반복 실패 {len(who.noisy_users)}명: 개인 문의 대응 (one user hammering, not an outage)"
    failed = logins[logins["failed"]] if not logins.empty else logins
    if failed.empty:
        return "실패한 로그인 없음 (no failed logins)"
    return f"실패 패턴: {attempts.top_codes(failed)}"
