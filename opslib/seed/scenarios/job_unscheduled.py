"""job_unscheduled: the scheduled-dispatcher job was deleted from cron.job (cron.unschedule).

Injected, 40 minutes before as_of: `cron.unschedule('scheduled-dispatcher')`. Its earlier runs stay
in cron.job_run_details under the old jobid; from then on nothing runs it: no runs, no pg_net
requests, no dispatcher invocations in the function log.

Ground truth: cron.job_registered[scheduled-dispatcher] P1 (missing), cron.missed_runs
[scheduled-dispatcher] P1 (every due time since the deletion).
"""

from __future__ import annotations

import psycopg

from opslib.results import Severity
from opslib.seed.scenarios import cron_drills
from opslib.seed.scenarios.base import Expected, Scenario, ScenarioContext, register


def inject(conn: psycopg.Connection, ctx: ScenarioContext) -> None:
    (jobid,) = conn.execute("SELECT jobid FROM cron.job WHERE jobname = 'scheduled-dispatcher'").fetchone()
    conn.execute("DELETE FROM cron.job_run_details WHERE jobid = %s AND start_time >= %s", (jobid, ctx.incident_start))
    conn.execute("DELETE FROM cron.job WHERE jobid = %s", (jobid,))
    conn.execute(
        """DELETE FROM logs.function_edge_logs
           WHERE function_name = 'scheduled-dispatcher' AND "timestamp" >= %s""",
        (ctx.incident_start,),
    )
    cron_drills.rebuild_responses(conn)


SCENARIO = register(
    Scenario(
        name="job_unscheduled",
        title="scheduled-dispatcher 잡 삭제 (job unscheduled)",
        description=__doc__ or "",
        expected=(
            Expected("cron.job_registered", Severity.P1, "scheduled-dispatcher"),
            Expected("cron.missed_runs", Severity.P1, "scheduled-dispatcher"),
        ),
        stage=None,
        inject=inject,
        runbook="cron",
    )
)
