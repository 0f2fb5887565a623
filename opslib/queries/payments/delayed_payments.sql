-- name: delayed_payments
-- section: §1 포스트모템 영향 (Impact) / §3-A Webhook 단계
-- Orders whose payment webhook failed first and got through only later (more than the grace
-- period after the first delivery), now paid in the DB: the customer was charged and waited
-- for the DT. A recovered webhook outage leaves no stuck order, yet these customers were
-- affected; the post-mortem's impact counts them. Deliveries received in the window
-- (pwl_provider_received_idx), each order looked up once by (provider, order_id).
-- param: since timestamptz start of the window (inclusive, UTC)
-- param: until timestamptz end of the window (exclusive, UTC)
-- param: grace interval a retry that got through within this is not a delay
WITH hooks AS (
  SELECT w.provider, w.order_id,
         min(w.received_at) AS first_delivery_at,
         min(w.received_at) FILTER (
           WHERE w.http_status BETWEEN 200 AND 299
             AND w.processing_status IN ('processed', 'duplicate', 'ignored')) AS first_success_at,
         count(*) FILTER (
           WHERE w.http_status IS NULL OR w.http_status NOT BETWEEN 200 AND 299
              OR w.processing_status = 'failed')::bigint AS failed_deliveries
  FROM public.payment_webhook_logs w
  WHERE w.provider IN ('portone', 'tosspayments')
    AND w.received_at >= :since
    AND w.received_at < :until
    AND w.order_id IS NOT NULL
  GROUP BY w.provider, w.order_id
)
SELECT p.provider,
       p.order_id,
       p.id AS purchase_id,
       p.user_id,
       p.status AS db_status,
       p.amount_krw,
       h.first_delivery_at,
       h.first_success_at,
       extract(epoch FROM h.first_success_at - h.first_delivery_at)::float8 AS delay_s,
       h.failed_deliveries
FROM hooks h
JOIN LATERAL (
  SELECT q.id, q.provider, q.order_id, q.user_id, q.status, q.amount_krw
  FROM public.dt_purchases q
  WHERE q.provider = h.provider AND q.order_id = h.order_id
  LIMIT 1  -- unique anyway; keeps the planner on the index
) p ON true
WHERE h.failed_deliveries > 0
  AND h.first_success_at > h.first_delivery_at + :grace
  AND p.status IN ('paid', 'partially_refunded', 'refunded', 'chargeback')
ORDER BY h.first_delivery_at, p.provider, p.order_id
