-- name: duplicate_webhook_processing
-- section: §3-A 트리아지 2 (멱등성: 같은 webhook_id 중복 처리)
-- Webhook ids (PortOne `webhook-id`, stable across retries) that our handler processed more
-- than once (processing_status 'processed' on several deliveries), attributed to the window of
-- their latest processed delivery. Candidates come from the window (pwl_provider_received_idx),
-- their whole history from pwl_webhook_id_idx. Toss payment webhooks carry no id (NULL) and
-- cannot be checked here; a double processing there shows up as a double credit.
-- param: since timestamptz start of the window (inclusive, UTC)
-- param: until timestamptz end of the window (exclusive, UTC)
WITH recent AS (
  SELECT DISTINCT w.provider, w.webhook_id
  FROM public.payment_webhook_logs w
  WHERE w.provider IN ('portone', 'tosspayments')
    AND w.received_at >= :since
    AND w.received_at < :until
    AND w.webhook_id IS NOT NULL
    AND w.processing_status = 'processed'
)
SELECT r.provider,
       r.webhook_id,
       count(*)::bigint AS processed,
       min(w.received_at) AS first_at,
       max(w.received_at) AS last_at,
       array_agg(w.id ORDER BY w.received_at) AS delivery_ids,
       array_agg(DISTINCT w.order_id) FILTER (WHERE w.order_id IS NOT NULL) AS order_ids,
       array_agg(DISTINCT w.event_type) FILTER (WHERE w.event_type IS NOT NULL) AS event_types
FROM recent r
JOIN public.payment_webhook_logs w
  ON w.provider = r.provider
 AND w.webhook_id = r.webhook_id
 AND w.processing_status = 'processed'
GROUP BY r.provider, r.webhook_id
HAVING count(*) > 1
   AND max(w.received_at) >= :since
   AND max(w.received_at) < :until
ORDER BY last_at
