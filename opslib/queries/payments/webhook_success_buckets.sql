-- name: webhook_success_buckets
-- section: §3-A 감지 / 트리아지 3 / 종료 조건, §4-E 결제 (webhook 성공률)
-- Webhook deliveries per provider and 5-minute bucket (buckets aligned on the since bound):
-- deliveries, successes (we answered 2xx and the handler ended processed, duplicate or ignored),
-- signed deliveries (signature_valid IS NOT NULL) and signature failures with the first failure time,
-- and handler errors: we answered 5xx or not at all (http_status NULL: crash or timeout).
-- A delivery still being handled (processing_status 'received', no answer yet, received in the last
-- minute before the until bound) is in flight, not failed, and is left out.
-- The repeated `provider IN (...)` mirrors the column's CHECK so that pwl_provider_received_idx
-- (provider, received_at) is a range scan even without skip scan (PostgreSQL 15-17).
-- param: since timestamptz start of the window (inclusive, UTC); also the bucket origin
-- param: until timestamptz end of the window (exclusive, UTC)
-- param: bucket interval bucket width (5 minutes on the page)
SELECT w.provider,
       date_bin(:bucket, w.received_at, :since) AS bucket_start,
       count(*)::bigint AS deliveries,
       count(*) FILTER (
         WHERE w.http_status BETWEEN 200 AND 299
           AND w.processing_status IN ('processed', 'duplicate', 'ignored'))::bigint AS successes,
       count(*) FILTER (WHERE w.signature_valid IS NOT NULL)::bigint AS signed,
       count(*) FILTER (WHERE w.signature_valid = false)::bigint AS signature_failures,
       min(w.received_at) FILTER (WHERE w.signature_valid = false) AS first_signature_failure_at,
       count(*) FILTER (WHERE w.http_status >= 500 OR w.http_status IS NULL)::bigint AS handler_errors
FROM public.payment_webhook_logs w
WHERE w.provider IN ('portone', 'tosspayments')
  AND w.received_at >= :since
  AND w.received_at < :until
  AND NOT (w.processing_status = 'received' AND w.http_status IS NULL
           AND w.received_at >= :until - interval '1 minute')
GROUP BY w.provider, bucket_start
ORDER BY w.provider, bucket_start
