"""dispatcher_stalled: the scheduled-dispatcher job stopped running (pg_cron worker or pg_net down).

Injected, from 40 minutes before as_of: no cron.job_run_details row for the job, no pg_net
response, no scheduled-dispatcher invocation in function_edge_logs, while the other functions
keep being drained (the drain is alive). Messages due since then stay pending, with a burst of
scheduled messages behind them: the backlog passes the warning line (50), not 200.

Ground truth: messaging.dispatcher_silent P0, messaging.scheduled_backlog P1.
"""

from __future__ import annotations

import psycopg

from opslib.results import Severity
from opslib.seed.scenarios import message_drills
from opslib.seed.scenarios.base import Expected, Scenario, ScenarioContext, register


def inject(conn: psycopg.Connection, ctx: ScenarioContext) -> None:
    message_drills.hold(conn)
    message_drills.burst(conn, ctx, message_drills.scaled(110, ctx), salt=2)
    message_drills.dispatcher_silent(conn)


SCENARIO = register(
    Scenario(
        name="dispatcher_stalled",
        title="scheduled-dispatcher 잡 정지 (the dispatcher job stopped running)",
        description=__doc__ or "",
        expected=(
            Expected("messaging.dispatcher_silent", Severity.P0),
            Expected("messaging.scheduled_backlog", Severity.P1),
        ),
        stage=None,
        inject=inject,
        runbook="messaging",
    )
)
