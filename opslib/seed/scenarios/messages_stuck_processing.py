"""messages_stuck_processing: dispatcher runs claimed messages and died before sending them.

Injected, over the last 40 minutes: scheduled messages claimed 30 s after they were due
(scheduled_status 'processing', locked_by scheduled-dispatcher, locked_at set, one attempt) that
never became 'sent': the function hit its worker limit on one run in five (546 WORKER_LIMIT in
function_edge_logs and pg_net; the runs of the last two minutes went through). Locks older than
the page's lock age (10 min) are stuck: most of them. The backlog of pending messages stays empty.

Ground truth: messaging.stuck_processing P1, messaging.dispatcher_errors P1 (a fifth of the
invocations failed; the job's latest runs succeed, so its cron HTTP failures read "recovered").
"""

from __future__ import annotations

import psycopg

from opslib.results import Severity
from opslib.seed.scenarios import message_drills
from opslib.seed.scenarios.base import Expected, Scenario, ScenarioContext, register


def inject(conn: psycopg.Connection, ctx: ScenarioContext) -> None:
    message_drills.burst(conn, ctx, message_drills.scaled(80, ctx), salt=3, status="processing")
    conn.execute(
        """
        UPDATE logs.function_edge_logs f
           SET status_code = 546, execution_time_ms = 150000,
               event_message = 'POST | 546 | ' || split_part(f.event_message, ' | ', 3)
          FROM s_params p
         WHERE f.function_name = 'scheduled-dispatcher' AND f."timestamp" >= p.incident_start
           AND f."timestamp" < p.as_of - interval '2 minutes'
           AND extract(minute FROM f."timestamp")::int % 5 = 0
        """
    )
    conn.execute(
        """
        UPDATE net._http_response r
           SET status_code = 546, content = '{"code":"WORKER_LIMIT","message":"Worker exceeded resource limits"}'
          FROM s_params p
         WHERE r.created >= p.incident_start AND r.content LIKE '{"ok":true,"claimed"%'
           AND r.created < p.as_of - interval '2 minutes'
           AND extract(minute FROM r.created)::int % 5 = 0
        """
    )


SCENARIO = register(
    Scenario(
        name="messages_stuck_processing",
        title="processing에 멈춘 메시지 (claimed messages never sent)",
        description=__doc__ or "",
        expected=(
            Expected("messaging.stuck_processing", Severity.P1),
            Expected("messaging.dispatcher_errors", Severity.P1),
        ),
        stage=None,
        inject=inject,
        runbook="messaging",
    )
)
