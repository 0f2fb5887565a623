-- name: funnel_lags
-- section: §3-A 트리아지 1 (단계 사이 지연)
-- Lag between stages for the checkout cohort (purchases created in the window), per provider:
--   confirm = PG approval (earliest evidence, see funnel_stages) − created_at;
--   webhook = first processed 2xx delivery in which the PG says paid − PG approval;
--   ledger  = first purchase_credit created_at − paid_at (the payments.ledger_lag_p95 measure).
-- Only purchases that reached both ends count; negative lags (clock skew) are taken as 0.
-- p50/p95 are percentile_cont (linear interpolation, as pandas' default quantile), and a
-- histogram in fixed buckets: [0,5s) [5s,30s) [30s,1m) [1m,2m) [2m,5m) [5m,10m) [10m,30m) [30m,1h) [1h,∞).
-- COST: one sequential scan of dt_purchases (no created_at index, see funnel_stages) plus
-- index probes per cohort row.
-- param: since timestamptz start of the window (inclusive, UTC)
-- param: until timestamptz end of the window (exclusive, UTC)
WITH cohort AS (
  SELECT p.id, p.provider, p.order_id, p.created_at, p.paid_at, p.wallet_tx_id
  FROM public.dt_purchases p
  WHERE p.created_at >= :since
    AND p.created_at < :until
),
facts AS (
  SELECT c.provider,
         c.created_at,
         c.paid_at,
         least(c.paid_at, pg.approved_at, wh.claimed_at) AS approved_at,
         wh.processed_at AS webhook_at,
         cr.credited_at
  FROM cohort c
  LEFT JOIN LATERAL (
    SELECT min(t.transaction_at) AS approved_at
    FROM public.pg_transactions t
    WHERE t.provider = c.provider
      AND t.order_id = c.order_id
      AND t.tx_kind = 'approval'
      AND upper(coalesce(t.status, 'PAID')) NOT IN ('READY', 'PENDING', 'PAY_PENDING', 'IN_PROGRESS',
            'VIRTUAL_ACCOUNT_ISSUED', 'WAITING_FOR_DEPOSIT', 'FAILED', 'ABORTED', 'EXPIRED')
  ) pg ON true
  LEFT JOIN LATERAL (
    SELECT min(w.received_at) AS claimed_at,
           min(coalesce(w.processed_at, w.received_at)) FILTER (
             WHERE w.processing_status IN ('processed', 'duplicate')
               AND w.http_status BETWEEN 200 AND 299) AS processed_at
    FROM public.payment_webhook_logs w
    WHERE w.provider = c.provider
      AND w.order_id = c.order_id
      AND (w.event_type = 'Transaction.Paid' OR upper(w.provider_status) IN ('PAID', 'DONE'))
  ) wh ON true
  LEFT JOIN LATERAL (
    SELECT min(t.created_at) AS credited_at
    FROM public.wallet_transactions t
    WHERE t.tx_type = 'purchase_credit'
      AND ((t.reference_type = 'dt_purchase' AND t.reference_id = c.id) OR t.tx_id = c.wallet_tx_id)
  ) cr ON true
),
lags AS (
  SELECT f.provider, x.transition, x.stage_order, greatest(x.lag_s, 0)::float8 AS lag_s
  FROM facts f
  CROSS JOIN LATERAL (VALUES
    ('confirm', 2, extract(epoch FROM f.approved_at - f.created_at)),
    ('webhook', 3, extract(epoch FROM f.webhook_at - f.approved_at)),
    ('ledger', 4, extract(epoch FROM f.credited_at - f.paid_at))
  ) AS x(transition, stage_order, lag_s)
  WHERE x.lag_s IS NOT NULL
)
SELECT provider,
       transition,
       stage_order,
       count(*)::bigint AS n,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY lag_s) AS p50_s,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY lag_s) AS p95_s,
       max(lag_s) AS max_s,
       count(*) FILTER (WHERE lag_s < 5)::bigint AS lt_5s,
       count(*) FILTER (WHERE lag_s >= 5 AND lag_s < 30)::bigint AS lt_30s,
       count(*) FILTER (WHERE lag_s >= 30 AND lag_s < 60)::bigint AS lt_1m,
       count(*) FILTER (WHERE lag_s >= 60 AND lag_s < 120)::bigint AS lt_2m,
       count(*) FILTER (WHERE lag_s >= 120 AND lag_s < 300)::bigint AS lt_5m,
       count(*) FILTER (WHERE lag_s >= 300 AND lag_s < 600)::bigint AS lt_10m,
       count(*) FILTER (WHERE lag_s >= 600 AND lag_s < 1800)::bigint AS lt_30m,
       count(*) FILTER (WHERE lag_s >= 1800 AND lag_s < 3600)::bigint AS lt_1h,
       count(*) FILTER (WHERE lag_s >= 3600)::bigint AS ge_1h
FROM lags
GROUP BY provider, transition, stage_order
ORDER BY provider, stage_order
