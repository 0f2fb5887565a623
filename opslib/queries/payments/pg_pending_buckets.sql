-- name: pg_pending_buckets
-- section: §3-A 종료 조건 (webhook 실패율 정상: PG 승인 후 DB 미반영 없음)
-- For the end of every bucket in the range: per provider, orders the PG had approved more than
-- the grace period before that instant whose purchase was not yet paid in dt_purchases then
-- (still pending now, paid only after the bucket end, or no purchase row at all). A webhook that
-- never arrives leaves no failed delivery to count: this is how the exit condition sees it.
-- Approvals in the range come from pg_transactions_at_idx; older ones from approved_since on
-- count only for orders still pending or paid during the range, so a backlog that began before
-- the range still shows; each order is looked up once by (provider, order_id) (the contract's
-- unique index). A purchase that left pending for another state (failed, cancelled) is a reconciliation
-- mismatch, not a webhook backlog, from the moment it changed, unless the PG kept the money (no
-- cancel at the PG): then it is as stuck as a pending one.
-- A PG row without transaction_at (the contract allows it) is placed at its fetched_at: an
-- approval imported without a time is still an approval. The IS NULL branch is an index
-- search of pg_transactions_at_idx too, so the window stays index-bound.
-- param: since timestamptz start of the range (inclusive, UTC); first bucket start
-- param: until timestamptz end of the range (exclusive, UTC); the last bucket ends here
-- param: bucket interval bucket width (5 minutes)
-- param: grace interval an approval younger than this is in flight, not stuck
-- param: approved_since timestamptz oldest PG approval considered (e.g. a day before since)
WITH buckets AS (
  SELECT b AS bucket_start, least(b + :bucket, :until) AS bucket_end
  FROM generate_series(:since, :until - interval '1 microsecond', :bucket) AS b
),
approvals AS (
  SELECT t.provider, t.order_id, min(coalesce(t.transaction_at, t.fetched_at)) AS approved_at
  FROM public.pg_transactions t
  WHERE t.provider IN ('portone', 'tosspayments')
    AND ((t.transaction_at >= :since AND t.transaction_at < :until)
         OR (t.transaction_at IS NULL AND t.fetched_at >= :since AND t.fetched_at < :until))
    AND t.tx_kind = 'approval'
    AND t.order_id IS NOT NULL
    AND upper(coalesce(t.status, 'PAID')) NOT IN ('READY', 'PENDING', 'PAY_PENDING', 'IN_PROGRESS',
          'VIRTUAL_ACCOUNT_ISSUED', 'WAITING_FOR_DEPOSIT', 'FAILED', 'ABORTED', 'EXPIRED')
  GROUP BY t.provider, t.order_id
  UNION ALL
  -- Approved before the range and still unresolved at one of its bucket ends: either still
  -- pending now (dt_purchases_open_idx) or paid only during the range (dt_purchases_paid_at_idx).
  -- Only these few orders are looked up, not a whole day of approvals (10x the cost).
  SELECT p.provider, p.order_id, e.approved_at
  FROM public.dt_purchases p
  CROSS JOIN LATERAL (
    SELECT min(coalesce(t.transaction_at, t.fetched_at)) AS approved_at
    FROM public.pg_transactions t
    WHERE t.provider = p.provider AND t.order_id = p.order_id AND t.tx_kind = 'approval'
      AND upper(coalesce(t.status, 'PAID')) NOT IN ('READY', 'PENDING', 'PAY_PENDING', 'IN_PROGRESS',
            'VIRTUAL_ACCOUNT_ISSUED', 'WAITING_FOR_DEPOSIT', 'FAILED', 'ABORTED', 'EXPIRED')
  ) e
  WHERE ((p.status IN ('pending', 'virtual_account_issued')
          AND p.created_at >= :approved_since - interval '1 hour' AND p.created_at < :since)
         OR (p.paid_at >= :since AND p.paid_at < :until))
    AND e.approved_at >= :approved_since
    AND e.approved_at < :since
),
late AS (
  SELECT a.provider, a.approved_at, p.resolved_at
  FROM approvals a
  LEFT JOIN LATERAL (
    SELECT CASE WHEN q.status IN ('pending', 'virtual_account_issued') THEN NULL
                -- failed/cancelled by us while the PG kept the money: never resolved
                WHEN q.status IN ('failed', 'cancelled')
                     AND NOT EXISTS (SELECT 1 FROM public.pg_transactions c
                                     WHERE c.provider = q.provider AND c.order_id = q.order_id
                                       AND c.tx_kind IN ('cancel', 'partial_cancel')) THEN NULL
                ELSE coalesce(q.paid_at, q.cancelled_at, q.updated_at) END AS resolved_at
    FROM public.dt_purchases q
    WHERE q.provider = a.provider AND q.order_id = a.order_id
    LIMIT 1  -- unique anyway; keeps the planner on the index instead of hashing the table
  ) p ON true
  -- resolved within the grace period: never stale at any bucket end
  WHERE p.resolved_at IS NULL OR p.resolved_at > a.approved_at + :grace
)
SELECT b.bucket_start,
       b.bucket_end,
       l.provider,
       count(*)::bigint AS stale_pending
FROM buckets b
JOIN late l
  ON l.approved_at < b.bucket_end - :grace
 AND (l.resolved_at IS NULL OR l.resolved_at > b.bucket_end)
GROUP BY b.bucket_start, b.bucket_end, l.provider
ORDER BY b.bucket_start, l.provider
