"""Runbook §3-B 최소 완화: "데모 모드를 임시 활성화하는 것은 정책적으로 금지 (신뢰/권한/데이터 오염 리스크)".

The page never offers demo mode as a mitigation; it checks that no demo-mode flag is on.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy.engine import Connection

from opslib import checks
from opslib.fetch import QueryTiming, fetch, timings
from opslib.results import Finding

POLICY = (
    "데모 모드를 임시 활성화하는 것은 정책적으로 금지입니다 (신뢰/권한/데이터 오염 리스크). "
    "Enabling demo mode as a workaround is forbidden by policy: it is not a mitigation this page offers."
)


@dataclass(frozen=True)
class DemoPolicy:
    flags: pd.DataFrame
    sentence: str
    findings: tuple[Finding, ...]
    timings: tuple[QueryTiming, ...]


def demo_mode(conn: Connection) -> DemoPolicy:
    fetched = fetch(conn, "auth.demo_flags", {})
    check = checks.get("auth.demo_mode_enabled")
    if not fetched.ok:
        return DemoPolicy(pd.DataFrame(), POLICY, (checks.error(check, fetched.error or ""),), timings(fetched))
    on = fetched.frame[fetched.frame["enabled"].astype(bool)] if not fetched.frame.empty else fetched.frame
    detail = (
        "데모 모드 플래그 켜짐: " + ", ".join(str(k) for k in on["key"]) + " → 즉시 끄고 경위 기록 (policy violation)"
        if len(on)
        else "데모 모드 플래그 꺼짐 (no demo-mode flag is on)"
    )
    finding = checks.evaluate(check, len(on), detail=detail)
    return DemoPolicy(fetched.frame, POLICY, (finding,), timings(fetched))
