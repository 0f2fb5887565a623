"""Runbook §3-B 트리아지 5 (Social auth 장애): per provider failure rate and error codes.

One provider failing while email logins work points at that provider's credentials or settings
(Supabase → Auth → Providers: provider_disabled, a rotated client secret), not at GoTrue: that is
its own finding.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy.engine import Connection

from opslib import checks
from opslib.auth import attempts
from opslib.auth.attribution import attribute
from opslib.auth.detection import read_requests
from opslib.fetch import QueryTiming, timings
from opslib.measures import pct
from opslib.results import Finding
from opslib.timewindow import Window


@dataclass(frozen=True)
class Social:
    by_provider: pd.DataFrame  # provider, attempts, failures, failure_rate, codes
    failing: tuple[str, ...]  # providers above the P0 rate
    sentence: str
    findings: tuple[Finding, ...]
    timings: tuple[QueryTiming, ...]


def social(conn: Connection, window: Window) -> Social:
    who = attribute(conn, window.since, window.until)
    requests = read_requests(conn, window, who)
    rate = checks.get("auth.social_provider_failure")
    isolated = checks.get("auth.social_provider_isolated")
    if not requests.ok:
        error = (checks.error(rate, requests.error or ""),)
        return Social(pd.DataFrame(), (), "측정 실패 (query failed)", error, timings(requests))
    logins = attempts.logins(attempts.annotate(requests.frame))
    table = provider_table(logins)
    email = table[table["provider"] == "email"]
    email_n = int(email["attempts"].iloc[0]) if not email.empty else 0
    email_failed = int(email["failures"].iloc[0]) if not email.empty else 0
    email_ok = checks.evaluate(
        checks.get("auth.login_failure_rate"), pct(email_failed, email_n), sample=email_n, failures=email_failed
    )
    email_works = email_n > 0 and not email_ok.outcome.is_problem
    findings: list[Finding] = []
    failing: list[str] = []
    for row in table[table["provider"] != "email"].itertuples(index=False):
        finding = checks.evaluate(
            rate,
            row.failure_rate,
            sample=int(row.attempts),
            failures=int(row.failures),
            subject=str(row.provider),
            detail=f"{row.provider} {int(row.attempts):,}건 중 실패 {int(row.failures):,}건"
            + (f" ({row.codes})" if row.codes else ""),
        )
        findings.append(finding)
        if finding.outcome.is_problem and rate.critical is not None and (row.failure_rate or 0) > rate.critical:
            failing.append(str(row.provider))
            if email_works:
                findings.append(
                    checks.evaluate(
                        isolated,
                        row.failure_rate,
                        subject=str(row.provider),
                        detail=(
                            f"{row.provider}만 실패 ({row.failure_rate:.0f} %), 이메일 로그인 정상 "
                            f"({pct(email_failed, email_n) or 0:.1f} % of {email_n:,}): "
                            "Supabase → Auth → Providers에서 자격증명/활성화 확인 (check that provider's credentials)"
                        ),
                    )
                )
    if failing:
        sentence = f"소셜 제공자 장애: {', '.join(failing)}" + (
            " · 이메일 로그인은 정상 (email works)" if email_works else " · 이메일 로그인도 실패 (email fails too)"
        )
    else:
        sentence = "소셜 로그인 제공자별 실패율 기준 이내 (every provider within §4-E)"
    return Social(table, tuple(failing), sentence, tuple(findings), timings(who.sources, who.users, requests))


def provider_table(logins: pd.DataFrame) -> pd.DataFrame:
    columns = ["provider", "attempts", "failures", "failure_rate", "codes"]
    if logins.empty:
        return pd.DataFrame(columns=columns)
    rows = []
    for provider, part in logins.assign(provider=logins["provider"].fillna("unknown")).groupby("provider"):
        n, failed = attempts.counts(part)
        rows.append(
            {
                "provider": str(provider),
                "attempts": n,
                "failures": failed,
                "failure_rate": pct(failed, n),
                "codes": attempts.top_codes(part),
            }
        )
    return pd.DataFrame(rows, columns=columns).sort_values("attempts", ascending=False).reset_index(drop=True)
