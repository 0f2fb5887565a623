-- name: reconciled_through
-- section: §3-F 트리아지 (payment-reconcile: last business date reconciled)
-- Per provider, the latest period a reconciliation run completed (matched or mismatched): its
-- KST business date is what the nightly job has reconciled through.
SELECT p.provider,
       (SELECT max(r.period_start)
        FROM public.reconciliation_runs r
        WHERE r.provider = p.provider AND r.status IN ('matched', 'mismatched')) AS last_period_start,
       (SELECT max(r.period_end)
        FROM public.reconciliation_runs r
        WHERE r.provider = p.provider AND r.status IN ('matched', 'mismatched')) AS last_period_end
FROM (VALUES ('portone'), ('tosspayments')) p(provider)
