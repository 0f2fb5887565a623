-- name: reconcile_runs
-- section: §3-F 트리아지 (payment-reconcile)
-- reconciliation_runs started in the span, newest first (small table; reconciliation_runs_started_idx).
-- param: since timestamptz start of the span (inclusive, UTC)
-- param: until timestamptz end of the span (exclusive, UTC)
SELECT r.id,
       r.provider,
       r.trigger,
       r.status,
       r.period_start,
       r.period_end,
       r.mismatch_count,
       left(r.error, 200) AS error,
       r.started_at,
       r.finished_at
FROM public.reconciliation_runs r
WHERE r.started_at >= :since
  AND r.started_at < :until
ORDER BY r.started_at DESC
