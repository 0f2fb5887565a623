"""dispatcher_secret_mismatch: Vault's cron_secret no longer matches scheduled-dispatcher's CRON_SECRET.

Injected, from 40 minutes before as_of: every pg_cron run of scheduled-dispatcher still ends
'succeeded' ('1 row': it only queued net.http_post), but the function answers 401 (x-cron-secret
rejected): net._http_response status 401, function_edge_logs 401. Nothing is claimed: the
baseline's messages due since then stay pending, undelivered, and a burst of scheduled messages
(posts and one-to-one messages, half of them paid) piles up behind them, past 200.

Ground truth: messaging.scheduled_backlog P0, messaging.dispatcher_errors P0, and the job's runs
failing behind 'succeeded' (cron.http_failures, the job's severity P1, from opslib.dispatcher).
"""

from __future__ import annotations

import psycopg

from opslib.results import Severity
from opslib.seed.scenarios import message_drills
from opslib.seed.scenarios.base import Expected, Scenario, ScenarioContext, register

BODY = '{"error":"unauthorized","message":"invalid x-cron-secret"}'


def inject(conn: psycopg.Connection, ctx: ScenarioContext) -> None:
    message_drills.hold(conn)
    message_drills.burst(conn, ctx, message_drills.scaled(240, ctx), salt=1)
    message_drills.dispatcher_answers(conn, status=401, content=BODY)


SCENARIO = register(
    Scenario(
        name="dispatcher_secret_mismatch",
        title="scheduled-dispatcher 401 (Vault cron_secret ≠ Edge CRON_SECRET)",
        description=__doc__ or "",
        expected=(
            Expected("messaging.scheduled_backlog", Severity.P0),
            Expected("messaging.dispatcher_errors", Severity.P0),
            Expected("cron.http_failures", Severity.P1, "scheduled-dispatcher"),
        ),
        stage=None,
        inject=inject,
        runbook="messaging",
    )
)
