-- name: stuck_processing
-- section: §3-C 트리아지 1 (scheduled-dispatcher: processing에 멈춘 메시지)
-- Messages a dispatcher run claimed ('processing', locked_at set by claim_due_messages) and never
-- finished, with the age of their lock at :until; stuck = locked before :cutoff (or never given a
-- lock time). A state: partial index messages_processing_idx holds only processing rows.
-- param: until timestamptz the moment the lock age is measured at (UTC)
-- param: cutoff timestamptz a lock older than this is stuck (until minus the lock age)
SELECT m.id AS message_id, m.sender_id, m.audience, m.price_dt,
       coalesce(m.scheduled_at, m.created_at) AS due_at,
       m.locked_by, m.locked_at,
       extract(epoch FROM :until - m.locked_at)::float8 AS lock_age_s,
       (m.locked_at IS NULL OR m.locked_at < :cutoff) AS stuck,
       m.dispatch_attempts, m.last_dispatch_error
FROM public.messages m
WHERE m.scheduled_status = 'processing'
ORDER BY m.locked_at NULLS FIRST, m.id
