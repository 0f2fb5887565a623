"""refund_not_clawed_back: refunds completed at the PG without taking the DT back.

Injected, in the 40 minutes before as_of: 6 purchases (paid and credited early in the window)
are refunded a few minutes later through refund-process. The PG cancel succeeded: refunds
status 'succeeded' with the PG cancellation id, pg_transactions cancel rows, the PG's
Cancelled / CANCELED webhook processed, dt_purchases 'refunded'. But no refund_clawback
transaction was posted: refunds.wallet_tx_id is NULL and dt_clawback 0, so the users keep the
DT they were refunded for.

Ground truth: payments.refund_not_clawed_back P1 (6 refunds: above the warning, below the
critical threshold of 10).
"""

from __future__ import annotations

import psycopg

from opslib.results import Severity
from opslib.seed.scenarios import drills
from opslib.seed.scenarios.base import Expected, Scenario, ScenarioContext, register

REFUNDED = 6

REFUND_THEM = """
UPDATE {extra} s
SET status = 'refunded', refund_state = 'succeeded', refund_kind = 'refund', refund_id = s_uuid4(s.n, 53),
    refund_req_at = s.credit_at + (240 + 300 * s_rnd(s.n, 331)) * interval '1 second',
    refund_done_at = s.credit_at + (300 + 300 * s_rnd(s.n, 331)) * interval '1 second',
    refund_krw = s.price_krw, clawback_tx_id = NULL,
    cancellation_id = CASE WHEN s.provider = 'portone'
                           THEN s_uuid7(s.credit_at + interval '10 minutes', s.n, 57)::text
                           ELSE 'txrd_' || substr(md5(s.n::text || 'c'), 1, 22) END
WHERE s.n IN (
  SELECT x.n FROM {extra} x CROSS JOIN s_params p
  WHERE x.status = 'paid' AND x.credit_at + interval '11 minutes' <= p.as_of
  ORDER BY x.n LIMIT {count})
"""


def inject(conn: psycopg.Connection, ctx: ScenarioContext) -> None:
    extra = drills.burst(conn, ctx, max(20, ctx.burst_size // 3), tag="refund")
    conn.execute(REFUND_THEM.format(extra=extra, count=REFUNDED))  # type: ignore[arg-type]
    drills.write(conn, extra)
    # refund-process marked them done but never posted the clawback
    conn.execute(  # type: ignore[arg-type]
        f"UPDATE public.refunds SET dt_clawback = 0, wallet_tx_id = NULL"
        f" WHERE id IN (SELECT refund_id FROM {extra} WHERE refund_state = 'succeeded')"
    )


SCENARIO = register(
    Scenario(
        name="refund_not_clawed_back",
        title="환불 완료, DT 미회수 (refunds without clawback)",
        description=__doc__ or "",
        expected=(Expected("payments.refund_not_clawed_back", Severity.P1),),
        stage=None,
        inject=inject,
    )
)
