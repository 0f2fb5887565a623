"""Notice banners as guarded actions: publish (or take down) a runbook's notice banner.

§3-A 최소 완화 "일시 점검" banner in the store; §3-B "로그인 점검 중" (a popup signed-out users see);
§3-C 최소 완화 "즉시 발송 안내" (scheduled sending paused) at the top of home. One definition per
banner (define()), the same plan and execution; a banner is recognised by its title.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Notice:
    """One notice banner an action publishes."""

    name: str  # the action's name
    title: str
    image: str
    placement: str
    purpose: str  # the audit row's default reason


def _rows(frame: Any) -> list[dict[str, Any]]:
    return [{k: (str(v) if k == "id" else v) for k, v in r.items()} for r in frame.to_dict("records")]


def define(notice: Notice) -> Callable[..., ActionOutcome]:
    """Register the action that publishes `notice` (and takes it down with undo)."""

    def plan(conn: Connection, request: ActionRequest) -> ActionOutcome:
        """Dry-run: what publishing (or taking down) the banner would change; writes nothing."""
        return _plan(notice, request, _rows(queries.run(conn, "actions.banner_live", {"title": notice.title}).frame))

    @register(notice.name, plan)
    def publish(
        request: ActionRequest, *, confirm: str | None = None, database_url: str | None = None
    ) -> ActionOutcome:
        return _execute(notice, plan, request, confirm, database_url)

    publish.__doc__ = f"Publish (or, with undo, take down) the banner {notice.title!r}; one audit row per change."
    return publish


def _execute(
    notice: Notice,
    plan: Callable[[Connection, ActionRequest], ActionOutcome],
    request: ActionRequest,
    confirm: str | None,
    database_url: str | None,
) -> ActionOutcome:
    """Publish (or, with undo, take down) the notice banner; one audit row per change."""
    if not require_confirmation(notice.name, confirm):
        with readable(database_url) as conn:
            return plan(conn, request)

    with writable(database_url) as conn:
        set_claims(conn, request)
        live = _rows(queries.run(conn, "actions.banner_live", {"title": notice.title}).frame)
        if request.undo:
            if not live:
                return ActionOutcome(
                    notice.name,
                    notice.placement,
                    True,
                    False,
                    None,
                    None,
                    (),
                    "no maintenance banner is live: nothing written",
                )
            changed = _rows(queries.run(conn, "actions.banner_unpublish", {"title": notice.title}).frame)
            for row in changed:
                _audit(
                    conn,
                    notice,
                    request,
                    "banner.unpublish",
                    row["id"],
                    before=next(b for b in live if b["id"] == row["id"]),
                    after=row,
                )
            written = tuple(a for row in changed for a in audit_rows(conn, "banner", row["id"]))
            return ActionOutcome(
                notice.name,
                notice.placement,
                True,
                True,
                live[0],
                changed[0],
                written,
                f"{len(changed)} banner(s) taken down",
            )
        if live:
            return ActionOutcome(
                notice.name,
                notice.placement,
                True,
                False,
                live[0],
                live[0],
                (),
                "the maintenance banner is already live: nothing written",
            )
        params = {
            "title": notice.title,
            "image_path": notice.image,
            "placement": notice.placement,
            "created_by": request.operator_uuid,
        }
        row = _rows(queries.run(conn, "actions.banner_publish", params).frame)[0]
        _audit(conn, notice, request, "banner.publish", row["id"], before=None, after=row)
        written = audit_rows(conn, "banner", row["id"])
        if len(written) != 1:
            raise ActionRefused(f"expected exactly one audit row for the banner, found {len(written)}; rolled back")
    return ActionOutcome(
        notice.name, notice.placement, True, True, None, row, written, "maintenance banner published; audit row written"
    )


def _plan(notice: Notice, request: ActionRequest, live: list[dict[str, Any]]) -> ActionOutcome:
    if request.undo:
        if not live:
            return ActionOutcome(
                notice.name,
                notice.placement,
                False,
                False,
                None,
                None,
                (),
                "no maintenance banner is live: nothing to do",
            )
        after = {**live[0], "is_active": False}
        return ActionOutcome(
            notice.name,
            notice.placement,
            False,
            True,
            live[0],
            after,
            ({"action": "banner.unpublish", "target_type": "banner", "target_id": live[0]["id"]},),
            f"would take the banner down; to do it: opsbook action {notice.name} --confirm {notice.name} --undo",
        )
    if live:
        return ActionOutcome(
            notice.name,
            notice.placement,
            False,
            False,
            live[0],
            live[0],
            (),
            "the maintenance banner is already live: nothing to do",
        )
    after = {
        "title": notice.title,
        "placement": notice.placement,
        "platform": "all",
        "priority": 1000,
        "is_active": True,
        "image_path": notice.image,
    }
    return ActionOutcome(
        notice.name,
        notice.placement,
        False,
        True,
        None,
        after,
        ({"action": "banner.publish", "target_type": "banner", "target_id": "(new)"},),
        "would publish the banner and write 1 admin_audit_log row; "
        f"to do it: opsbook action {notice.name} --confirm {notice.name}",
    )


def _audit(
    conn: Any, notice: Notice, request: ActionRequest, action: str, banner_id: str, *, before: Any, after: Any
) -> None:
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
            "reason": request.audit_reason(notice.purpose),
        },
    )


maintenance_banner = define(Notice(NAME, TITLE, IMAGE, PLACEMENT, "payments maintenance banner"))
messages_notice_banner = define(
    Notice(
        "messages-notice-banner",
        "예약 메시지 지연 안내: 즉시 발송 기능을 써 주세요 (Scheduled messages delayed: send now instead)",
        "system/messages-scheduled-paused.webp",
        "home_top",
        "scheduled messages notice banner",
    )
)
# Runbook §3-B 최소 완화: 긴급 공지 "로그인 점검 중, 재시도/업데이트 안내" (→ §1 소통 템플릿). A popup:
# the login screen shows it to signed-out users, whom the banners policy lets read live banners.
LOGIN_NOTICE = Notice(
    "auth-login-notice",
    "로그인 점검 중: 잠시 후 다시 시도하거나 앱을 최신 버전으로 업데이트해 주세요 "
    "(Login under maintenance: please retry shortly or update the app)",
    "system/login-maintenance.webp",
    "popup",
    "§3-B login notice",
)
login_notice = define(LOGIN_NOTICE)
