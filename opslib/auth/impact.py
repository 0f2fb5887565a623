"""Runbook §3-B 영향 (for the post-mortem): who could not log in, on which platform and provider, when.

Users are counted by distinct user_id where GoTrue knew it; a failed attempt for an account it
could not resolve has no user id and is counted as an attempt. Attack sources and one user
hammering are left out (triage 2 reports them); wrong passwords are listed apart from the failures
the service caused (5xx, no answer, provider, rate limit, session).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy.engine import Connection

from opslib.auth import attempts
from opslib.auth.attribution import attribute
from opslib.auth.detection import read_requests
from opslib.display import for_display
from opslib.fetch import QueryTiming, timings
from opslib.results import Finding
from opslib.timewindow import Window, kst

CAUSE_LABELS = {
    attempts.SERVER_ERROR: "서버 오류/무응답 (5xx, no answer)",
    attempts.PROVIDER: "소셜 제공자 (provider)",
    attempts.RATE_LIMITED: "rate limit (429)",
    attempts.SESSION: "세션/토큰 (session)",
    attempts.CLIENT_ERROR: "기타 4xx (other client errors)",
    attempts.CREDENTIALS: "비밀번호 오류 (invalid_credentials)",
}


@dataclass(frozen=True)
class Impact:
    users_failed: int | None  # distinct known users with a failure caused by the service
    users_still_out: int | None  # of them, no successful login after their last failure
    attempts_failed: int  # failed attempts caused by the service (known and unknown users)
    credential_failures: int  # wrong passwords (users' own), apart
    first_failure: str
    last_failure: str
    by_cause: pd.DataFrame
    by_platform_provider: pd.DataFrame
    markdown: str
    complete: bool
    findings: tuple[Finding, ...]
    timings: tuple[QueryTiming, ...]


def impact(conn: Connection, window: Window) -> Impact:
    who = attribute(conn, window.since, window.until)
    requests = read_requests(conn, window, who)
    complete = requests.ok and who.users.ok
    logins = attempts.logins(attempts.annotate(requests.frame)) if requests.ok else pd.DataFrame()
    failed = logins[logins["failed"]] if not logins.empty else logins
    service = failed[failed["outcome"] != attempts.CREDENTIALS] if not failed.empty else failed
    credential = int(failed.loc[failed["outcome"] == attempts.CREDENTIALS, "requests"].sum()) if not failed.empty else 0

    users = who.users.frame if who.users.ok else pd.DataFrame()
    noisy = set(who.noisy_users)
    if not users.empty:
        users = users[~users["user_id"].astype(str).isin(noisy)]
        service_users = users[users["own_failures"].astype(int) > users["credential_failures"].astype(int)]
        still_out = service_users[
            service_users["last_success_at"].isna()
            | (
                pd.to_datetime(service_users["last_success_at"], utc=True)
                < pd.to_datetime(service_users["last_failure_at"], utc=True)
            )
        ]
        n_users: int | None = len(service_users)
        n_out: int | None = len(still_out)
    else:
        n_users, n_out = (0, 0) if who.users.ok else (None, None)

    first = kst(pd.to_datetime(service["first_at"], utc=True).min().to_pydatetime()) if not service.empty else "-"
    last = kst(pd.to_datetime(service["last_at"], utc=True).max().to_pydatetime()) if not service.empty else "-"
    by_cause = cause_table(failed)
    by_pp = platform_provider_table(service)
    attempts_failed = int(service["requests"].sum()) if not service.empty else 0
    lines = [
        f"- 로그인하지 못한 사용자 (users who could not log in, service-caused): **{_n(n_users)}명**"
        f" (그중 아직 성공 못 함 still locked out: {_n(n_out)}명)",
        f"- 실패한 로그인 시도 (failed attempts, incl. unknown accounts): **{attempts_failed:,}건**",
        f"- 비밀번호 오류 (users' own wrong passwords, apart): {credential:,}건",
        f"- 첫 실패 / 마지막 실패 (first / last failure): {first} / {last}",
    ]
    if who.attack_ips or noisy:
        lines.append(
            f"- 제외: 스터핑 의심 소스 {len(who.attack_ips)}곳, 반복 실패 사용자 {len(noisy)}명 (see 트리아지 2)"
        )
    if not complete:
        lines.insert(0, "- **불완전 (incomplete)**: 일부 조회 실패 — 아래 수치는 하한입니다")
    return Impact(
        n_users,
        n_out,
        attempts_failed,
        credential,
        first,
        last,
        by_cause,
        by_pp,
        "\n".join(lines),
        complete,
        (),
        timings(who.sources, who.users, requests),
    )


def _n(value: int | None) -> str:
    return "?" if value is None else f"{value:,}"


def cause_table(failed: pd.DataFrame) -> pd.DataFrame:
    columns = ["cause", "attempts", "first_at", "last_at"]
    if failed.empty:
        return pd.DataFrame(columns=columns)
    out = (
        failed.groupby("outcome")
        .agg(attempts=("requests", "sum"), first_at=("first_at", "min"), last_at=("last_at", "max"))
        .reset_index()
        .sort_values("attempts", ascending=False)
    )
    out["cause"] = [CAUSE_LABELS.get(str(o), str(o)) for o in out["outcome"]]
    return for_display(out[columns])


def platform_provider_table(service: pd.DataFrame) -> pd.DataFrame:
    columns = ["platform", "provider", "attempts", "first_at", "last_at"]
    if service.empty:
        return pd.DataFrame(columns=columns)
    out = (
        service.assign(provider=service["provider"].fillna("unknown"))
        .groupby(["platform", "provider"])
        .agg(attempts=("requests", "sum"), first_at=("first_at", "min"), last_at=("last_at", "max"))
        .reset_index()
        .sort_values("attempts", ascending=False)
    )
    return for_display(out[columns])
