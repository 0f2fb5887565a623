"""§3-A 최소 완화: "신규 결제 CTA 차단 (kill switch)" — feature flag payments.purchase off."""

from __future__ import annotations

import json
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

NAME = "payments-kill-switch"
FLAG = "payments.purchase"


def _row(frame: Any) -> dict[str, Any]:
    if frame.empty:
        raise ActionRefused(f"feature flag {FLAG!r} does not exist in feature_flags; nothing was written")
    return {k: v for k, v in frame.iloc[0].to_dict().items() if k in ("key", "enabled", "is_kill_switch", "metadata")}


def plan(conn: Connection, request: ActionRequest) -> ActionOutcome:
    """Dry-run: the exact before/after and the audit row, read on any session; writes nothing."""
    wanted = request.undo  # pulling the switch means enabled = false
    before = _row(queries.run(conn, "actions.flag_read", {"key": FLAG}).frame)
    changed = bool(before["enabled"]) != wanted
    note = request.note()
    after = (
        {**before, "enabled": wanted, "metadata": {**(before["metadata"] or {}), "opsbook": note}}
        if changed
        else before
    )
    audit = ({"action": "kill_switch.toggle", "target_type": "feature_flag", "target_id": FLAG},) if changed else ()
    message = (
        f"would set {FLAG}.enabled {before['enabled']} → {wanted} and write 1 admin_audit_log row; "
        f"to do it: opsbook action {NAME} --confirm {NAME}{' --undo' if request.undo else ''}"
        if changed
        else f"{FLAG} is already {'on' if wanted else 'off'}: nothing to do"
    )
    return ActionOutcome(NAME, FLAG, False, changed, before, after, audit, message)


@register(NAME, plan)
def kill_switch(
    request: ActionRequest, *, confirm: str | None = None, database_url: str | None = None
) -> ActionOutcome:
    """Pull (enabled = false) or, with undo, release (enabled = true) the payments kill switch."""
    wanted = request.undo
    if not require_confirmation(NAME, confirm):
        with readable(database_url) as conn:
            return plan(conn, request)
    note = request.note()
    with writable(database_url) as conn:
        set_claims(conn, request)
        before = _row(queries.run(conn, "actions.flag_for_update", {"key": FLAG}).frame)
        if not before["is_kill_switch"]:
            raise ActionRefused(f"{FLAG} is not marked is_kill_switch; refusing to touch it")
        if bool(before["enabled"]) == wanted:
            return ActionOutcome(
                NAME,
                FLAG,
                True,
                False,
                before,
                before,
                (),
                f"{FLAG} was already {'on' if wanted else 'off'}: nothing written",
            )
        params = {"key": FLAG, "enabled": wanted, "note": json.dumps(note, ensure_ascii=False)}
        updated = queries.run(conn, "actions.flag_set", params).frame
        after = _row(updated)
        written = audit_rows(conn, "feature_flag", FLAG)
        if not written:
            # The contract's trigger writes it; a database without the trigger still gets its audit row.
            queries.run(
                conn,
                "actions.audit_insert",
                {
                    "admin_id": request.operator_uuid,
                    "action": "kill_switch.toggle",
                    "target_type": "feature_flag",
                    "target_id": FLAG,
                    "before": json.dumps(before, default=str, ensure_ascii=False),
                    "after": json.dumps(after, default=str, ensure_ascii=False),
                    "reason": request.audit_reason("payments kill switch"),
                },
            )
            written = audit_rows(conn, "feature_flag", FLAG)
        if len(written) != 1:
            raise ActionRefused(f"expected exactly one audit row for {FLAG}, found {len(written)}; rolled back")
    state = "off (new purchases blocked)" if not wanted else "on (purchases allowed)"
    return ActionOutcome(NAME, FLAG, True, True, before, after, written, f"{FLAG} is now {state}; audit row written")
