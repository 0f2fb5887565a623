"""service_role_key_missing: ops-manage lost its SUPABASE_SERVICE_ROLE_KEY secret.

Injected, from 40 minutes before as_of: the secret was removed from the project's Edge Function
secrets (no new deployment: the same ops-manage@v23 keeps serving). Reads answer 500 and log
"Missing SUPABASE_SERVICE_ROLE_KEY environment variable"; writes answer 401, since supabase-js
sends the empty key and PostgREST rejects it (the same line is logged). 24 calls over the incident.

Ground truth: admin.service_role_key_missing P1, admin.ops_manage_5xx P1, admin.publish_failures P1;
no new version (admin.error_after_deploy does not fire).
"""

from __future__ import annotations

import psycopg

from opslib.results import Severity
from opslib.seed.scenarios import admin_drills
from opslib.seed.scenarios.base import Expected, Scenario, ScenarioContext, register

ERROR = "Missing SUPABASE_SERVICE_ROLE_KEY environment variable"


def inject(conn: psycopg.Connection, ctx: ScenarioContext) -> None:
    admin_drills.ops_manage_calls(conn, ctx, tag="nokey", count=24, status_get=500, status_write=401, message=ERROR)


SCENARIO = register(
    Scenario(
        name="service_role_key_missing",
        title="ops-manage: SUPABASE_SERVICE_ROLE_KEY missing",
        description=__doc__ or "",
        expected=(
            Expected("admin.service_role_key_missing", Severity.P1),
            Expected("admin.ops_manage_5xx", Severity.P1),
            Expected("admin.publish_failures", Severity.P1),
        ),
        stage=None,
        inject=inject,
        runbook="admin",
    )
)
