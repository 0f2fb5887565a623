-- name: stuck_release
-- section: §3-C 복구 (processing에 멈춘 메시지를 pending으로)
-- Put stuck messages back to 'pending' and clear their lock, so the next dispatcher run claims
-- them again (claim_due_messages() counts the attempt). Only locks older than :lock_age_minutes:
-- a younger lock may belong to a run still fanning out.
-- param: lock_age_minutes int a lock older than this is stuck
UPDATE public.messages m
   SET scheduled_status = 'pending', locked_by = NULL, locked_at = NULL
 WHERE m.scheduled_status = 'processing'
   AND (m.locked_at IS NULL OR m.locked_at < now() - make_interval(mins => :lock_age_minutes))
RETURNING m.id AS message_id, m.dispatch_attempts, m.last_dispatch_error
