-- name: latest_signed_delivery
-- section: §3-A 트리아지 3 / 최소 완화 (시크릿 헤더 검증)
-- The most recent PortOne delivery whose signature check failed (pwl_sig_fail_idx), or, when
-- none failed, the most recent signed PortOne delivery (pwl_provider_received_idx).
SELECT *
FROM (
  (SELECT w.id AS delivery_id, w.provider, w.webhook_id, w.event_type, w.signature_valid, w.signature_error,
          w.http_status, w.processing_status, w.headers, w.payload, w.received_at, 1 AS preference
     FROM public.payment_webhook_logs w
    WHERE w.signature_valid = false
      AND w.provider = 'portone'
    ORDER BY w.received_at DESC
    LIMIT 1)
  UNION ALL
  (SELECT w.id, w.provider, w.webhook_id, w.event_type, w.signature_valid, w.signature_error,
          w.http_status, w.processing_status, w.headers, w.payload, w.received_at, 2
     FROM public.payment_webhook_logs w
    WHERE w.provider = 'portone'
      AND w.signature_valid IS NOT NULL
    ORDER BY w.received_at DESC
    LIMIT 1)
) AS d
ORDER BY preference
LIMIT 1
