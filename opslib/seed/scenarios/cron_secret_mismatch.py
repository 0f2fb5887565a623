"""cron_secret_mismatch: Vault's cron_secret no longer matches the Edge Functions' CRON_SECRET.

Injected: Vault `cron_secret` was rotated 10 minutes before the last nightly payment-reconcile
run (03:30 KST) and the Edge secret was not; since then every scheduled call carries the wrong
x-cron-secret. pg_cron records every run `succeeded` / `1 row` as always; the functions answer
401: net._http_response holds 401 for the runs of the last 6 hours, logs.function_edge_logs
holds 401 for every invocation of both functions since the rotation, and the reconcile run of
that night wrote no reconciliation_runs row (the function refused before starting). Messages
left unsent are the messaging page's drill: this one changes only what pg_cron, pg_net, Vault
and the function logs show.

Ground truth: cron.http_failures[scheduled-dispatcher] P1, cron.function_status
[scheduled-dispatcher] P1, cron.function_status[payment-reconcile] P2 (the reconcile's 401 is
in its own log whatever the hour). With $OPSBOOK_EDGE_CRON_SECRET_SHA256 set to the Edge
secret's digest the page also shows cron.secret_digest MISMATCH (P1).
"""

from __future__ import annotations

from datetime import timedelta

import psycopg

from opslib.results import Severity
from opslib.seed.scenarios import cron_drills
from opslib.seed.scenarios.base import Expected, Scenario, ScenarioContext, register

ROTATED_VAULT_SECRET = "drill-rotated-cron-secret-vault-only"


def rotated_at(ctx: ScenarioContext):
    return min(ctx.incident_start, cron_drills.last_due_daily(ctx.as_of, 18, 30) - timedelta(minutes=10))


def inject(conn: psycopg.Connection, ctx: ScenarioContext) -> None:
    start = rotated_at(ctx)
    conn.execute(
        "UPDATE vault.secrets SET secret = %s, updated_at = %s WHERE name = 'cron_secret'",
        (ROTATED_VAULT_SECRET, start),
    )
    body = '{"error":"unauthorized","message":"invalid x-cron-secret"}'
    for job in ("scheduled-dispatcher", "payment-reconcile"):
        cron_drills.override_runs(conn, job, start, ctx.as_of, status_code=401, delay_ms=120, content=body)
        cron_drills.function_status(conn, job, start, ctx.as_of, status_code=401, execution_ms=12)
    cron_drills.rebuild_responses(conn)
    # the refused reconcile never started a reconciliation run for its business day
    conn.execute("DELETE FROM public.reconciliation_runs WHERE started_at >= %s AND trigger = 'cron'", (start,))


SCENARIO = register(
    Scenario(
        name="cron_secret_mismatch",
        title="cron_secret 불일치 (Vault ↔ Edge CRON_SECRET): dispatcher and reconcile answer 401",
        description=__doc__ or "",
        expected=(
            Expected("cron.http_failures", Severity.P1, "scheduled-dispatcher"),
            Expected("cron.function_status", Severity.P1, "scheduled-dispatcher"),
            Expected("cron.function_status", Severity.P2, "payment-reconcile"),
        ),
        stage=None,
        inject=inject,
        runbook="cron",
    )
)
