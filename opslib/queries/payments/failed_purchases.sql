-- name: failed_purchases
-- section: §3-A 사후 분석 (PG 승인 실패 영향)
-- Purchases created in the window that the PG declined: status failed with a PG failure_code
-- (Toss failure.code / PortOne failure.pgCode), or without one when the PG status is FAILED /
-- ABORTED (pgCode is optional), one row each, for the failure-code table and the impact count.
-- A user cancel (failure_code like PAY_PROCESS_CANCELED) is not a decline, nor is a purchase the
-- PG approved (we failed it afterwards: that is a stuck payment, pg_paid_db_pending).
-- COST: one sequential scan of dt_purchases (no created_at index; failed rows carry no indexed
-- timestamp).
-- param: since timestamptz start of the window (inclusive, UTC)
-- param: until timestamptz end of the window (exclusive, UTC)
SELECT p.provider,
       p.order_id,
       p.id AS purchase_id,
       p.user_id,
       p.status AS db_status,
       p.amount_krw,
       coalesce(p.failure_code, upper(p.provider_status)) AS failure_code,
       p.created_at
FROM public.dt_purchases p
WHERE p.created_at >= :since
  AND p.created_at < :until
  AND p.status = 'failed'
  AND ((p.failure_code IS NOT NULL AND p.failure_code NOT ILIKE '%cancel%')
       OR (p.failure_code IS NULL AND upper(coalesce(p.provider_status, '')) IN ('FAILED', 'ABORTED')))
  AND p.paid_at IS NULL
  AND upper(coalesce(p.provider_status, '')) NOT IN ('PAID', 'DONE')
  AND NOT EXISTS (
    SELECT 1 FROM public.pg_transactions t
    WHERE t.provider = p.provider AND t.order_id = p.order_id AND t.tx_kind = 'approval'
      AND upper(coalesce(t.status, 'PAID')) NOT IN ('READY', 'PENDING', 'PAY_PENDING', 'IN_PROGRESS',
            'VIRTUAL_ACCOUNT_ISSUED', 'WAITING_FOR_DEPOSIT', 'FAILED', 'ABORTED', 'EXPIRED'))
ORDER BY p.created_at
