"""§3-A 최소 완화: "신규 결제 CTA 차단 (kill switch)" — feature flag payments.purchase off.

plan_flag / switch_flag pull any kill-switch flag the same way (§3-E's publish block uses them).
"""

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


def _row(frame: Any, flag: str = FLAG, missing_hint: str = "") -> dict[str, Any]:
    if frame.empty:
        raise ActionRefused(f"feature flag {flag!r} does not exist in feature_flags; nothing was written{missing_hint}")
    return {k: v for k, v in frame.iloc[0].to_dict().items() if k in ("key", "enabled", "is_kill_switch", "metadata")}


def plan(conn: Connection, request: ActionRequest) -> ActionOutcome:
    """Dry-run: the exact before/after and the audit row, read on any session; writes nothing."""
    return plan_flag(NAME, FLAG, conn, request)


def plan_flag(name: str, flag: str, conn: Connection, request: ActionRequest, missing_hint: str = "") -> ActionOutcome:
    """Dry-run of pulling (enabled = false) or, with undo, releasing a kill-switch flag."""
    wanted = request.undo  # pulling the switch means enabled = false
    before = _row(queries.run(conn, "actions.flag_read", {"key": flag}).frame, flag, missing_hint)
    changed = bool(before["enabled"]) != wanted
    note = request.note()
    after = (
        {**before, "enabled": wanted, "metadata": {**(before["metadata"] or {}), "opsbook": note}}
        if changed
        else before
    )
    audit = ({"action": "kill_switch.toggle", "target_type": "feature_flag", "target_id": flag},) if changed else ()
    message = (
        f"would set {flag}.enabled {before['enabled']} → {wanted} and write 1 admin_audit_log row; "
        f"to do it: opsbook action {name} --confirm {name}{' --undo' if request.undo else ''}"
        if changed
        else f"{flag} is already {'on' if wanted else 'off'}: nothing to do"
    )
    return ActionOutcome(name, flag, False, changed, before, after, audit, message)


@register(NAME, plan)
def kill_switch(
    request: ActionRequest, *, confirm: str | None = None, database_url: str | None = None
) -> ActionOutcome:
    """Pull (enabled = false) or, with undo, release (enabled = true) the payments kill switch."""
    return switch_flag(
        NAME,
        FLAG,
        request,
        confirm=confirm,
        database_url=database_url,
        states=("off (new purchases blocked)", "on (purchases allowed)"),
        audit_default="payments kill switch",
    )


def switch_flag(
    name: str,
    flag: str,
    request: ActionRequest,
    *,
    confirm: str | None,
    database_url: str | None,
    states: tuple[str, str],
    audit_default: str,
    missing_hint: str = "",
) -> ActionOutcome:
    """Pull or release one kill-switch flag: the change and its audit row in one transaction."""
    wanted = request.undo
    if not require_confirmation(name, confirm):
        with readable(database_url) as conn:
            return plan_flag(name, flag, conn, request, missing_hint)
    note = request.note()
    with writable(database_url) as conn:
        set_claims(conn, request)
        before = _row(queries.run(conn, "actions.flag_for_update", {"key": flag}).frame, flag, missing_hint)
        if not before["is_kill_switch"]:
            raise ActionRefused(f"{flag} is not marked is_kill_switch; refusing to touch it")
        if bool(before["enabled"]) == wanted:
            return ActionOutcome(
                name,
                flag,
                True,
                False,
                before,
                before,
                (),
                f"{flag} was already {'on' if wanted else 'off'}: nothing written",
            )
        params = {"key": flag, "enabled": wanted, "note": json.dumps(note, ensure_ascii=False)}
        updated = queries.run(conn, "actions.flag_set", params).frame
        after = _row(updated, flag)
        written = audit_rows(conn, "feature_flag", flag)
        if not written:
            # The contract's trigger writes it; a database without the trigger still gets its audit row.
            queries.run(
                conn,
                "actions.audit_insert",
                {
                    "admin_id": request.operator_uuid,
                    "action": "kill_switch.toggle",
                    "target_type": "feature_flag",
                    "target_id": flag,
                    "before": json.dumps(before, default=str, ensure_ascii=False),
                    "after": json.dumps(after, default=str, ensure_ascii=False),
                    "reason": request.audit_reason(audit_default),
                },
            )
            written = audit_rows(conn, "feature_flag", flag)
        if len(written) != 1:
            raise ActionRefused(f"expected exactly one audit row for {flag}, found {len(written)}; rolled back")
    state = states[0] if not wanted else states[1]
    return ActionOutcome(name, flag, True, True, before, after, written, f"{flag} is now {state}; audit row written")
