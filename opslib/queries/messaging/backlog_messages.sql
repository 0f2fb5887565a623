-- name: backlog_messages
-- section: §3-C 감지 / 트리아지 3 / 복구 (수동 트리거가 가져갈 메시지)
-- The oldest overdue pending messages at :until (at most :max_rows), in the order
-- claim_due_messages() would claim them. Partial index messages_due_idx.
-- param: until timestamptz the moment the backlog is measured at (UTC)
-- param: max_rows int how many to list
SELECT m.id AS message_id, m.sender_id, m.audience, m.price_dt,
       coalesce(m.scheduled_at, m.created_at) AS due_at,
       extract(epoch FROM :until - coalesce(m.scheduled_at, m.created_at))::float8 AS overdue_s,
       m.dispatch_attempts, m.last_dispatch_error, m.created_at
FROM public.messages m
WHERE m.scheduled_status = 'pending'
  AND (m.scheduled_at < :until OR (m.scheduled_at IS NULL AND m.created_at < :until))
ORDER BY coalesce(m.scheduled_at, m.created_at), m.id
LIMIT :max_rows
