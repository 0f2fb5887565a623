"""webhook_secret_mismatch: a deploy changed the PortOne webhook secret; every PortOne webhook is rejected.

Injected, from 40 minutes before as_of: payment-webhook@v42 goes live with a
PORTONE_WEBHOOK_SECRET that no longer matches the one PortOne signs with. From then on every
PortOne delivery fails verification: signature_valid false, signature_error
NO_MATCHING_SIGNATURE, HTTP 401, processing_status 'failed' (function_edge_logs 401), and
PortOne retries each webhook (up to 5 attempts with the same webhook-id, so one webhook_id has
several rows). The stored signatures are valid for DEMO_PORTONE_WEBHOOK_SECRET: PortOne signed
correctly, our function's secret is what is wrong. The PortOne payments of the window (the
baseline's and a burst of extra ones) stay 'pending' in dt_purchases without a DT credit,
although pg_transactions holds their PAID approval. TossPayments is unaffected.

Ground truth: payments.webhook_success_rate (portone) P0, payments.webhook_signature_failures P0,
payments.pg_paid_db_pending P0, payments.recon_status_mismatch P0 (the same orders seen by the reconciliation
of the window: one cause, said once). Stage: webhook.
"""

from __future__ import annotations

import psycopg

from opslib.results import Severity
from opslib.seed.scenarios import drills
from opslib.seed.scenarios.base import Expected, Scenario, ScenarioContext, Stage, register

ERROR = "webhook verification failed: no matching signature (check PORTONE_WEBHOOK_SECRET)"


def inject(conn: psycopg.Connection, ctx: ScenarioContext) -> None:
    drills.webhook_outage(
        conn,
        ctx,
        tag="sig",
        providers=("portone",),
        http_status=401,
        error=ERROR,
        sig_valid=False,
        sig_error="NO_MATCHING_SIGNATURE",
    )


SCENARIO = register(
    Scenario(
        name="webhook_secret_mismatch",
        title="PortOne webhook 서명 불일치 (secret mismatch after a deploy)",
        description=__doc__ or "",
        expected=(
            Expected("payments.webhook_success_rate", Severity.P0, "portone"),
            Expected("payments.webhook_signature_failures", Severity.P0, "portone"),
            Expected("payments.pg_paid_db_pending", Severity.P0),
            Expected("payments.recon_status_mismatch", Severity.P0),
        ),
        stage=Stage.WEBHOOK,
        inject=inject,
    )
)
