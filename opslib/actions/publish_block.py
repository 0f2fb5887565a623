"""§3-E 최소 완화: "publish 기능만 임시 차단 (읽기는 유지)" — the publish-only kill switch.

The contract has no flag for it. The demo database gets one from a demo-only migration
(opslib/sql/demo_admin_publish_flag.sql): feature_flags row `admin.publish`, a kill switch that
ops-manage must check (public.is_feature_enabled('admin.publish')) before any write, and never
before a read. Production needs the same row and that check in ops-manage; until then this
action refuses with that sentence instead of pretending to block anything.
"""

from __future__ import annotations

from sqlalchemy.engine import Connection

from opslib.actions import ActionOutcome, ActionRequest, register
from opslib.actions.killswitch import plan_flag, switch_flag
from opslib.admin.settings import settings

NAME = "admin-publish-block"
PRODUCTION_NEEDS = (
    "; production needs the flag first: a migration inserting feature_flags row "
    "('{flag}', enabled true, is_kill_switch true) as in opslib/sql/demo_admin_publish_flag.sql, "
    "and ops-manage checking is_feature_enabled('{flag}') before every write (reads stay open)"
)


def _hint() -> str:
    return PRODUCTION_NEEDS.format(flag=settings().publish_flag)


def plan(conn: Connection, request: ActionRequest) -> ActionOutcome:
    """Dry-run: the flag's exact before/after and its audit row; writes nothing."""
    return plan_flag(NAME, settings().publish_flag, conn, request, _hint())


@register(NAME, plan)
def publish_block(
    request: ActionRequest, *, confirm: str | None = None, database_url: str | None = None
) -> ActionOutcome:
    """Block publishing (admin.publish off) or, with undo, allow it again; reads are never blocked."""
    return switch_flag(
        NAME,
        settings().publish_flag,
        request,
        confirm=confirm,
        database_url=database_url,
        states=("off (publishing blocked, reads open)", "on (publishing allowed)"),
        audit_default="admin publish block",
        missing_hint=_hint(),
    )
