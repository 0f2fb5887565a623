"""bad_deploy: a scheduled-dispatcher release answers 500 and boots slowly after the deploy.

Injected, from 40 minutes before as_of (the incident start): scheduled-dispatcher@v18 replaces
@v17 (CI's `function.deploy` row 45 s before its first invocation). From then on, every third
minute the function answers 500 ("TypeError: Cannot read properties of undefined (reading
'batch')"): in logs.function_edge_logs, as an error line in logs.function_logs, and in pg_net's
response behind pg_cron's `succeeded` run. Every second minute is a cold start of 4.2-4.8 s (the
baseline: 5 % of calls, 0.15-1 s). Before the deploy nothing failed.

Ground truth (runbook deploy): deploy.function_5xx P1, deploy.cold_starts P2, deploy.cold_start_time
P2 (p95 over §4-E's 3 s) and deploy.function_log_errors P2, each on scheduled-dispatcher; and the
cron page's own check, reused on this page, cron.http_failures on scheduled-dispatcher: P1 while
the latest run is one of the failing ones, P3 in the minutes between (at least P3).
"""

from __future__ import annotations

import psycopg

from opslib.results import Severity
from opslib.seed.scenarios import deploy_drills
from opslib.seed.scenarios.base import Expected, Scenario, ScenarioContext, register

ERROR = "TypeError: Cannot read properties of undefined (reading 'batch') at dispatch (index.ts:58:22)"
FN = deploy_drills.FUNCTION


def inject(conn: psycopg.Connection, ctx: ScenarioContext) -> None:
    deploy_drills.release(conn, ctx.incident_start)
    deploy_drills.failing(conn, ctx.incident_start, ERROR)
    deploy_drills.slow_boots(conn, ctx.incident_start, 4200)


SCENARIO = register(
    Scenario(
        name="bad_deploy",
        title="배포 후 회귀: scheduled-dispatcher@v18 (5xx + slow cold starts)",
        description=__doc__ or "",
        expected=(
            Expected("deploy.function_5xx", Severity.P1, FN),
            Expected("deploy.cold_starts", Severity.P2, FN),
            Expected("deploy.cold_start_time", Severity.P2, FN),
            Expected("deploy.function_log_errors", Severity.P2, FN),
            Expected("cron.http_failures", Severity.P3, FN),
        ),
        stage=None,
        inject=inject,
        runbook="deploy",
    )
)
