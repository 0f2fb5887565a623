-- name: push_deliveries
-- section: §3-C 감지 (message_delivery), push 실패 (FCM/APNs 토큰, 쿼터)
-- Delivery rows of the messages sent in the window, by channel, status and error (push failures
-- by their FCM/APNs error apart from inbox). Messages by sent_at (messages_sent_idx from
-- recommended_indexes.sql), then their rows through message_delivery_uniq.
-- param: since timestamptz start of the window (inclusive, UTC)
-- param: until timestamptz end of the window (exclusive, UTC)
SELECT d.channel, d.status, coalesce(left(d.error, 120), '-') AS error,
       count(*)::bigint AS deliveries, count(DISTINCT d.recipient_id)::bigint AS recipients,
       max(d.attempt_count)::int AS max_attempts,
       min(d.updated_at) AS first_at, max(d.updated_at) AS last_at
FROM public.messages m
JOIN public.message_delivery d ON d.message_id = m.id
WHERE m.sent_at >= :since AND m.sent_at < :until
GROUP BY 1, 2, 3
ORDER BY 1, deliveries DESC
