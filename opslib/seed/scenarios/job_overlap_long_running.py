"""job_overlap_long_running: the dispatcher's runs hang on a lock; pg_cron queues the next ones.

Injected, 40 minutes before as_of: a long ALTER on net.http_request_queue (a pg_net upgrade run
by hand) holds its lock; each dispatcher run waits minutes inside `net.http_post`. pg_cron runs
one instance of a job at a time and starts a queued run when the previous one ends: runs take
3-5 minutes, start late, and the latest has been `running` for 9 minutes. Each request is
answered 200 after its run committed.

Ground truth: cron.stuck_runs[scheduled-dispatcher] P1, cron.missed_runs[scheduled-dispatcher]
P1 (due times with no run started on time), cron.duration_drift[scheduled-dispatcher] P2.
"""

from __future__ import annotations

from datetime import timedelta

import psycopg

from opslib.results import Severity
from opslib.seed.scenarios import cron_drills
from opslib.seed.scenarios.base import Expected, Scenario, ScenarioContext, register

STUCK_FOR = timedelta(minutes=9)


def inject(conn: psycopg.Connection, ctx: ScenarioContext) -> None:
    (jobid, command) = conn.execute(
        "SELECT jobid, command FROM cron.job WHERE jobname = 'scheduled-dispatcher'"
    ).fetchone()
    conn.execute("DELETE FROM cron.job_run_details WHERE jobid = %s AND start_time >= %s", (jobid, ctx.incident_start))
    conn.execute(
        """DELETE FROM logs.function_edge_logs WHERE function_name = 'scheduled-dispatcher' AND "timestamp" >= %s""",
        (ctx.incident_start,),
    )
    durations = (200, 250, 180, 290, 230, 260, 210)  # seconds each run waits for the lock
    at = ctx.incident_start.replace(second=0, microsecond=0) + timedelta(minutes=1, milliseconds=30)
    stuck_from = ctx.as_of - STUCK_FOR
    k = 0
    while at < stuck_from:
        end = at + timedelta(seconds=durations[k % len(durations)])
        if end >= stuck_from:
            break
        conn.execute(
            """INSERT INTO cron.job_run_details (jobid, job_pid, database, username, command, status, return_message,
                                                 start_time, end_time)
               VALUES (%s, %s, current_database(), 'postgres', %s, 'succeeded', '1 row', %s, %s)""",
            (jobid, 41000 + k, command, at, end),
        )
        conn.execute(
            """INSERT INTO logs.function_edge_logs (id, "timestamp", function_name, method, status_code,
                   execution_time_ms, execution_id, deployment_version, event_message, metadata)
               VALUES (s_uuid4(%s, 9721), %s, 'scheduled-dispatcher', 'POST', 200, 180, s_uuid4(%s, 9722)::text,
                       'scheduled-dispatcher@v17', 'POST | 200 | scheduled-dispatcher', '{}'::jsonb)""",
            (k, end + timedelta(milliseconds=300), k),
        )
        at = end + timedelta(milliseconds=15)  # the queued run starts as soon as the previous one ends
        k += 1
    conn.execute(
        """INSERT INTO cron.job_run_details (jobid, job_pid, database, username, command, status, return_message,
                                             start_time, end_time)
           VALUES (%s, 41999, current_database(), 'postgres', %s, 'running', NULL, %s, NULL)""",
        (jobid, command, stuck_from),
    )
    cron_drills.rebuild_responses(conn)


SCENARIO = register(
    Scenario(
        name="job_overlap_long_running",
        title="디스패처 실행이 락 대기로 장시간 (runs hang, queued runs start late)",
        description=__doc__ or "",
        expected=(
            Expected("cron.stuck_runs", Severity.P1, "scheduled-dispatcher"),
            Expected("cron.missed_runs", Severity.P1, "scheduled-dispatcher"),
            Expected("cron.duration_drift", Severity.P2, "scheduled-dispatcher"),
        ),
        stage=None,
        inject=inject,
        runbook="cron",
    )
)
