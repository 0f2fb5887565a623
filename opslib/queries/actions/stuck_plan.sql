-- name: stuck_plan
-- section: §3-C 복구 (processing에 멈춘 메시지를 pending으로)
-- Messages in 'processing' whose lock is older than :lock_age_minutes (or missing): what the
-- release would put back to 'pending'. Read only; partial index messages_processing_idx.
-- param: lock_age_minutes int a lock older than this is stuck
SELECT m.id AS message_id, m.locked_by, m.locked_at, m.dispatch_attempts, m.last_dispatch_error
FROM public.messages m
WHERE m.scheduled_status = 'processing'
  AND (m.locked_at IS NULL OR m.locked_at < now() - make_interval(mins => :lock_age_minutes))
ORDER BY m.locked_at NULLS FIRST, m.id
