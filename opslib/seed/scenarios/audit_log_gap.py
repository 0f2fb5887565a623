"""audit_log_gap: changes made behind ops-manage's back leave no admin_audit_log row.

Injected, during the incident, with triggers off (someone ran SQL as the table owner with
session_replication_role = replica, so the contract's feature_flags_audit trigger did not fire):
funding.pledge switched off (5 minutes in), a popup banner created and published (10 minutes in),
and a fan promoted to admin (15 minutes in). None has an admin_audit_log row. ops-manage is healthy.

Ground truth: admin.audit_gap_content P2 (one flag, one banner), admin.audit_gap_roles P1
(an admin nobody granted).
"""

from __future__ import annotations

import psycopg

from opslib.results import Severity
from opslib.seed.scenarios.base import Expected, Scenario, ScenarioContext, register


def inject(conn: psycopg.Connection, ctx: ScenarioContext) -> None:
    conn.execute(
        "UPDATE public.feature_flags f SET enabled = false, updated_at = s.incident_start + interval '5 minutes'"
        " FROM s_params s WHERE f.key = 'funding.pledge'"
    )
    conn.execute(
        "INSERT INTO public.banners (title, image_path, link_url, placement, platform, priority, is_active, starts_at,"
        " created_at, updated_at)"
        " SELECT '긴급 공지', 'popup/notice.webp', '/notice', 'popup', 'all', 99, true, incident_start + interval"
        " '10 minutes', incident_start + interval '10 minutes', incident_start + interval '10 minutes' FROM s_params"
    )
    conn.execute(
        "UPDATE public.user_profiles SET role = 'admin', updated_at = (SELECT incident_start FROM s_params)"
        " + interval '15 minutes' WHERE id = (SELECT id FROM s_users WHERE n = (SELECT fan0 FROM s_params) + 7)"
    )


SCENARIO = register(
    Scenario(
        name="audit_log_gap",
        title="감사로그 누락 (flag, banner and role changed with no audit row)",
        description=__doc__ or "",
        expected=(
            Expected("admin.audit_gap_content", Severity.P2),
            Expected("admin.audit_gap_roles", Severity.P1),
        ),
        stage=None,
        inject=inject,
        runbook="admin",
    )
)
