-- name: dt_purchases_recent
-- section: §6 Quick 7 T2 (스크린샷 + dt_purchases 쿼리)
-- The newest purchases of the window (ten at most): a tester's own test purchase shows here next to the T2 screenshot.
-- param: since timestamptz  window start (the deploy time when given), inclusive, UTC
-- param: until timestamptz  window end (the smoke run), exclusive, UTC
SELECT p.created_at,
       p.provider,
       p.status,
       p.order_id,
       p.amount_krw,
       p.dt_amount,
       p.paid_at,
       p.failure_code,
       (p.wallet_tx_id IS NOT NULL) AS credited,
       p.user_id
FROM public.dt_purchases p
WHERE p.created_at >= :since AND p.created_at < :until
ORDER BY p.created_at DESC
LIMIT 10
