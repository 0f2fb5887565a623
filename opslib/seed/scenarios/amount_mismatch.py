"""amount_mismatch: the PG charged a different amount than the purchase says.

Injected, in the 40 minutes before as_of: for 8 paid purchases of the window whose PG approval
was already imported, pg_transactions.amount (and its raw document) is ten times
dt_purchases.amount_krw, e.g. the PG charged 55,000 KRW for a purchase recorded as 5,500 KRW
(a price-table mix-up between checkout and confirm). The PG's own documents agree with the PG:
the Payment object last fetched (raw_last_payment) and the Toss webhook body carry the charged
amount. Everything else about these purchases is normal: paid, webhook processed, credited with
the package's DT. A burst of normal purchases
makes sure there are candidates at any hour.

Ground truth: payments.recon_amount_mismatch P0.
"""

from __future__ import annotations

import psycopg

from opslib.results import Severity
from opslib.seed.scenarios import drills
from opslib.seed.scenarios.base import Expected, Scenario, ScenarioContext, register

MISMATCHED = 8

WRONG_AMOUNTS = """
UPDATE public.pg_transactions t
SET amount = t.amount * 10, raw = jsonb_set(t.raw, '{{amount}}', to_jsonb(t.amount * 10))
FROM (
  SELECT s.provider, s.order_id
  FROM (SELECT * FROM s_purchases UNION ALL SELECT * FROM {extra}) s
  CROSS JOIN s_params p
  WHERE s.status = 'paid' AND s.pg_at >= p.incident_start
    AND EXISTS (SELECT 1 FROM public.pg_transactions x
                WHERE x.provider = s.provider AND x.order_id = s.order_id AND x.tx_kind = 'approval')
  ORDER BY s_rnd(s.n, 321)
  LIMIT {count}
) m
WHERE t.provider = m.provider AND t.order_id = m.order_id AND t.tx_kind = 'approval'
"""


# The PG's own documents about those payments say what it charged too: the Payment object the
# handler last fetched (dt_purchases.raw_last_payment) and the Toss webhook body (totalAmount;
# Toss does not sign it). PortOne's webhook body carries no amount, so its signature is untouched.
PG_DOCUMENTS = """
WITH charged AS (
  SELECT p.id, p.provider, g.amount
  FROM public.pg_transactions g
  JOIN public.dt_purchases p ON p.provider = g.provider AND p.order_id = g.order_id
  CROSS JOIN s_params x
  WHERE g.tx_kind = 'approval' AND g.amount <> p.amount_krw AND g.transaction_at >= x.incident_start
), fetched AS (
  UPDATE public.dt_purchases p
  SET raw_last_payment = CASE c.provider
        WHEN 'portone' THEN jsonb_set(jsonb_set(p.raw_last_payment, '{amount,total}', to_jsonb(c.amount)),
                                      '{amount,paid}', to_jsonb(c.amount))
        ELSE jsonb_set(jsonb_set(p.raw_last_payment, '{totalAmount}', to_jsonb(c.amount)),
                       '{balanceAmount}', to_jsonb(c.amount)) END
  FROM charged c
  WHERE p.id = c.id
)
UPDATE public.payment_webhook_logs w
SET payload = jsonb_set(w.payload, '{data,totalAmount}', to_jsonb(c.amount))
FROM charged c
WHERE w.purchase_id = c.id AND w.provider = 'tosspayments' AND w.payload ? 'data'
"""


def inject(conn: psycopg.Connection, ctx: ScenarioContext) -> None:
    extra = drills.burst(conn, ctx, max(30, ctx.burst_size // 2), tag="amount")
    drills.write(conn, extra)
    conn.execute(WRONG_AMOUNTS.format(extra=extra, count=MISMATCHED))  # type: ignore[arg-type]
    conn.execute(PG_DOCUMENTS)


SCENARIO = register(
    Scenario(
        name="amount_mismatch",
        title="PG 금액 불일치 (PG amount differs from the purchase)",
        description=__doc__ or "",
        expected=(Expected("payments.recon_amount_mismatch", Severity.P0),),
        stage=None,
        inject=inject,
    )
)
