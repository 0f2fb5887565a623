"""reconcile_failing_5xx: the nightly payment-reconcile answers 500.

Injected: the last nightly run (03:30 KST) of payment-reconcile crashed: the function logged an
error and answered 500 after 4 s (function_edge_logs 500, function_logs error); pg_cron says
`succeeded`; net._http_response holds the 500 when the run is younger than 6 hours; the
reconciliation_runs rows of that business day end in status 'error'. The business day is not
reconciled.

Ground truth: cron.function_status[payment-reconcile] P2, cron.reconcile_failed P2,
cron.reconcile_behind P2 (one business day behind, per provider).
"""

from __future__ import annotations

from datetime import timedelta

import psycopg

from opslib.results import Severity
from opslib.seed.scenarios import cron_drills
from opslib.seed.scenarios.base import Expected, Scenario, ScenarioContext, register

ERROR = "reconcile failed: PG settlement API returned 503 (tosspayments /v1/settlements); aborting run"


def inject(conn: psycopg.Connection, ctx: ScenarioContext) -> None:
    due = cron_drills.last_due_daily(ctx.as_of, 18, 30)
    until = due + timedelta(minutes=5)
    cron_drills.override_runs(
        conn,
        "payment-reconcile",
        due,
        until,
        status_code=500,
        delay_ms=4000,
        content='{"ok":false,"error":"internal"}',
    )
    cron_drills.function_status(conn, "payment-reconcile", due, until, status_code=500, execution_ms=4000)
    cron_drills.function_errors(conn, "payment-reconcile", due, until, ERROR, salt=9701)
    cron_drills.rebuild_responses(conn)
    conn.execute(
        """UPDATE public.reconciliation_runs
              SET status = 'error', error = %s, finished_at = started_at + interval '4 seconds',
                  pg_count = NULL, pg_amount_krw = NULL
            WHERE trigger = 'cron' AND started_at >= %s AND started_at < %s + interval '1 hour'""",
        (ERROR, due, due),
    )


SCENARIO = register(
    Scenario(
        name="reconcile_failing_5xx",
        title="payment-reconcile 500 (nightly reconciliation failing)",
        description=__doc__ or "",
        expected=(
            Expected("cron.function_status", Severity.P2, "payment-reconcile"),
            Expected("cron.reconcile_failed", Severity.P2),
        ),
        stage=None,
        inject=inject,
        runbook="cron",
    )
)
