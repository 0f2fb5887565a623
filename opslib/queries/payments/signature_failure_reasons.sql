-- name: signature_failure_reasons
-- section: §3-A 감지 / 트리아지 3 (서명 불일치)
-- Webhook signature failures in the window by provider and reason (PortOne SDK
-- WebhookVerificationFailureReason, Toss DEPOSIT_SECRET_MISMATCH), with first and last failure.
-- Reads the partial index pwl_sig_fail_idx (received_at) WHERE signature_valid = false.
-- param: since timestamptz start of the window (inclusive, UTC)
-- param: until timestamptz end of the window (exclusive, UTC)
SELECT w.provider,
       coalesce(w.signature_error, 'OTHER') AS reason,
       count(*)::bigint AS failures,
       count(DISTINCT w.webhook_id)::bigint AS webhook_ids,
       min(w.received_at) AS first_at,
       max(w.received_at) AS last_at
FROM public.payment_webhook_logs w
WHERE w.signature_valid = false
  AND w.received_at >= :since
  AND w.received_at < :until
GROUP BY w.provider, reason
ORDER BY failures DESC, w.provider, reason
