-- name: pg_paid_db_pending
-- section: §3-A 트리아지 1 (Webhook 단계: PG 승인 완료인데 DB 미반영)
-- Payments the PG approved in the window, older than the grace period, whose dt_purchases row is
-- still pending / virtual_account_issued, failed or cancelled by us without a cancel at the PG,
-- or missing; and, from open_since on, purchases still pending now whose approval came before
-- the window (a payment stuck earlier is still stuck now). Evidence of a PG approval, each read through an index on
-- its own time column:
--   pg_transactions  approval rows by transaction_at (pg_transactions_at_idx);
--   webhook          deliveries received since open_since in which the PG says paid
--                    (PortOne type Transaction.Paid, Toss/PortOne status DONE/PAID) whatever
--                    our handler answered (pwl_provider_received_idx): a rejected signature
--                    leaves the purchase pending although the PG approved it;
--   provider_status  open purchases (dt_purchases_open_idx, created up to a day before the
--                    window) whose own paid_at or last-fetched PG status says paid.
-- A PG row without transaction_at (the contract allows it) is placed at its fetched_at: an
-- approval imported without a time is still an approval. The IS NULL branch is an index
-- search of pg_transactions_at_idx too, so the window stays index-bound.
-- A missing dt_purchases row counts only on pg_transactions evidence (our own store's import):
-- a webhook for an order we never created may come from another environment.
-- param: since timestamptz start of the window (inclusive, UTC)
-- param: until timestamptz end of the window (exclusive, UTC); "now" for ages
-- param: grace interval approvals younger than this are in flight, not stuck
-- param: open_since timestamptz oldest approval considered (the page: a day before until)
WITH pg AS (
  SELECT t.provider, t.order_id, min(coalesce(t.transaction_at, t.fetched_at)) AS approved_at,
         max(t.amount)::bigint AS pg_amount_krw
  FROM public.pg_transactions t
  WHERE t.provider IN ('portone', 'tosspayments')
    AND ((t.transaction_at >= :since AND t.transaction_at < :until)
         OR (t.transaction_at IS NULL AND t.fetched_at >= :since AND t.fetched_at < :until))
    AND t.tx_kind = 'approval'
    AND t.order_id IS NOT NULL
    AND upper(coalesce(t.status, 'PAID')) NOT IN ('READY', 'PENDING', 'PAY_PENDING', 'IN_PROGRESS',
          'VIRTUAL_ACCOUNT_ISSUED', 'WAITING_FOR_DEPOSIT', 'FAILED', 'ABORTED', 'EXPIRED')
  GROUP BY t.provider, t.order_id
),
claims AS (
  SELECT w.provider, w.order_id, min(w.received_at) AS approved_at, count(*)::bigint AS deliveries,
         count(*) FILTER (WHERE w.signature_valid = false)::bigint AS rejected_signatures
  FROM public.payment_webhook_logs w
  WHERE w.provider IN ('portone', 'tosspayments')
    AND w.received_at >= :since
    AND w.received_at < :until
    AND w.order_id IS NOT NULL
    AND (w.event_type = 'Transaction.Paid' OR upper(w.provider_status) IN ('PAID', 'DONE'))
  GROUP BY w.provider, w.order_id
),
-- Before the window only what is still open now matters: purchases still pending (the partial
-- dt_purchases_open_idx, a few per hour) whose order the PG approved or a webhook reported paid,
-- each looked up by order. Reading a whole day of approvals instead cost 20x the window's query.
earlier AS (
  SELECT p.provider, p.order_id, e.pg_at, e.hook_at
  FROM public.dt_purchases p
  CROSS JOIN LATERAL (
    SELECT (SELECT min(coalesce(t.transaction_at, t.fetched_at))
              FROM public.pg_transactions t
             WHERE t.provider = p.provider AND t.order_id = p.order_id AND t.tx_kind = 'approval'
               AND upper(coalesce(t.status, 'PAID')) NOT IN ('READY', 'PENDING', 'PAY_PENDING', 'IN_PROGRESS',
                     'VIRTUAL_ACCOUNT_ISSUED', 'WAITING_FOR_DEPOSIT', 'FAILED', 'ABORTED', 'EXPIRED')) AS pg_at,
           (SELECT min(w.received_at)
              FROM public.payment_webhook_logs w
             WHERE w.provider = p.provider AND w.order_id = p.order_id
               AND (w.event_type = 'Transaction.Paid' OR upper(w.provider_status) IN ('PAID', 'DONE'))) AS hook_at
  ) e
  WHERE p.status IN ('pending', 'virtual_account_issued')
    AND p.created_at >= least(:open_since, :since) - interval '1 hour'
    AND p.created_at < :since
),
own_status AS (
  SELECT p.provider, p.order_id, coalesce(p.paid_at, p.updated_at) AS approved_at
  FROM public.dt_purchases p
  WHERE p.status IN ('pending', 'virtual_account_issued')
    AND p.created_at >= least(:open_since, :since) - interval '1 day'
    AND p.created_at < :until
    AND (p.paid_at IS NOT NULL OR upper(coalesce(p.provider_status, '')) IN ('PAID', 'DONE'))
),
-- Each source carries its own figures, so one GROUP BY per order gathers them: joining the
-- CTEs back by order id made the planner (which cannot estimate CTE aggregates) pick a nested
-- loop over them, quadratic in the window's orders.
evidence AS (
  SELECT provider, order_id, approved_at, 'pg_transactions' AS source, pg_amount_krw,
         0::bigint AS deliveries, 0::bigint AS rejected_signatures
  FROM pg
  UNION ALL
  SELECT provider, order_id, approved_at, 'webhook', NULL::bigint, deliveries, rejected_signatures FROM claims
  UNION ALL
  SELECT provider, order_id, approved_at, 'provider_status', NULL::bigint, 0::bigint, 0::bigint FROM own_status
  UNION ALL
  SELECT provider, order_id, pg_at, 'pg_transactions', NULL::bigint, 0::bigint, 0::bigint
  FROM earlier WHERE pg_at IS NOT NULL AND pg_at < :since
  UNION ALL
  SELECT provider, order_id, hook_at, 'webhook', NULL::bigint, 0::bigint, 0::bigint
  FROM earlier WHERE hook_at IS NOT NULL AND hook_at < :since
),
per_order AS (
  SELECT provider, order_id, min(approved_at) AS approved_at,
         array_agg(DISTINCT source ORDER BY source) AS sources,
         max(pg_amount_krw) AS pg_amount_krw,
         sum(deliveries)::bigint AS deliveries,
         sum(rejected_signatures)::bigint AS rejected_signatures
  FROM evidence
  GROUP BY provider, order_id
)
SELECT o.provider,
       o.order_id,
       p.id AS purchase_id,
       p.user_id,
       coalesce(p.status, 'missing') AS db_status,
       p.provider_status,
       coalesce(o.pg_amount_krw, p.amount_krw) AS amount_krw,
       p.dt_amount + p.bonus_dt AS expected_dt,
       o.approved_at,
       extract(epoch FROM :until - o.approved_at)::float8 AS age_s,
       o.sources,
       o.deliveries AS webhook_deliveries,
       o.rejected_signatures
FROM per_order o
LEFT JOIN public.dt_purchases p ON p.provider = o.provider AND p.order_id = o.order_id
WHERE o.approved_at >= least(:open_since, :since)
  AND o.approved_at < :until - :grace
  AND ((p.id IS NULL AND 'pg_transactions' = ANY (o.sources))
       OR p.status IN ('pending', 'virtual_account_issued')
       -- we failed or cancelled it ourselves (e.g. a confirm timeout) and the PG never cancelled:
       -- the customer was charged and has no DT
       OR (p.status IN ('failed', 'cancelled')
           AND NOT EXISTS (SELECT 1 FROM public.pg_transactions c
                           WHERE c.provider = o.provider AND c.order_id = o.order_id
                             AND c.tx_kind IN ('cancel', 'partial_cancel'))))
ORDER BY o.approved_at, o.provider, o.order_id
