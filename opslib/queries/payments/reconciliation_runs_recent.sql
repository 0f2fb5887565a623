-- name: reconciliation_runs_recent
-- section: §3-A 감지 (payment-reconcile 결과에서 mismatch/failed 증가)
-- payment-reconcile runs that started in the range (the page asks for the last 3 days), newest
-- first. `provider IN (...)` mirrors the CHECK so reconciliation_runs_started_idx is a range scan.
-- param: since timestamptz start of the range (inclusive, UTC)
-- param: until timestamptz end of the range (exclusive, UTC)
SELECT r.id AS run_id,
       r.provider,
       r.period_start,
       r.period_end,
       r.trigger,
       r.status,
       r.pg_count,
       r.pg_amount_krw,
       r.purchase_count,
       r.purchase_amount_krw,
       r.ledger_dt,
       r.mismatch_count,
       r.error,
       r.started_at,
       r.finished_at
FROM public.reconciliation_runs r
WHERE r.provider IN ('portone', 'tosspayments')
  AND r.started_at >= :since
  AND r.started_at < :until
ORDER BY r.started_at DESC
