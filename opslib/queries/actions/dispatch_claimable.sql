-- name: dispatch_claimable
-- section: §3-C 복구 (scheduled-dispatcher 수동 트리거: dry-run)
-- The messages one scheduled-dispatcher run would claim now: what claim_due_messages(:batch)
-- selects (pending, due by now, oldest first), and nothing while the kill switch is off. Read
-- only; partial index messages_due_idx.
-- param: batch int the run's batch size (pg_cron sends {"batch": 200})
SELECT m.id AS message_id, m.audience, m.price_dt, coalesce(m.scheduled_at, m.created_at) AS due_at,
       m.dispatch_attempts
FROM public.messages m
WHERE m.scheduled_status = 'pending'
  AND coalesce(m.scheduled_at, m.created_at) <= now()
  AND public.is_feature_enabled('messages.scheduled_dispatch')
ORDER BY coalesce(m.scheduled_at, m.created_at), m.id
LIMIT :batch
