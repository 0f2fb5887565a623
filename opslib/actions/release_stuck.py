"""§3-C 복구: messages stuck in 'processing' (a dispatcher run claimed them and died) back to 'pending'.

Only locks older than the lock age (an option, 10 minutes by default, never under 5: a younger
lock may belong to a run still fanning out). The next dispatcher run claims them again; the
delivery rows' unique key (message_id, recipient_id, channel) keeps a second fan-out from
writing a fan's row twice. Idempotent: a second run finds nothing to release.
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

NAME = "release-stuck-messages"
TARGET = "processing→pending"
DEFAULT_LOCK_AGE = 10
MIN_LOCK_AGE = 5
LISTED = 10


def lock_age(request: ActionRequest) -> int:
    try:
        minutes = int(request.option("lock_age_minutes", DEFAULT_LOCK_AGE))
    except (TypeError, ValueError):
        raise ActionRefused("option lock_age_minutes must be a whole number of minutes") from None
    if minutes < MIN_LOCK_AGE:
        raise ActionRefused(
            f"lock_age_minutes={minutes} is too young: a lock under {MIN_LOCK_AGE} minutes may be a run still working"
        )
    return minutes


def _ids(frame: Any) -> list[str]:
    return [str(v) for v in frame["message_id"].head(LISTED)]


def plan(conn: Connection, request: ActionRequest) -> ActionOutcome:
    """Dry-run: the stuck messages the release would put back to pending; writes nothing."""
    minutes = lock_age(request)
    stuck = queries.run(conn, "actions.stuck_plan", {"lock_age_minutes": minutes}).frame
    target = f"{TARGET} (lock > {minutes} min)"
    if stuck.empty:
        return ActionOutcome(
            NAME, target, False, False, None, None, (), f"no message locked longer than {minutes} min: nothing to do"
        )
    before = {"scheduled_status": "processing", "messages": len(stuck), "first": _ids(stuck)}
    after = {"scheduled_status": "pending", "messages": len(stuck), "first": _ids(stuck), "locked_at": None}
    audit = ({"action": "messages.release_stuck", "target_type": "messages", "target_id": target},)
    message = (
        f"would put {len(stuck)} message(s) back to pending and write 1 admin_audit_log row; to do it: "
        f"opsbook action {NAME} -o lock_age_minutes {minutes} --confirm {NAME}"
    )
    return ActionOutcome(NAME, target, False, True, before, after, audit, message)


@register(NAME, plan)
def release_stuck(
    request: ActionRequest, *, confirm: str | None = None, database_url: str | None = None
) -> ActionOutcome:
    """Release processing messages whose lock is older than lock_age_minutes; one audit row."""
    if not require_confirmation(NAME, confirm):
        with readable(database_url) as conn:
            return plan(conn, request)
    if request.undo:
        raise ActionRefused("releasing a lock cannot be undone (the next dispatcher run claims them); nothing written")
    minutes = lock_age(request)
    target = f"{TARGET} (lock > {minutes} min)"
    with writable(database_url) as conn:
        set_claims(conn, request)
        stuck = queries.run(conn, "actions.stuck_plan", {"lock_age_minutes": minutes}).frame
        released = queries.run(conn, "actions.stuck_release", {"lock_age_minutes": minutes}).frame
        if released.empty:
            return ActionOutcome(
                NAME,
                target,
                True,
                False,
                None,
                None,
                (),
                f"no message locked longer than {minutes} min: nothing written",
            )
        ids = [str(v) for v in released["message_id"]]
        was = stuck[stuck["message_id"].astype(str).isin(ids)]
        before = {
            "scheduled_status": "processing",
            "messages": len(ids),
            "ids": ids,
            "locked_at": [None if v is None else str(v) for v in was["locked_at"]],
        }
        after = {"scheduled_status": "pending", "messages": len(ids), "ids": ids, "locked_at": None}
        queries.run(
            conn,
            "actions.audit_insert",
            {
                "admin_id": request.operator_uuid,
                "action": "messages.release_stuck",
                "target_type": "messages",
                "target_id": target,
                "before": json.dumps(before, ensure_ascii=False),
                "after": json.dumps(after, ensure_ascii=False),
                "reason": request.audit_reason(f"release messages locked > {minutes} min"),
            },
        )
        written = audit_rows(conn, "messages", target)
        if len(written) != 1:
            raise ActionRefused(f"expected exactly one audit row for {target}, found {len(written)}; rolled back")
    summary = {"scheduled_status": "pending", "messages": len(ids), "first": ids[:LISTED]}
    return ActionOutcome(
        NAME,
        target,
        True,
        True,
        {"scheduled_status": "processing", "messages": len(ids), "first": ids[:LISTED]},
        summary,
        written,
        f"{len(ids)} message(s) back to pending; the next dispatcher run claims them; audit row written",
    )
