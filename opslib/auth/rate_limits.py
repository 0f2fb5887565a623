"""Runbook §3-B 트리아지 4 (Rate limit 확인): 429 / over_request_rate_limit by endpoint, users hit."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy.engine import Connection

from opslib import checks
from opslib.display import evidence, for_display
from opslib.fetch import QueryTiming, fetch, timings
from opslib.measures import pct
from opslib.results import Finding
from opslib.timewindow import Window


@dataclass(frozen=True)
class RateLimits:
    by_endpoint: pd.DataFrame  # path, requests, limited, limited_pct, users, users_limited, first/last
    findings: tuple[Finding, ...]
    timings: tuple[QueryTiming, ...]


def rate_limits(conn: Connection, window: Window) -> RateLimits:
    fetched = fetch(conn, "auth.rate_limits", window.params())
    check = checks.get("auth.rate_limited")
    if not fetched.ok:
        return RateLimits(pd.DataFrame(), (checks.error(check, fetched.error or ""),), timings(fetched))
    frame = fetched.frame
    overall = frame[frame["path"].isna()]
    endpoints = frame[frame["path"].notna()].copy()
    endpoints["limited_pct"] = [pct(a, b) for a, b in zip(endpoints["limited"], endpoints["requests"], strict=True)]
    endpoints = endpoints.sort_values(["limited", "requests"], ascending=False)
    requests = int(overall["requests"].iloc[0]) if not overall.empty else 0
    limited = int(overall["limited"].iloc[0]) if not overall.empty else 0
    users = int(overall["users"].iloc[0]) if not overall.empty else 0
    users_limited = int(overall["users_limited"].iloc[0]) if not overall.empty else 0
    hit = endpoints[endpoints["limited"] > 0]
    where = ", ".join(f"{r.path} {int(r.limited):,}" for r in hit.head(4).itertuples(index=False))
    if users_limited:
        value, sample, failed = pct(users_limited, users), users, users_limited
        detail = f"사용자 {users:,}명 중 {users_limited:,}명이 제한됨 (429 {limited:,}건: {where})"
    else:
        value, sample, failed = pct(limited, requests), requests, limited
        detail = (
            f"요청 {requests:,}건 중 429 {limited:,}건 ({where}) · 제한된 요청에 user_id 없음: 요청 비율로 판단"
            if limited
            else f"rate limit 응답 없음 (요청 {requests:,}건)"
        )
    finding = checks.evaluate(
        check,
        value,
        sample=sample,
        failures=failed,
        detail=detail,
        evidence=evidence(hit, ["path", "requests", "limited", "users_limited", "first_limited_at", "last_limited_at"]),
    )
    return RateLimits(for_display(endpoints), (finding,), timings(fetched))
