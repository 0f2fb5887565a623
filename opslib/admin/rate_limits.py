"""Runbook §3-E 트리아지 4: admins hitting rate_limits."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy.engine import Connection

from opslib import checks
from opslib.admin.access import count_active
from opslib.admin.detection import ADMIN_LOOKBACK
from opslib.admin.settings import AdminSettings, settings
from opslib.display import evidence, for_display
from opslib.fetch import QueryTiming, fetch, timings
from opslib.measures import pct
from opslib.results import Finding
from opslib.timewindow import Window


@dataclass(frozen=True)
class RateTriage:
    windows: pd.DataFrame  # key (masked), prefix, user_id (masked), window_start, hits, limit, at_limit
    by_admin: pd.DataFrame  # user_id (masked), windows, at_limit, max_hits, active_admin
    limited_active: int
    sentence: str
    findings: tuple[Finding, ...]
    timings: tuple[QueryTiming, ...]


def with_limits(frame: pd.DataFrame, conf: AdminSettings) -> pd.DataFrame:
    out = frame.copy()
    if out.empty:
        out["limit"] = pd.Series(dtype="int64")
        out["at_limit"] = pd.Series(dtype=bool)
        return out
    out["limit"] = [conf.limit_for(str(p)) for p in out["prefix"]]
    out["at_limit"] = out["hits"].astype(int) >= out["limit"]
    return out


def admin_rate_limits(conn: Connection, window: Window) -> RateTriage:
    conf = settings()
    rl = fetch(conn, "admin.admin_rate_limits", {**window.params(), "lookback": window.until - ADMIN_LOOKBACK})
    admins = fetch(conn, "admin.active_admins", {"until": window.until})
    check = checks.get("admin.rate_limited_admins")
    if not rl.ok or not admins.ok:
        reason = rl.error or admins.error or ""
        return RateTriage(
            pd.DataFrame(), pd.DataFrame(), 0, reason, (checks.error(check, reason),), timings(rl, admins)
        )
    windows = with_limits(rl.frame, conf)
    active_ids = set()
    if not admins.frame.empty:
        active_ids = {str(u) for u, ok in zip(admins.frame["user_id"], admins.frame["can_get_in"], strict=True) if ok}
    by_admin = summarise(windows, active_ids)
    limited = by_admin[by_admin["at_limit"] > 0] if not by_admin.empty else by_admin
    limited_active = int(limited["active_admin"].sum()) if not limited.empty else 0
    active = count_active(admins.frame)
    value = pct(limited_active, active)
    if active == 0:
        detail = "접근 가능한 관리자가 없음: 비율을 판단할 수 없음 (no active admin; see 트리아지 1)"
    else:
        detail = f"활성 관리자 {active}명 중 {limited_active}명이 한도 도달"
    if len(limited) > limited_active:
        detail += f" · 비활성/전 관리자 {len(limited) - limited_active}명도 한도 도달"
    finding = checks.evaluate(check, value, detail=detail, evidence=evidence(limited))
    text = (
        f"관리자 {len(limited)}명이 rate limit 창에서 한도에 닿았습니다 "
        "(한도는 checks/admin.yaml rate_limits, 키별 prefix 기준): 공격/자동화 반복인지 확인 후 "
        "창이 끝나길 기다리거나 "
        "해당 키의 한도를 조정하세요."
        if len(limited)
        else "관리자 키가 rate limit 한도에 닿은 창은 없습니다 (no admin key at its limit in the window)."
    )
    return RateTriage(
        for_display(windows), for_display(by_admin), limited_active, text, (finding,), timings(rl, admins)
    )


def summarise(windows: pd.DataFrame, active_ids: set[str]) -> pd.DataFrame:
    cols = ["user_id", "windows", "at_limit", "max_hits", "active_admin"]
    if windows.empty:
        return pd.DataFrame(columns=cols)
    w = windows.assign(user=windows["user_id"].astype(str))
    grouped = w.groupby("user", as_index=False).agg(
        windows=("key", "count"), at_limit=("at_limit", "sum"), max_hits=("hits", "max")
    )
    grouped["active_admin"] = grouped["user"].isin(active_ids)
    return grouped.rename(columns={"user": "user_id"})[cols]
