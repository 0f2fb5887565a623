"""admins_demoted: a migration turned every admin into a fan; nobody can get into the console.

Injected: the three admins worked this morning (admin_audit_log rows by them, 2 hours before the
incident). 30 seconds before the incident CI applied migration 20261202_profiles_role_backfill
(ops_audit_log 'migration.apply'), which set role = 'fan' on their profiles (updated_at at the
incident start, no admin_audit_log row: a migration is not ops-manage). From then on ops-manage
answers 403 to every call ("forbidden: admin role required", level warn): 24 calls.

Ground truth: admin.active_admins P0 (zero), admin.audit_gap_roles P1 (three removals nobody
audited), admin.publish_failures P1 (every publish refused).
"""

from __future__ import annotations

import psycopg

from opslib.results import Severity
from opslib.seed.scenarios import admin_drills
from opslib.seed.scenarios.base import Expected, Scenario, ScenarioContext, register

MIGRATION = "20261202_profiles_role_backfill"


def inject(conn: psycopg.Connection, ctx: ScenarioContext) -> None:
    admin_drills.admins_worked_today(conn)
    admin_drills.deploy(
        conn, action="migration.apply", target=MIGRATION, details={"migration": MIGRATION}, seconds_before=30
    )
    conn.execute(
        "UPDATE public.user_profiles p SET role = 'fan', updated_at = s.incident_start"
        " FROM s_params s WHERE p.role = 'admin'"
    )
    admin_drills.ops_manage_calls(
        conn,
        ctx,
        tag="demoted",
        count=24,
        status_get=403,
        status_write=403,
        message="forbidden: admin role required",
        level="warn",
    )


SCENARIO = register(
    Scenario(
        name="admins_demoted",
        title="관리자 전원 강등 (every admin demoted by a migration)",
        description=__doc__ or "",
        expected=(
            Expected("admin.active_admins", Severity.P0),
            Expected("admin.audit_gap_roles", Severity.P1),
            Expected("admin.publish_failures", Severity.P1),
        ),
        stage=None,
        inject=inject,
        runbook="admin",
    )
)
