"""Runbook §3-E 최소 완화, as dry-runs the page shows (nothing here writes).

- "publish 기능만 임시 차단 (읽기는 유지)": the admin-publish-block action on the flag named in
  checks/admin.yaml; when the database has no such flag the page says what production needs.
- "관리자 접근 복구": the admin-role-restore action for one user: the one given, else the admin
  lost most recently (트리아지 1). Ids are masked on the page; the command line takes the real one.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from sqlalchemy.engine import Connection

from opslib import actions
from opslib.actions import ActionOutcome
from opslib.admin.detection import ADMIN_LOOKBACK
from opslib.admin.settings import settings
from opslib.errors import ActionRefused
from opslib.fetch import fetch
from opslib.masking import mask_text
from opslib.results import Mitigation
from opslib.timewindow import Window

PRODUCTION_FLAG_NOTE = (
    "계약(contract)에는 publish 전용 플래그가 없습니다. 데모 DB에는 데모 전용 마이그레이션"
    " (opslib/sql/demo_admin_publish_flag.sql)으로 `{flag}` 킬 스위치가 있습니다. 운영(production)에는"
    " 같은 `{flag}` 행(enabled true, is_kill_switch true)을 마이그레이션 게이트를 거친 앱 마이그레이션으로 추가하고,"
    " ops-manage가 모든 쓰기(배너/플래그/자산 publish) 전에 is_feature_enabled('{flag}')를 확인해야 합니다"
    " (읽기는 확인하지 않음). Production needs the `{flag}` flag and that check in ops-manage."
)


@dataclass(frozen=True)
class Plan:
    outcome: ActionOutcome | None  # None: the action refused (the sentence says why)
    sentence: str

    @property
    def mitigation(self) -> Mitigation | None:
        """The verdict banner's "what to do now" (Page.measure reads it)."""
        return self.outcome.mitigation if self.outcome else None


def masked(outcome: ActionOutcome) -> ActionOutcome:
    """The plan as evidence may show it: user ids in its target and message masked."""
    rows = tuple({k: mask_text(str(v)) if k == "target_id" else v for k, v in r.items()} for r in outcome.audit_rows)
    return dataclasses.replace(
        outcome,
        target=mask_text(outcome.target),
        message=mask_text(outcome.message),
        command=mask_text(outcome.command),
        audit_rows=rows,
    )


def publish_block_plan(conn: Connection, wi_id: str = "") -> Plan:
    flag = settings().publish_flag
    note = PRODUCTION_FLAG_NOTE.format(flag=flag)
    try:
        outcome = actions.dry_run(conn, "admin-publish-block", wi_id=wi_id, reason="§3-E publish-only block")
    except ActionRefused as exc:
        return Plan(None, f"{note} · 지금 이 DB에서는: {exc}")
    return Plan(outcome, note)


def restore_plan(conn: Connection, window: Window, user_id: str = "", wi_id: str = "") -> Plan:
    chosen = user_id.strip()
    picked = ""
    if not chosen:
        former = fetch(conn, "admin.former_admins", {"lookback": window.until - ADMIN_LOOKBACK, "until": window.until})
        if former.ok and not former.frame.empty:
            chosen = str(former.frame.iloc[0]["user_id"])
            picked = "트리아지 1에서 가장 최근에 권한을 잃은 사용자로 계획했습니다 (the admin lost most recently). "
    if not chosen:
        return Plan(
            None,
            "복원할 관리자가 보이지 않습니다 (no recently lost admin): 필요하면 restore_user_id 파라미터나 "
            "`opsbook action admin-role-restore --target <user id>`로 한 명을 지정하세요.",
        )
    try:
        outcome = actions.dry_run(
            conn, "admin-role-restore", target=chosen, wi_id=wi_id, reason="§3-E admin access restore"
        )
    except ActionRefused as exc:
        return Plan(None, mask_text(str(exc)))
    return Plan(
        masked(outcome),
        picked + "실행: 실제 user id로 `opsbook action admin-role-restore --target <id> --reason ... --wi ... "
        "--confirm admin-role-restore` (한 명만, 같은 트랜잭션에 감사로그).",
    )


__all__ = ["Plan", "publish_block_plan", "restore_plan"]
