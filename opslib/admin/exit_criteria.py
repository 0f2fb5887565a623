"""Runbook §3-E 종료 조건: Admin 대시보드 접근 가능 + ops-manage HTTP 200 응답.

Measured as: at least one active admin; the share of 2xx over the last N ops-manage invocations
(N and the share in checks/admin.yaml) at or above the line; publishing working (the publish
block flag, when the database has it, is on, and the last write through ops-manage succeeded);
all of it held for hold_minutes since the last thing that broke it. No invocation in the lookback
is "cannot judge", never "met".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd
from sqlalchemy.engine import Connection

from opslib import checks
from opslib.admin.access import count_active, latest
from opslib.admin.settings import ExitSettings, settings
from opslib.display import for_display
from opslib.fetch import Fetched, QueryTiming, fetch, timings
from opslib.measures import first_value, pct
from opslib.results import Finding
from opslib.timewindow import kst


@dataclass(frozen=True)
class Condition:
    name: str
    good: bool | None  # None: cannot judge
    since: datetime | None  # when it last became good (None: unknown or not good)
    detail: str


@dataclass(frozen=True)
class ExitCondition:
    met: bool | None  # None: cannot judge
    met_since: datetime | None
    hold_minutes: int
    conditions: pd.DataFrame  # condition, state, since (KST), detail
    recent: pd.DataFrame  # the last N invocations (KST)
    sentence: str
    findings: tuple[Finding, ...]  # only ERROR ones
    timings: tuple[QueryTiming, ...]


def exit_condition(conn: Connection, until: datetime, hold_minutes: int = 0) -> ExitCondition:
    conf = settings()
    ex = conf.exit
    hold = hold_minutes or ex.hold_minutes
    since = until - timedelta(hours=ex.lookback_hours)
    recent = fetch(conn, "admin.ops_manage_recent", {"since": since, "until": until, "last": ex.last_invocations})
    last = fetch(conn, "admin.ops_manage_last_failure", {"since": since, "until": until})
    admins = fetch(conn, "admin.active_admins", {"until": until})
    flag = fetch(conn, "actions.flag_read", {"key": conf.publish_flag})
    conds = [
        admin_condition(admins),
        answer_condition(recent, last, ex),
        publish_condition(flag, last, conf.publish_flag, until),
    ]
    met, met_since = judge(conds, until, hold)
    failed: dict[str, str] = {}
    for f, cid in ((recent, "admin.ops_manage_5xx"), (last, "admin.ops_manage_5xx"), (admins, "admin.active_admins")):
        if not f.ok:
            failed.setdefault(cid, f.error or "")
    errors = tuple(checks.error(checks.get(cid), why, subject="종료 조건") for cid, why in failed.items())
    return ExitCondition(
        met=met,
        met_since=met_since,
        hold_minutes=hold,
        conditions=for_display(condition_frame(conds)),
        recent=for_display(recent.frame),
        sentence=exit_sentence(met, met_since, conds, until, hold),
        findings=errors,
        timings=timings(recent, last, admins, flag),
    )


def admin_condition(admins: Fetched) -> Condition:
    name = "활성 관리자 ≥ 1 (an admin can get in)"
    if not admins.ok:
        return Condition(name, None, None, f"측정 실패: {admins.error}")
    n = count_active(admins.frame)
    if not n:
        return Condition(name, False, None, "접근 가능한 관리자 0명")
    ok = admins.frame[admins.frame["can_get_in"].fillna(False).astype(bool)]
    # the set held since the newest change among the admins who can get in
    return Condition(name, True, latest(ok, "updated_at"), f"{n}명")


def answer_condition(recent: Fetched, last: Fetched, ex: ExitSettings) -> Condition:
    name = f"ops-manage 2xx ≥ {ex.min_2xx_pct:g}% (최근 {ex.last_invocations}회)"
    if not recent.ok or not last.ok:
        return Condition(name, None, None, f"측정 실패: {recent.error or last.error}")
    frame = recent.frame
    if frame.empty:
        return Condition(
            name,
            None,
            None,
            f"최근 {ex.lookback_hours}시간 ops-manage 호출 없음: 콘솔에서 읽기 화면을 한 번 열어 판단하세요",
        )
    codes = pd.to_numeric(frame["status_code"], errors="coerce")
    ok = int(((codes >= 200) & (codes < 300)).sum())
    share = pct(ok, len(frame)) or 0.0
    detail = f"{ok}/{len(frame)}회 2xx ({share:.0f}%)"
    if len(frame) < ex.last_invocations:
        detail += f" · {ex.lookback_hours}시간 안에 {len(frame)}회뿐"
    if share < ex.min_2xx_pct:
        return Condition(name, False, None, detail)
    failed_at = first_value(last.frame, "last_failure_at")
    since = pd.Timestamp(failed_at).to_pydatetime() if failed_at is not None else None
    return Condition(name, True, since, detail)


# One 403 on a write is a refusal (someone without the right); a run of them is publishing broken.
REFUSED_WRITES_BROKEN = 2


def publish_condition(flag: Fetched, last: Fetched, flag_key: str, until: datetime) -> Condition:
    name = "퍼블리시 가능 (publish works)"
    if not last.ok:
        return Condition(name, None, None, f"측정 실패: {last.error}")
    failed = first_value(last.frame, "last_failed_write_at")
    good = first_value(last.frame, "last_good_write_at")
    failed_at = pd.Timestamp(failed).to_pydatetime() if failed is not None else None
    good_at = pd.Timestamp(good).to_pydatetime() if good is not None else None
    since = failed_at
    parts = []
    if flag.ok and not flag.frame.empty:
        enabled = bool(first_value(flag.frame, "enabled"))
        if not enabled:
            return Condition(name, False, None, f"{flag_key} 꺼짐: 퍼블리시 차단 중 (publish blocked)")
        changed = first_value(flag.frame, "updated_at")
        at = pd.Timestamp(changed).to_pydatetime() if changed is not None else None
        if at is not None and at <= until:  # a change after the judged instant says nothing about it
            since = max(since, at) if since else at
        parts.append(f"{flag_key} 켜짐")
    else:
        parts.append(f"{flag_key} 플래그 없음 (publish block not installed)")
    if failed_at and (good_at is None or good_at < failed_at):
        return Condition(name, False, None, "; ".join([*parts, f"마지막 쓰기 실패 {kst(failed_at)}"]))
    refused = int(first_value(last.frame, "refused_writes_since_good") or 0)
    if refused >= REFUSED_WRITES_BROKEN:
        return Condition(name, False, None, "; ".join([*parts, f"마지막 성공 뒤 쓰기 {refused}회 403 거부 (refused)"]))
    parts.append(
        f"마지막 성공한 쓰기 {kst(good_at)}" if good_at else "최근 쓰기 없음 (no write to judge by: reads only)"
    )
    return Condition(name, True, since, "; ".join(parts))


def judge(conds: list[Condition], until: datetime, hold: int) -> tuple[bool | None, datetime | None]:
    """Met only when every condition is good and the newest 'became good' is hold minutes old."""
    if any(c.good is False for c in conds):
        return False, None
    if any(c.good is None for c in conds):
        return None, None
    # a change stamped after the judged instant (a row written later than `until`) says nothing about it
    starts = [c.since for c in conds if c.since is not None and c.since <= until]
    since = max(starts) if starts else None
    if since is not None and until - since < timedelta(minutes=hold):
        return False, since
    return True, since


def condition_frame(conds: list[Condition]) -> pd.DataFrame:
    state = {True: "충족 (good)", False: "미충족 (failing)", None: "판단 불가 (cannot judge)"}
    return pd.DataFrame(
        [{"condition": c.name, "state": state[c.good], "since": c.since, "detail": c.detail} for c in conds],
        columns=["condition", "state", "since", "detail"],
    )


def exit_sentence(met: bool | None, since: datetime | None, conds: list[Condition], until: datetime, hold: int) -> str:
    if met is True:
        held = f"{kst(since)}부터" if since else "측정 범위 내내"
        return f"종료 조건 충족: {held} 유지 중 ({hold}분 이상) (exit condition met)."
    if met is None:
        unknown = "; ".join(f"{c.name}: {c.detail}" for c in conds if c.good is None)
        return f"종료 조건 판단 불가 (cannot judge): {unknown}."
    failing = [c for c in conds if c.good is False]
    if failing:
        return "종료 조건 미충족 (not met): " + "; ".join(f"{c.name}: {c.detail}" for c in failing) + "."
    left = hold - (until - since).total_seconds() / 60 if since else hold
    return (
        f"모든 조건이 {kst(since)}부터 정상이지만 {hold}분 유지까지 {left:.0f}분 남았습니다 "
        "(conditions good, not yet held long enough)."
    )
