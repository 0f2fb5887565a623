"""최소 완화 banners: a notice published in the app as a guarded, audited, idempotent action.

One mechanism, several notices: §3-A's "일시 점검" banner in the store and §3-B's "로그인 점검 중"
notice (a popup: the login screen shows it to signed-out users, whom the banners policy lets read
live banners). A notice is recognised by its title, so publishing twice changes nothing.
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


@dataclass(frozen=True)
class BannerSpec:
    """One notice: its action name, the wording the runbook prescribes, where it shows."""

    name: str
    title: str
    image: str
    placement: str  # banners.placement: home_top | home_middle | store | popup
    default_reason: str  # the audit row's reason when the operator gives none


PAYMENTS_MAINTENANCE = BannerSpec(
    name="payments-maintenance-banner",
    title="결제 일시 점검 안내 (Payments temporarily under maintenance)",
    image="system/payments-maintenance.webp",
    placement="store",
    default_reason="payments maintenance banner",
)
# Runbook §3-B 최소 완화: 긴급 공지 "로그인 점검 중, 재시도/업데이트 안내" (→ §1 소통 템플릿).
LOGIN_NOTICE = BannerSpec(
    name="auth-login-notice",
    title="로그인 점검 중: 잠시 후 다시 시도하거나 앱을 최신 버전으로 업데이트해 주세요 "
    "(Login under maintenance: please retry shortly or update the app)",
    image="system/login-maintenance.webp",
    placement="popup",
    default_reason="§3-B login notice",
)
BANNERS = (PAYMENTS_MAINTENANCE, LOGIN_NOTICE)

# Kept for callers of the first (payments) banner.
NAME = PAYMENTS_MAINTENANCE.name
TITLE = PAYMENTS_MAINTENANCE.title
IMAGE = PAYMENTS_MAINTENANCE.image
PLACEMENT = PAYMENTS_MAINTENANCE.placement


def _rows(frame: Any) -> list[dict[str, Any]]:
    return [{k: (str(v) if k == "id" else v) for k, v in r.items()} for r in frame.to_dict("records")]


def _live(conn: Connection, spec: BannerSpec) -> list[dict[str, Any]]:
    return _rows(queries.run(conn, "actions.banner_live", {"title": spec.title}).frame)


def plan_for(spec: BannerSpec) -> Callable[[Connection, ActionRequest], ActionOutcome]:
    def plan(conn: Connection, request: ActionRequest) -> ActionOutcome:
        """Dry-run: what publishing (or taking down) the notice would change; writes nothing."""
        return _plan(spec, request, _live(conn, spec))

    return plan


def action_for(spec: BannerSpec) -> Callable[..., ActionOutcome]:
    def act(request: ActionRequest, *, confirm: str | None = None, database_url: str | None = None) -> ActionOutcome:
        """Publish (or, with undo, take down) the notice; one audit row per change."""
        if not require_confirmation(spec.name, confirm):
            with readable(database_url) as conn:
                return _plan(spec, request, _live(conn, spec))
        with writable(database_url) as conn:
            set_claims(conn, request)
            return _perform(conn, spec, request)

    act.__name__ = spec.name.replace("-", "_")
    return act


def _perform(conn: Connection, spec: BannerSpec, request: ActionRequest) -> ActionOutcome:
    name, placement = spec.name, spec.placement
    live = _live(conn, spec)
    if request.undo:
        if not live:
            return ActionOutcome(name, placement, True, False, None, None, (), "no such banner live: nothing written")
        changed = _rows(queries.run(conn, "actions.banner_unpublish", {"title": spec.title}).frame)
        for row in changed:
            before = next(b for b in live if b["id"] == row["id"])
            _audit(conn, spec, request, "banner.unpublish", row["id"], before=before, after=row)
        written = tuple(a for row in changed for a in audit_rows(conn, "banner", row["id"]))
        return ActionOutcome(
            name, placement, True, True, live[0], changed[0], written, f"{len(changed)} banner(s) taken down"
        )
    if live:
        return ActionOutcome(
            name, placement, True, False, live[0], live[0], (), "the banner is already live: nothing written"
        )
    params = {
        "title": spec.title,
        "image_path": spec.image,
        "placement": placement,
        "created_by": request.operator_uuid,
    }
    row = _rows(queries.run(conn, "actions.banner_publish", params).frame)[0]
    _audit(conn, spec, request, "banner.publish", row["id"], before=None, after=row)
    written = audit_rows(conn, "banner", row["id"])
    if len(written) != 1:
        raise ActionRefused(f"expected exactly one audit row for the banner, found {len(written)}; rolled back")
    return ActionOutcome(name, placement, True, True, None, row, written, "banner published; audit row written")


def _plan(spec: BannerSpec, request: ActionRequest, live: list[dict[str, Any]]) -> ActionOutcome:
    name, placement = spec.name, spec.placement
    if request.undo:
        if not live:
            return ActionOutcome(name, placement, False, False, None, None, (), "no such banner is live: nothing to do")
        after = {**live[0], "is_active": False}
        return ActionOutcome(
            name,
            placement,
            False,
            True,
            live[0],
            after,
            ({"action": "banner.unpublish", "target_type": "banner", "target_id": live[0]["id"]},),
            f"would take the banner down; to do it: opsbook action {name} --confirm {name} --undo",
        )
    if live:
        return ActionOutcome(
            name, placement, False, False, live[0], live[0], (), "the banner is already live: nothing to do"
        )
    after = {
        "title": spec.title,
        "placement": placement,
        "platform": "all",
        "priority": 1000,
        "is_active": True,
        "image_path": spec.image,
    }
    return ActionOutcome(
        name,
        placement,
        False,
        True,
        None,
        after,
        ({"action": "banner.publish", "target_type": "banner", "target_id": "(new)"},),
        f"would publish the banner and write 1 admin_audit_log row; to do it: opsbook action {name} --confirm {name}",
    )


def _audit(
    conn: Any, spec: BannerSpec, request: ActionRequest, action: str, banner_id: str, *, before: Any, after: Any
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
            "reason": request.audit_reason(spec.default_reason),
        },
    )


for _spec in BANNERS:
    register(_spec.name, plan_for(_spec))(action_for(_spec))
