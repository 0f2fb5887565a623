-- name: dt_purchases
-- section: §6 Quick 7 T2 (스크린샷 + dt_purchases 쿼리)
-- Purchases created since the deploy (the page's window), by provider and status: the query T2's screenshot is paired with.
-- param: since timestamptz  window start (the deploy time when given), inclusive, UTC
-- param: until timestamptz  window end (the smoke run), exclusive, UTC
SELECT p.provider,
       p.status,
       count(*)::bigint AS purchases,
       sum(p.amount_krw)::bigint AS amount_krw,
       min(p.created_at) AS first_created,
       max(p.created_at) AS last_created,
       max(p.paid_at) AS last_paid
FROM public.dt_purchases p
WHERE p.created_at >= :since AND p.created_at < :until
GROUP BY p.provider, p.status
ORDER BY p.provider, p.status
