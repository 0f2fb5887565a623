-- name: ledger_backlog_buckets
-- section: §3-A 종료 조건 (ledger 반영 지연 없음)
-- For the end of every bucket in the range: per provider, paid purchases that were already
-- older than the grace period at that instant and had no purchase_credit yet (a credit created
-- later than the bucket end still counts as missing then). Purchases paid from paid_since on are
-- considered (dt_purchases_paid_at_idx), so a backlog that began before the range still shows.
-- param: since timestamptz start of the range (inclusive, UTC); first bucket start
-- param: until timestamptz end of the range (exclusive, UTC); the last bucket ends here
-- param: bucket interval bucket width (5 minutes)
-- param: grace interval a paid purchase younger than this is in flight, not uncredited
-- param: paid_since timestamptz oldest paid_at considered (e.g. a day before since)
WITH buckets AS (
  SELECT b AS bucket_start, least(b + :bucket, :until) AS bucket_end
  FROM generate_series(:since, :until - interval '1 microsecond', :bucket) AS b
),
paid AS (
  SELECT p.id, p.provider, p.paid_at, cr.credited_at
  FROM public.dt_purchases p
  LEFT JOIN LATERAL (
    SELECT min(t.created_at) AS credited_at
    FROM public.wallet_transactions t
    WHERE t.tx_type = 'purchase_credit'
      AND ((t.reference_type = 'dt_purchase' AND t.reference_id = p.id) OR t.tx_id = p.wallet_tx_id)
  ) cr ON true
  WHERE p.paid_at >= :paid_since
    AND p.paid_at < :until
    AND (p.status IN ('paid', 'partially_refunded') OR cr.credited_at IS NOT NULL)
    -- credited within the grace period: never stale at any bucket end (paid_at + grace <
    -- bucket_end < credited_at is impossible). Dropping them first keeps the bucket join to
    -- the purchases that were late, instead of buckets x every purchase.
    AND (cr.credited_at IS NULL OR cr.credited_at > p.paid_at + :grace)
)
SELECT b.bucket_start,
       b.bucket_end,
       p.provider,
       count(*)::bigint AS stale_uncredited
FROM buckets b
JOIN paid p
  ON p.paid_at < b.bucket_end - :grace
 AND (p.credited_at IS NULL OR p.credited_at > b.bucket_end)
GROUP BY b.bucket_start, b.bucket_end, p.provider
ORDER BY b.bucket_start, p.provider
