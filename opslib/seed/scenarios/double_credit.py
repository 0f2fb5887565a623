"""double_credit: some purchases are credited twice.

Injected, in the 40 minutes before as_of: for 10 purchases paid in the window the webhook
handler posted a second purchase_credit under its own idempotency key
(`webhook:<webhook-id>:credit`, or `webhook:toss:<paymentKey>:credit` for Toss) instead of the
canonical `dt_purchase:<id>:credit`, so the idempotent credit_dt_purchase() did not catch it.
Both credits reference the purchase (reference dt_purchase/id); dt_purchases.wallet_tx_id keeps
the first. The ledger is balanced and the users' balances include the extra DT. A small burst
of normal purchases makes sure there are candidates at any hour.

Ground truth: payments.double_credit P0.
"""

from __future__ import annotations

import psycopg

from opslib.results import Severity
from opslib.seed.scenarios import drills
from opslib.seed.scenarios.base import Expected, Scenario, ScenarioContext, register

DOUBLED = 10
SECOND_AT = "s.credit_at + (2 + 38 * s_rnd(s.n, 312)) * interval '1 second'"
WEBHOOK_KEY = (
    "'webhook:' || CASE WHEN s.provider = 'portone' THEN 'whk_' || s_uuid7(s.pg_at, s.n, 131)"
    " ELSE 'toss:' || s.payment_key END || ':credit'"
)


def inject(conn: psycopg.Connection, ctx: ScenarioContext) -> None:
    extra = drills.burst(conn, ctx, max(20, ctx.burst_size // 3), tag="double")
    drills.write(conn, extra)
    conn.execute(  # type: ignore[arg-type]
        "CREATE UNLOGGED TABLE s_doubled AS SELECT s.* FROM ("
        f" SELECT * FROM s_purchases UNION ALL SELECT * FROM {extra}) s CROSS JOIN s_params p"
        f" WHERE s.status = 'paid' AND s.credit_at >= p.incident_start AND {SECOND_AT} <= p.as_of"
        f" ORDER BY s_rnd(s.n, 311) LIMIT {DOUBLED}"
    )
    drills.credit(
        conn, "s_doubled", "true", tx_id=f"s_uuid7({SECOND_AT}, s.n, 313)", at=SECOND_AT, key=WEBHOOK_KEY, link=False
    )


SCENARIO = register(
    Scenario(
        name="double_credit",
        title="이중 적립 (purchases credited twice)",
        description=__doc__ or "",
        expected=(Expected("payments.double_credit", Severity.P0),),
        stage=None,
        inject=inject,
    )
)
