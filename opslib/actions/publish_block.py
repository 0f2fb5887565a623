"""§3-E 최소 완화: "publish 기능만 임시 차단 (읽기는 유지)" — the publish-only kill switch.

The contract has no flag for it. The demo database gets one from a demo-only migration
(opslib/sql/demo_admin_publish_flag.sql): feature_flags row `admin.publish`, a kill switch that
ops-manage must check (public.is_feature_enabled('admin.publish')) before any write, and never
before a read. Production needs the same row and that check in ops-manage; until then this
action refuses with that sentence instead of pretending to block anything.
"""

from __future__ import annotations

from opslib.actions.killswitch import define
from opslib.admin.settings import settings

NAME = "admin-publish-block"
PRODUCTION_NEEDS = (
    "; production needs the flag first: a migration inserting feature_flags row "
    "('{flag}', enabled true, is_kill_switch true) as in opslib/sql/demo_admin_publish_flag.sql, "
    "and ops-manage checking is_feature_enabled('{flag}') before every write (reads stay open)"
)

publish_block = define(
    NAME,
    settings().publish_flag,
    "admin publish block",
    "off (publishing blocked, reads open)",
    "on (publishing allowed)",
    missing_hint=PRODUCTION_NEEDS.format(flag=settings().publish_flag),
)
