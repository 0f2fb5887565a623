-- name: ledger_credit_lag
-- section: §3-A 트리아지 1 (Ledger 단계) / 종료 조건 (ledger 반영 지연 없음)
-- Purchases paid in the window (paid_at, dt_purchases_paid_at_idx) per provider and bucket: how
-- many were credited, how many are still uncredited after the grace period, and the credit lag
-- (purchase_credit created_at − paid_at) p50/p95/max in seconds. A purchase not credited yet
-- counts with its lag so far (until − paid_at), a lower bound, so a stalled ledger raises the
-- percentiles instead of vanishing from them. Refunded/charged-back purchases without a credit
-- are left out (nothing to credit any more).
-- param: since timestamptz start of the window (inclusive, UTC); also the bucket origin
-- param: until timestamptz end of the window (exclusive, UTC); "now" for open lags
-- param: bucket interval bucket width (the whole window, or 5 minutes for the exit condition)
-- param: grace interval a paid purchase younger than this is in flight, not uncredited
WITH paid AS (
  SELECT p.id, p.provider, p.status, p.paid_at, p.wallet_tx_id
  FROM public.dt_purchases p
  WHERE p.paid_at >= :since
    AND p.paid_at < :until
    AND p.status IN ('paid', 'partially_refunded', 'refunded', 'chargeback')
),
lagged AS (
  SELECT p.provider,
         date_bin(:bucket, p.paid_at, :since) AS bucket_start,
         p.paid_at,
         cr.credited_at,
         greatest(extract(epoch FROM coalesce(cr.credited_at, :until) - p.paid_at), 0)::float8 AS lag_s
  FROM paid p
  LEFT JOIN LATERAL (
    SELECT min(t.created_at) AS credited_at
    FROM public.wallet_transactions t
    WHERE t.tx_type = 'purchase_credit'
      AND ((t.reference_type = 'dt_purchase' AND t.reference_id = p.id) OR t.tx_id = p.wallet_tx_id)
  ) cr ON true
  WHERE cr.credited_at IS NOT NULL OR p.status IN ('paid', 'partially_refunded')
)
SELECT provider,
       bucket_start,
       count(*)::bigint AS paid,
       count(credited_at)::bigint AS credited,
       count(*) FILTER (WHERE credited_at IS NULL AND paid_at < :until - :grace)::bigint AS uncredited,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY lag_s) AS lag_p50_s,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY lag_s) AS lag_p95_s,
       max(lag_s) AS lag_max_s
FROM lagged
GROUP BY provider, bucket_start
ORDER BY provider, bucket_start
