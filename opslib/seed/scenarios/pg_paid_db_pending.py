"""pg_paid_db_pending: payments approved at the PG whose webhooks never arrived.

Injected, in the 40 minutes before as_of: a burst of extra purchases (both PGs) that the PG
approved (pg_transactions holds their PAID/DONE approval, as the 5-minute import fetched it)
but whose webhook never reached us: no payment_webhook_logs row exists for them at all, no
function invocation, and the purchase stays 'pending' without a credit. Every webhook that did
arrive was processed normally, so the webhook success rate stays normal.

Ground truth: payments.pg_paid_db_pending P0, payments.recon_status_mismatch P0 (the reconciliation of the
window sees the same orders, PG paid and DB pending: one cause, said once). Stage: webhook.
"""

from __future__ import annotations

import psycopg

from opslib.results import Severity
from opslib.seed.scenarios import drills
from opslib.seed.scenarios.base import Expected, Scenario, ScenarioContext, Stage, register


def inject(conn: psycopg.Connection, ctx: ScenarioContext) -> None:
    extra = drills.burst(conn, ctx, ctx.burst_size, tag="lost")
    conn.execute(f"UPDATE {extra} SET status = 'pending', credit_tx_id = NULL")  # type: ignore[arg-type]
    drills.write(conn, extra, deliveries=False, credits=False)


SCENARIO = register(
    Scenario(
        name="pg_paid_db_pending",
        title="PG 승인 완료, DB 미반영 (webhooks lost)",
        description=__doc__ or "",
        expected=(
            Expected("payments.pg_paid_db_pending", Severity.P0),
            Expected("payments.recon_status_mismatch", Severity.P0),
        ),
        stage=Stage.WEBHOOK,
        inject=inject,
    )
)
