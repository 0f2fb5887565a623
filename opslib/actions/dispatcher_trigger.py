"""§3-C 복구: "scheduled-dispatcher 수동 트리거" — call the dispatcher once, exactly as pg_cron does.

The call goes through the contract's invoke_edge_function() (pg_net, x-cron-secret read from
Vault inside the SECURITY DEFINER function), so the action never reads or prints the secret.
The dry-run lists the messages the run would claim. A second trigger within a minute of the
last one writes nothing (pg_cron's own next run comes within that minute anyway).
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
from opslib.timewindow import kst

NAME = "trigger-scheduled-dispatcher"
TARGET = "scheduled-dispatcher"
FLAG = "messages.scheduled_dispatch"
BATCH = 200  # what the pg_cron job sends ({"batch": 200})
MIN_INTERVAL_S = 60.0
LISTED = 10


def _batch(request: ActionRequest) -> int:
    try:
        batch = int(request.option("batch", BATCH))
    except (TypeError, ValueError):
        raise ActionRefused("option batch must be a whole number of messages") from None
    if not 1 <= batch <= 1000:
        raise ActionRefused(f"option batch={batch} must be between 1 and 1000")
    return batch


def _state(conn: Connection, batch: int) -> dict[str, Any]:
    flag = queries.run(conn, "actions.flag_read", {"key": FLAG}).frame
    claimable = queries.run(conn, "actions.dispatch_claimable", {"batch": batch}).frame
    last = queries.run(conn, "actions.dispatch_last_trigger", {}).frame
    return {
        "kill_switch_on": bool(flag.iloc[0]["enabled"]) if not flag.empty else False,
        "claimable": claimable,
        "last_age_s": float(last.iloc[0]["age_s"]) if not last.empty else None,
    }


def _listing(claimable: Any) -> list[str]:
    return [f"{r.message_id} due {kst(r.due_at, '%m-%d %H:%M KST')}" for r in claimable.head(LISTED).itertuples()]


def plan(conn: Connection, request: ActionRequest) -> ActionOutcome:
    """Dry-run: the messages one run would claim now, and whether the trigger would be sent."""
    batch = _batch(request)
    state = _state(conn, batch)
    claimable = state["claimable"]
    before = {
        "kill_switch": "on" if state["kill_switch_on"] else "off",
        "claimable_now": len(claimable),
        "last_manual_trigger_s_ago": None if state["last_age_s"] is None else round(state["last_age_s"]),
    }
    if not state["kill_switch_on"]:
        message = (
            f"{FLAG} is off: a run would claim nothing. Release it first "
            "(opsbook action messages-kill-switch --undo --confirm messages-kill-switch)"
        )
        return ActionOutcome(NAME, TARGET, False, False, before, before, (), message)
    if state["last_age_s"] is not None and state["last_age_s"] < MIN_INTERVAL_S:
        return ActionOutcome(
            NAME, TARGET, False, False, before, before, (), "triggered by hand less than a minute ago: nothing to do"
        )
    after = {
        **before,
        "http_post": f"invoke_edge_function('{TARGET}', batch {batch}) via pg_net",
        "would_claim": len(claimable),
        "first_claims": _listing(claimable),
    }
    audit = ({"action": "dispatcher.trigger", "target_type": "edge_function", "target_id": TARGET},)
    message = (
        f"would call {TARGET} once (batch {batch}) and write 1 admin_audit_log row; it would claim "
        f"{len(claimable)} message(s). To do it: opsbook action {NAME} --confirm {NAME}"
    )
    return ActionOutcome(NAME, TARGET, False, True, before, after, audit, message)


@register(NAME, plan)
def trigger_dispatcher(
    request: ActionRequest, *, confirm: str | None = None, database_url: str | None = None
) -> ActionOutcome:
    """Invoke scheduled-dispatcher once through invoke_edge_function(); one audit row."""
    if not require_confirmation(NAME, confirm):
        with readable(database_url) as conn:
            return plan(conn, request)
    if request.undo:
        raise ActionRefused("a dispatcher run cannot be undone; nothing was written")
    batch = _batch(request)
    with writable(database_url) as conn:
        set_claims(conn, request)
        state = _state(conn, batch)
        before = {"kill_switch": "on" if state["kill_switch_on"] else "off", "claimable_now": len(state["claimable"])}
        if not state["kill_switch_on"]:
            raise ActionRefused(f"{FLAG} is off: the dispatcher would claim nothing; release the switch first")
        if state["last_age_s"] is not None and state["last_age_s"] < MIN_INTERVAL_S:
            return ActionOutcome(
                NAME,
                TARGET,
                True,
                False,
                before,
                before,
                (),
                "triggered by hand less than a minute ago: nothing written",
            )
        request_id = int(queries.run(conn, "actions.dispatch_invoke", {"batch": batch}).frame.iloc[0]["request_id"])
        after = {**before, "request_id": request_id, "batch": batch}
        queries.run(
            conn,
            "actions.audit_insert",
            {
                "admin_id": request.operator_uuid,
                "action": "dispatcher.trigger",
                "target_type": "edge_function",
                "target_id": TARGET,
                "before": json.dumps(before, ensure_ascii=False),
                "after": json.dumps(after, ensure_ascii=False),
                "reason": request.audit_reason("manual scheduled-dispatcher run"),
            },
        )
        written = audit_rows(conn, "edge_function", TARGET)
        if len(written) != 1:
            raise ActionRefused(f"expected exactly one audit row for {TARGET}, found {len(written)}; rolled back")
    return ActionOutcome(
        NAME,
        TARGET,
        True,
        True,
        before,
        after,
        written,
        f"pg_net request {request_id} queued; its answer lands in net._http_response (id {request_id}): "
        "run the page again to see the claims and the HTTP status",
    )
