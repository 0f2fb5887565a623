"""Runbook §3-E 트리아지 1: who can still get in (관리자 로그인/권한 확인)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd
from sqlalchemy.engine import Connection

from opslib import checks
from opslib.admin.detection import ADMIN_LOOKBACK
from opslib.display import evidence, for_display
from opslib.fetch import Fetched, QueryTiming, fetch, timings
from opslib.measures import first_value
from opslib.results import Finding, Outcome
from opslib.timewindow import Window, kst


@dataclass(frozen=True)
class Access:
    """Active admins now, admins lost recently, and the role changes of the window."""

    admins: pd.DataFrame  # every role='admin' profile, can_get_in (masked)
    former_admins: pd.DataFrame  # acted as admin since the lookback, not an active admin now (masked)
    role_changes: pd.DataFrame  # admin_audit_log role.* / user.* rows in the window (masked)
    profile_changes: pd.DataFrame  # admins and former admins whose profile changed in the window (masked)
    active: int | None  # None when it could not be measured
    sentence: str
    findings: tuple[Finding, ...]
    timings: tuple[QueryTiming, ...]


def who_can_get_in(conn: Connection, window: Window) -> Access:
    admins = fetch(conn, "admin.active_admins", {"until": window.until})
    former = fetch(conn, "admin.former_admins", {"lookback": window.until - ADMIN_LOOKBACK, "until": window.until})
    changes = fetch(conn, "admin.role_changes", window.params())
    anyone = fetch(conn, "admin.profiles_exist", {})
    active = count_active(admins.frame) if admins.ok else None
    changed = profile_changes(admins.frame, former.frame, window)
    finding = active_finding(admins, anyone, former, active)
    return Access(
        admins=for_display(admins.frame),
        former_admins=for_display(former.frame),
        role_changes=for_display(changes.frame),
        profile_changes=for_display(changed),
        active=active,
        sentence=sentence(active, former.frame, changes.frame, changed, finding),
        findings=(finding,),
        timings=timings(admins, former, changes, anyone),
    )


def count_active(frame: pd.DataFrame) -> int:
    if frame.empty:
        return 0
    return int(frame["can_get_in"].fillna(False).astype(bool).sum())


def profile_changes(admins: pd.DataFrame, former: pd.DataFrame, window: Window) -> pd.DataFrame:
    """Admins and former admins whose profile changed (user_profiles.updated_at) during the window."""
    cols = ["user_id", "role", "status", "updated_at"]
    parts = [f[cols] for f in (admins, former) if not f.empty]
    if not parts:
        return pd.DataFrame(columns=cols)
    both = pd.concat(parts, ignore_index=True).drop_duplicates("user_id")
    at = pd.to_datetime(both["updated_at"], utc=True)
    return both[(at >= pd.Timestamp(window.since)) & (at < pd.Timestamp(window.until))].reset_index(drop=True)


def active_finding(admins: Fetched, anyone: Fetched, former: Fetched, active: int | None) -> Finding:
    check = checks.get("admin.active_admins")
    if not admins.ok or active is None:
        return checks.error(check, admins.error or "")
    lost = len(former.frame) if former.ok else 0
    if active == 0 and anyone.ok and not bool(first_value(anyone.frame, "any_profile")) and not lost:
        # an empty database has no platform to administer: nothing to judge, not an outage
        return checks.evaluate(check, None, detail="user_profiles가 비어 있음 (no users at all)")
    detail = f"접근 가능한 관리자 {active}명"
    if lost:
        detail += f" · 최근 7일 관리자였지만 지금은 아님 {lost}명"
    ev = evidence(admins.frame, ["user_id", "role", "status", "can_get_in", "updated_at"])
    return checks.evaluate(check, active, detail=detail, evidence=ev)


def sentence(
    active: int | None,
    former: pd.DataFrame,
    changes: pd.DataFrame,
    changed: pd.DataFrame,
    finding: Finding,
) -> str:
    if active is None:
        return f"관리자 목록을 읽지 못했습니다 (cannot judge): {finding.detail}"
    if finding.outcome is Outcome.NOT_EVALUATED:
        return "사용자가 없는 데이터베이스입니다: 관리자 접근을 판단할 대상이 없습니다 (no users)."
    parts = [f"지금 들어갈 수 있는 관리자 {active}명 (active admins who can get in)"]
    if active == 0:
        parts[0] = "지금 들어갈 수 있는 관리자가 한 명도 없습니다 (zero active admins: P0)"
    if len(former):
        last = pd.to_datetime(former["updated_at"], utc=True).max()
        when = kst(last.to_pydatetime() if isinstance(last, pd.Timestamp) else last)  # type: ignore[arg-type]
        parts.append(f"최근 관리자였다가 빠진 사용자 {len(former)}명 (마지막 변경 {when})")
    if len(changes):
        parts.append(f"창 안의 권한 감사로그 {len(changes)}건 (role.grant/role.revoke/user.*)")
    elif len(changed):
        parts.append(f"권한 감사로그 없이 프로필이 바뀐 관리자 {len(changed)}명 (profile changed, no audit row)")
    if len(former) and active >= 0:
        parts.append("복원은 `opsbook action admin-role-restore --target <user id>` (아래 최소 완화)")
    return " · ".join(parts) + "."


def latest(frame: pd.DataFrame, column: str) -> datetime | None:
    if frame.empty or column not in frame.columns:
        return None
    value = pd.to_datetime(frame[column], utc=True).max()
    return None if pd.isna(value) else value.to_pydatetime()
