"""net_timeouts: the dispatcher got slow; pg_net gives up after 30 s on every scheduled call.

Injected, 40 minutes before as_of: scheduled-dispatcher invocations take 34-47 s (a slow query in
the claim), beyond invoke_edge_function's 30 000 ms request timeout. pg_cron: `succeeded`; pg_net:
status NULL, timed_out, 'Timeout of 30000 ms reached'; the function's own log: 200 after 34-47 s
(it finished, nobody was listening).

Ground truth: cron.http_failures[scheduled-dispatcher] P1 (TIMEOUT), cron.timeout_margin
[scheduled-dispatcher] P2 (slowest execution above the request timeout).
"""

from __future__ import annotations

import psycopg

from opslib.results import Severity
from opslib.seed.scenarios import cron_drills
from opslib.seed.scenarios.base import Expected, Scenario, ScenarioContext, register


def inject(conn: psycopg.Connection, ctx: ScenarioContext) -> None:
    cron_drills.override_runs(
        conn,
        "scheduled-dispatcher",
        ctx.incident_start,
        ctx.as_of,
        status_code=None,
        timed_out=True,
        error_msg="Timeout of 30000 ms reached. Total time: 30001.412 ms",
        delay_ms=30_002,
    )
    conn.execute(
        """UPDATE logs.function_edge_logs
              SET execution_time_ms = 34000 + (abs(hashtext(id::text)) %% 13000)
            WHERE function_name = 'scheduled-dispatcher' AND "timestamp" >= %s""",
        (ctx.incident_start,),
    )
    cron_drills.rebuild_responses(conn)


SCENARIO = register(
    Scenario(
        name="net_timeouts",
        title="pg_net 타임아웃 (dispatcher slower than its request timeout)",
        description=__doc__ or "",
        expected=(
            Expected("cron.http_failures", Severity.P1, "scheduled-dispatcher"),
            Expected("cron.timeout_margin", Severity.P2, "scheduled-dispatcher"),
        ),
        stage=None,
        inject=inject,
        runbook="cron",
    )
)
