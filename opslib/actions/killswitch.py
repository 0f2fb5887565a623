"""Kill switches as guarded actions: a feature flag with is_kill_switch pulled (enabled = false) or released.

§3-A 최소 완화 "신규 결제 CTA 차단": payments.purchase; §3-C 최소 완화 "스케줄 기능 임시 비활성":
messages.scheduled_dispatch; §3-E "publish 기능만 임시 차단": admin.publish (opslib/actions/publish_block.py).
One definition per switch (define()), the same plan and execution.
"""

from __future__ import annotations

import json
from collections.abc import Callable
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


def _row(frame: Any, flag: str, missing_hint: str = "") -> dict[str, Any]:
    if frame.empty:
        raise ActionRefused(f"feature flag {flag!r} does not exist in feature_flags; nothing was written{missing_hint}")
    return {k: v for k, v in frame.iloc[0].to_dict().items() if k in ("key", "enabled", "is_kill_switch", "metadata")}


def define(
    name: str, flag: str, purpose: str, off_means: str, on_means: str, missing_hint: str = ""
) -> Callable[..., ActionOutcome]:
    """Register the kill switch `name` for feature flag `flag` (purpose: the audit row's default reason;
    missing_hint: what a database without the flag needs, appended to the refusal)."""

    def plan(conn: Connection, request: ActionRequest) -> ActionOutcome:
        return _plan(conn, request, name, flag, missing_hint)

    @register(name, plan)
    def kill_switch(
        request: ActionRequest, *, confirm: str | None = None, database_url: str | None = None
    ) -> ActionOutcome:
        return _execute(request, confirm, database_url, name, flag, purpose, off_means, on_means, missing_hint)

    kill_switch.__doc__ = f"Pull (enabled = false) or, with undo, release the {flag} kill switch."
    return kill_switch


def _plan(conn: Connection, request: ActionRequest, name: str, flag: str, missing_hint: str = "") -> ActionOutcome:
    """Dry-run: the exact before/after and the audit row, read on any session; writes nothing."""
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


def _execute(
    request: ActionRequest,
    confirm: str | None,
    database_url: str | None,
    name: str,
    flag: str,
    purpose: str,
    off_means: str,
    on_means: str,
    missing_hint: str = "",
) -> ActionOutcome:
    """Pull (enabled = false) or, with undo, release (enabled = true) one kill switch."""
    wanted = request.undo
    if not require_confirmation(name, confirm):
        with readable(database_url) as conn:
            return _plan(conn, request, name, flag, missing_hint)
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
                    "reason": request.audit_reason(purpose),
                },
            )
            written = audit_rows(conn, "feature_flag", flag)
        if len(written) != 1:
            raise ActionRefused(f"expected exactly one audit row for {flag}, found {len(written)}; rolled back")
    state = off_means if not wanted else on_means
    return ActionOutcome(name, flag, True, True, before, after, written, f"{flag} is now {state}; audit row written")


kill_switch = define(NAME, FLAG, "payments kill switch", "off (new purchases blocked)", "on (purchases allowed)")
messages_kill_switch = define(
    "messages-kill-switch",
    "messages.scheduled_dispatch",
    "scheduled dispatch kill switch",
    "off (scheduled messages held; send now instead)",
    "on (scheduled-dispatcher claims due messages again)",
)
