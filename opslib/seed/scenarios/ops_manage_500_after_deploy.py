"""ops_manage_500_after_deploy: a broken ops-manage release answers 500 to every call.

Injected, from 40 minutes before as_of: CI deploys ops-manage@v24 (ops_audit_log 'function.deploy'
45 s before); from then on every ops-manage call, read or write, answers 500 and logs
"TypeError: Cannot read properties of null (reading 'banner_id') at publishBanner (index.ts:142:18)".
Admins keep trying (24 calls over the incident, every third a publish).

Ground truth: admin.ops_manage_5xx P1, admin.publish_failures P1, admin.error_after_deploy P2
(subject ops-manage@v24). Admins and the service-role key are fine.
"""

from __future__ import annotations

import psycopg

from opslib.results import Severity
from opslib.seed.scenarios import admin_drills
from opslib.seed.scenarios.base import Expected, Scenario, ScenarioContext, register

BAD = "ops-manage@v24"
ERROR = "TypeError: Cannot read properties of null (reading 'banner_id') at publishBanner (index.ts:142:18)"


def inject(conn: psycopg.Connection, ctx: ScenarioContext) -> None:
    admin_drills.deploy(
        conn, action="function.deploy", target="ops-manage", details={"version": BAD, "previous": admin_drills.VERSION}
    )
    admin_drills.ops_manage_calls(
        conn, ctx, tag="crash", count=24, status_get=500, status_write=500, version=BAD, message=ERROR
    )


SCENARIO = register(
    Scenario(
        name="ops_manage_500_after_deploy",
        title="ops-manage 500 (broken release)",
        description=__doc__ or "",
        expected=(
            Expected("admin.ops_manage_5xx", Severity.P1),
            Expected("admin.publish_failures", Severity.P1),
            Expected("admin.error_after_deploy", Severity.P2, BAD),
        ),
        stage=None,
        inject=inject,
        runbook="admin",
    )
)
