"""§3-A 최소 완화: publish the "일시 점검" (temporary maintenance) banner in the store."""

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

NAME = "payments-maintenance-banner"
TITLE = "결제 일시 점검 안내 (Payments temporarily under maintenance)"
IMAGE = "system/payments-maintenance.webp"
PLACEMENT = "store"


def _rows(frame: Any) -> list[dict[str, Any]]:
    return [{k: (str(v) if k == "id" else v) for k, v in r.items()} for r in frame.to_dict("records")]


def plan(conn: Connection, request: ActionRequest) -> ActionOutcome:
    """Dry-run: what publishing (or taking down) the banner would change; writes nothing."""
    return _plan(request, _rows(queries.run(conn, "actions.banner_live", {"title": TITLE}).frame))


@register(NAME, plan)
def maintenance_banner(
    request: ActionRequest, *, confirm: str | None = None, database_url: str | None = None
) -> ActionOutcome:
    """Publish (or, with undo, take down) the maintenance banner; one audit row per change."""
    if not require_confirmation(NAME, confirm):
        with readable(database_url) as conn:
            return plan(conn, request)

    with writable(database_url) as conn:
        set_claims(conn, request)
        live = _rows(queries.run(conn, "actions.banner_live", {"title": TITLE}).frame)
        if request.undo:
            if not live:
                return ActionOutcome(
                    NAME, PLACEMENT, True, False, None, None, (), "no maintenance banner is live: nothing written"
                )
            changed = _rows(queries.run(conn, "actions.banner_unpublish", {"title": TITLE}).frame)
            for row in changed:
                _audit(
                    conn,
                    request,
                    "banner.unpublish",
                    row["id"],
                    before=next(b for b in live if b["id"] == row["id"]),
                    after=row,
                )
            written = tuple(a for row in changed for a in audit_rows(conn, "banner", row["id"]))
            return ActionOutcome(
                NAME, PLACEMENT, True, True, live[0], changed[0], written, f"{len(changed)} banner(s) taken down"
            )
        if live:
            return ActionOutcome(
                NAME,
                PLACEMENT,
                True,
                False,
                live[0],
                live[0],
                (),
                "the maintenance banner is already live: nothing written",
            )
        params = {"title": TITLE, "image_path": IMAGE, "placement": PLACEMENT, "created_by": request.operator_uuid}
        row = _rows(queries.run(conn, "actions.banner_publish", params).frame)[0]
        _audit(conn, request, "banner.publish", row["id"], before=None, after=row)
        written = audit_rows(conn, "banner", row["id"])
        if len(written) != 1:
            raise ActionRefused(f"expected exactly one audit row for the banner, found {len(written)}; rolled back")
    return ActionOutcome(
        NAME, PLACEMENT, True, True, None, row, written, "maintenance banner published; audit row written"
    )


def _plan(request: ActionRequest, live: list[dict[str, Any]]) -> ActionOutcome:
    if request.undo:
        if not live:
            return ActionOutcome(
                NAME, PLACEMENT, False, False, None, None, (), "no maintenance banner is live: nothing to do"
            )
        after = {**live[0], "is_active": False}
        return ActionOutcome(
            NAME,
            PLACEMENT,
            False,
            True,
            live[0],
            after,
            ({"action": "banner.unpublish", "target_type": "banner", "target_id": live[0]["id"]},),
            f"would take the banner down; to do it: opsbook action {NAME} --confirm {NAME} --undo",
        )
    if live:
        return ActionOutcome(
            NAME, PLACEMENT, False, False, live[0], live[0], (), "the maintenance banner is already live: nothing to do"
        )
    after = {
        "title": TITLE,
        "placement": PLACEMENT,
        "platform": "all",
        "priority": 1000,
        "is_active": True,
        "image_path": IMAGE,
    }
    return ActionOutcome(
        NAME,
        PLACEMENT,
        False,
        True,
        None,
        after,
        ({"action": "banner.publish", "target_type": "banner", "target_id": "(new)"},),
        f"would publish the banner and write 1 admin_audit_log row; to do it: opsbook action {NAME} --confirm {NAME}",
    )


def _audit(conn: Any, request: ActionRequest, action: str, banner_id: str, *, before: Any, after: Any) -> None:
    queries.run(
        conn,
        "actions.audit_insert",
        {
            "admin_id": request.operator_uuid,
            "action": action,
            "target_type": "banner",
            "target_id": banner_id,
            "before": json.dumps(before, default=str, ensure_ascii=False) if before is not None else "null",
            "after": json.dumps(after, default=str, ensure_ascii=False),
            "reason": request.audit_reason("payments maintenance banner"),
        },
    )
