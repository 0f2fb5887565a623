"""webhook_handler_5xx: a broken payment-webhook release answers 500 to both PGs.

Injected, from 40 minutes before as_of: payment-webhook@v42 goes live with a bug. It crashes
after verifying the request ("TypeError: Cannot read properties of undefined (reading
'paymentId')"): every delivery of both PGs is answered HTTP 500 with processing_status
'failed' (PortOne signatures still verify: signature_valid true), function_edge_logs show 500,
function_logs carry the error lines, and both PGs retry (PortOne up to 5 attempts, Toss up to
7). The purchases of the window (the baseline's and a burst of extra ones) stay 'pending'
without a credit while pg_transactions holds their approval.

Ground truth: payments.webhook_success_rate P0 for portone and for tosspayments,
payments.webhook_function_5xx P0, payments.pg_paid_db_pending P0, payments.recon_status_mismatch P0 (the
same orders seen by the reconciliation of the window: one cause, said once). Stage: webhook.
"""

from __future__ import annotations

import psycopg

from opslib.results import Severity
from opslib.seed.scenarios import drills
from opslib.seed.scenarios.base import Expected, Scenario, ScenarioContext, Stage, register

ERROR = "TypeError: Cannot read properties of undefined (reading 'paymentId') at handleWebhook (index.ts:87:31)"


def inject(conn: psycopg.Connection, ctx: ScenarioContext) -> None:
    drills.webhook_outage(conn, ctx, tag="crash", providers=None, http_status=500, error=ERROR)


SCENARIO = register(
    Scenario(
        name="webhook_handler_5xx",
        title="payment-webhook 500 (broken release, both PGs)",
        description=__doc__ or "",
        expected=(
            Expected("payments.webhook_success_rate", Severity.P0, "portone"),
            Expected("payments.webhook_success_rate", Severity.P0, "tosspayments"),
            Expected("payments.webhook_function_5xx", Severity.P0),
            Expected("payments.pg_paid_db_pending", Severity.P0),
            Expected("payments.recon_status_mismatch", Severity.P0),
        ),
        stage=Stage.WEBHOOK,
        inject=inject,
    )
)
