-- name: webhook_delivery
-- section: §3-A 트리아지 3 / 최소 완화 (시크릿 헤더 검증)
-- One stored webhook delivery by id (primary key): the headers and payload needed to rebuild
-- the signed body and check its Standard Webhooks signature offline.
-- param: delivery_id bigint payment_webhook_logs.id
SELECT w.id AS delivery_id, w.provider, w.webhook_id, w.event_type, w.signature_valid, w.signature_error,
       w.http_status, w.processing_status, w.headers, w.payload, w.received_at
FROM public.payment_webhook_logs w
WHERE w.id = :delivery_id
