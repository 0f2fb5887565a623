"""§3-E 최소 완화: "관리자 접근 복구: DB 직접 쿼리로 역할 확인/복원" — one user back to active admin.

Exactly one existing user, named by id (--target); anything else is refused before a write.
A confirmed run needs a reason and a WI: the role change and its admin_audit_log row
('role.grant', before/after, reason with the WI) are one transaction. There is no undo:
taking a role away is not a mitigation (do it through ops-manage, with its own audit row).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy.engine import Connection

from opslib import queries
from opslib.actions import (
    ActionOutcome,
    ActionRequest,
    audit_rows,
    readable,
    register,
    require_confirmation,
    set_claims,
    writable,
)
from opslib.errors import ActionRefused

NAME = "admin-role-restore"
WANTED = {"role": "admin", "status": "active"}
TARGET_TYPE = "user"


def user_id(request: ActionRequest) -> str:
    """The one user to restore, as a canonical uuid; a list, a name or nothing is refused."""
    raw = request.target.strip()
    if not raw:
        raise ActionRefused(f"{NAME} needs exactly one user: --target <user id (uuid)>; nothing was written")
    try:
        return str(uuid.UUID(raw))
    except ValueError:
        raise ActionRefused(
            f"{NAME} takes exactly one user id (a uuid), not {len(raw)} characters of something else; "
            "nothing was written"
        ) from None


def _state(frame: Any, uid: str) -> dict[str, Any]:
    if len(frame) != 1:
        raise ActionRefused(f"no user_profiles row for user {uid[:8]}…; nothing was written")
    row = frame.iloc[0].to_dict()
    if row["status"] == "deleted":
        raise ActionRefused(f"user {uid[:8]}… is deleted: restore the account before its role; nothing was written")
    return {"role": row["role"], "status": row["status"]}


def plan(conn: Connection, request: ActionRequest) -> ActionOutcome:
    """Dry-run: the user's role/status before and after, and the audit row; writes nothing."""
    if request.undo:
        raise ActionRefused(f"{NAME} has no undo: remove a role through ops-manage (audited); nothing was written")
    if not request.target:
        return ActionOutcome(
            NAME,
            "(no user chosen)",
            False,
            False,
            None,
            None,
            (),
            f"choose the admin to restore from 트리아지 1, then: opsbook action {NAME} --target <user id> "
            f"--reason '...' --wi WI-... (dry-run), and the same with --confirm {NAME}",
        )
    uid = user_id(request)
    before = _state(queries.run(conn, "actions.profile_read", {"user_id": uid}).frame, uid)
    changed = before != WANTED
    audit = ({"action": "role.grant", "target_type": TARGET_TYPE, "target_id": uid},) if changed else ()
    message = (
        f"would set role {before['role']} → admin, status {before['status']} → active and write 1 admin_audit_log row; "
        f"to do it: opsbook action {NAME} --target {uid} --reason '...' --wi WI-... --confirm {NAME}"
        if changed
        else "this user is already an active admin: nothing to do"
    )
    return ActionOutcome(NAME, uid, False, changed, before, WANTED if changed else before, audit, message)


@register(NAME, plan)
def role_restore(
    request: ActionRequest, *, confirm: str | None = None, database_url: str | None = None
) -> ActionOutcome:
    """Restore one user's admin role (role 'admin', status 'active') with its audit row."""
    if not require_confirmation(NAME, confirm):
        with readable(database_url) as conn:
            return plan(conn, request)
    if request.undo:
        raise ActionRefused(f"{NAME} has no undo: remove a role through ops-manage (audited); nothing was written")
    uid = user_id(request)
    if not request.reason.strip() or not request.wi_id.strip():
        raise ActionRefused(f"{NAME} writes a privilege: give --reason and --wi for its audit row; nothing was written")
    with writable(database_url) as conn:
        set_claims(conn, request)
        before = _state(queries.run(conn, "actions.profile_for_update", {"user_id": uid}).frame, uid)
        if before == WANTED:
            return ActionOutcome(NAME, uid, True, False, before, before, (), "already an active admin: nothing written")
        updated = queries.run(conn, "actions.profile_restore_admin", {"user_id": uid}).frame
        if len(updated) != 1:
            raise ActionRefused(f"expected to change exactly one user, changed {len(updated)}; rolled back")
        after = {"role": updated.iloc[0]["role"], "status": updated.iloc[0]["status"]}
        queries.run(
            conn,
            "actions.audit_insert",
            {
                "admin_id": request.operator_uuid,
                "action": "role.grant",
                "target_type": TARGET_TYPE,
                "target_id": uid,
                "before": json.dumps(before, ensure_ascii=False),
                "after": json.dumps(after, ensure_ascii=False),
                "reason": request.audit_reason("§3-E admin access restored"),
            },
        )
        written = audit_rows(conn, TARGET_TYPE, uid)
        if len(written) != 1:
            raise ActionRefused(f"expected exactly one audit row for the user, found {len(written)}; rolled back")
    return ActionOutcome(NAME, uid, True, True, before, after, written, "admin role restored; audit row written")
