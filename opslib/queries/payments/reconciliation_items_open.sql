-- name: reconciliation_items_open
-- section: §3-A 감지 / 복구 (미해결 대사 항목)
-- Reconciliation items not resolved yet (resolved_at IS NULL, the partial index
-- reconciliation_items_open_idx), by provider and mismatch type, with the oldest one.
-- The set is a state, not a window: items created before the until bound and still open now.
-- param: until timestamptz count items created before this instant (UTC)
SELECT i.provider,
       i.mismatch_type,
       count(*)::bigint AS open_items,
       min(i.created_at) AS oldest_at,
       sum(i.pg_amount_krw)::bigint AS pg_amount_krw,
       sum(i.db_amount_krw)::bigint AS db_amount_krw
FROM public.reconciliation_items i
WHERE i.resolved_at IS NULL
  AND i.created_at < :until
GROUP BY i.provider, i.mismatch_type
ORDER BY open_items DESC, i.provider, i.mismatch_type
