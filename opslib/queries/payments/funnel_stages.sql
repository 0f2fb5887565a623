-- name: funnel_stages
-- section: §3-A 트리아지 1 (Checkout → Confirm → Webhook → 원장 반영), §3-A 종료 조건
-- The purchases created in the window (the checkout cohort), per provider and bucket, and how
-- far each got. Stage semantics:
--   checkout = the dt_purchases row exists;
--   confirm  = the PG decided: approved (a pg_transactions approval, paid_at = the PG's
--              approvedAt/paidAt, provider_status PAID/DONE as last fetched from the PG, or a
--              webhook delivery in which the PG says paid) or declined (status failed with a PG
--              failure_code, or without one when the PG status is FAILED/ABORTED: PortOne's
--              pgCode is optional). Not declines: a failed row with neither (abandoned or
--              expired checkout), a user cancel (failure_code like PAY_PROCESS_CANCELED) and
--              status cancelled (the app cancelled it);
--   webhook  = our handler processed the payment and the DB purchase is paid (status paid,
--              partially_refunded, refunded or chargeback);
--   ledger   = a purchase_credit exists (reference dt_purchase/id, or dt_purchases.wallet_tx_id).
-- Stuck counts are as of the until bound and ignore anything younger than the grace period:
-- checkout→confirm (still open, no PG decision: abandonment, informational), confirm→webhook
-- (PG approved, DB still pending/virtual_account_issued, or failed/cancelled by us with no cancel
-- at the PG: the customer was charged and got nothing), webhook→ledger (paid, no credit).
-- COST: dt_purchases has no index on created_at (only (user_id, created_at), the partial open
-- index and paid_at), and failed/cancelled rows carry no indexed timestamp, so the cohort is
-- one sequential scan of dt_purchases; everything after it is index probes per cohort row
-- (pg_transactions_order_idx, pwl_order_idx, wallet_transactions_ref_idx / pkey).
-- param: since timestamptz start of the window (inclusive, UTC); also the bucket origin
-- param: until timestamptz end of the window (exclusive, UTC); "now" for stuck ages
-- param: bucket interval bucket width (the whole window for the funnel, 5 minutes for exit)
-- param: grace interval how long a purchase may sit between two stages before it counts as stuck
WITH cohort AS (
  SELECT p.id, p.provider, p.order_id, p.status, p.created_at, p.paid_at, p.failure_code,
         p.provider_status, p.wallet_tx_id
  FROM public.dt_purchases p
  WHERE p.created_at >= :since
    AND p.created_at < :until
),
facts AS (
  SELECT c.provider,
         date_bin(:bucket, c.created_at, :since) AS bucket_start,
         c.created_at,
         c.status,
         c.paid_at,
         c.failure_code,
         (c.paid_at IS NOT NULL OR pg.approved_at IS NOT NULL OR wh.claimed_at IS NOT NULL
          OR upper(coalesce(c.provider_status, '')) IN ('PAID', 'DONE')) AS approved,
         least(c.paid_at, pg.approved_at, wh.claimed_at) AS approved_at,
         coalesce(pg.cancelled, false) AS pg_cancelled,
         c.provider_status,
         cr.credits
  FROM cohort c
  LEFT JOIN LATERAL (
    SELECT min(coalesce(t.transaction_at, t.fetched_at)) FILTER (
             WHERE t.tx_kind = 'approval'
               AND upper(coalesce(t.status, 'PAID')) NOT IN ('READY', 'PENDING', 'PAY_PENDING', 'IN_PROGRESS',
                     'VIRTUAL_ACCOUNT_ISSUED', 'WAITING_FOR_DEPOSIT', 'FAILED', 'ABORTED', 'EXPIRED')) AS approved_at,
           bool_or(t.tx_kind IN ('cancel', 'partial_cancel')) AS cancelled
    FROM public.pg_transactions t
    WHERE t.provider = c.provider
      AND t.order_id = c.order_id
  ) pg ON true
  LEFT JOIN LATERAL (
    SELECT min(w.received_at) AS claimed_at
    FROM public.payment_webhook_logs w
    WHERE w.provider = c.provider
      AND w.order_id = c.order_id
      AND (w.event_type = 'Transaction.Paid' OR upper(w.provider_status) IN ('PAID', 'DONE'))
  ) wh ON true
  LEFT JOIN LATERAL (
    SELECT count(*)::bigint AS credits
    FROM public.wallet_transactions t
    WHERE t.tx_type = 'purchase_credit'
      AND ((t.reference_type = 'dt_purchase' AND t.reference_id = c.id) OR t.tx_id = c.wallet_tx_id)
  ) cr ON true
),
staged AS (
  SELECT f.*,
         (NOT f.approved AND f.status = 'failed'
          AND ((f.failure_code IS NOT NULL AND f.failure_code NOT ILIKE '%cancel%')
               OR (f.failure_code IS NULL AND upper(coalesce(f.provider_status, '')) IN ('FAILED', 'ABORTED')))
         ) AS failed,
         f.status IN ('paid', 'partially_refunded', 'refunded', 'chargeback') AS db_paid,
         f.credits > 0 AS credited
  FROM facts f
),
stuck AS (
  SELECT s.*,
         (NOT s.approved AND NOT s.failed AND s.status IN ('pending', 'virtual_account_issued')
          AND s.created_at < :until - :grace) AS stuck_checkout,
         (s.approved
          AND (s.status IN ('pending', 'virtual_account_issued')
               OR (s.status IN ('failed', 'cancelled') AND NOT s.pg_cancelled))
          AND coalesce(s.approved_at, s.created_at) < :until - :grace) AS stuck_confirm,
         (s.status IN ('paid', 'partially_refunded') AND NOT s.credited
          AND s.paid_at < :until - :grace) AS stuck_webhook
  FROM staged s
)
SELECT provider,
       bucket_start,
       count(*)::bigint AS checkout,
       count(*) FILTER (WHERE approved)::bigint AS approved,
       count(*) FILTER (WHERE failed)::bigint AS failed,
       count(*) FILTER (WHERE db_paid)::bigint AS db_paid,
       count(*) FILTER (WHERE credited)::bigint AS credited,
       count(*) FILTER (WHERE stuck_checkout)::bigint AS stuck_checkout,
       count(*) FILTER (WHERE stuck_confirm)::bigint AS stuck_confirm,
       count(*) FILTER (WHERE stuck_webhook)::bigint AS stuck_webhook,
       max(extract(epoch FROM :until - created_at)) FILTER (WHERE stuck_checkout)::float8
         AS oldest_stuck_checkout_s,
       max(extract(epoch FROM :until - coalesce(approved_at, created_at))) FILTER (WHERE stuck_confirm)::float8
         AS oldest_stuck_confirm_s,
       max(extract(epoch FROM :until - paid_at)) FILTER (WHERE stuck_webhook)::float8
         AS oldest_stuck_webhook_s
FROM stuck
GROUP BY provider, bucket_start
ORDER BY provider, bucket_start
