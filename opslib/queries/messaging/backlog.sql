-- name: backlog
-- section: §3-C 감지 (예약 메시지 미발송), §4-E 메시지 백로그 (> 50 경고, > 200 P0)
-- Overdue messages at :until: pending and due (scheduled_at, or created_at for a send-now message
-- whose scheduled_at is NULL: claim_due_messages() claims on coalesce(scheduled_at, created_at)).
-- A state, not a window: read through the partial index messages_due_idx (pending rows only), so
-- the cost grows with the backlog, not the table. One row.
-- param: until timestamptz the moment the backlog is measured at (the window's end, UTC)
SELECT count(*)::bigint AS overdue,
       count(*) FILTER (WHERE m.scheduled_at IS NULL)::bigint AS overdue_send_now,
       count(*) FILTER (WHERE m.price_dt > 0)::bigint AS overdue_paid,
       count(*) FILTER (WHERE m.dispatch_attempts > 0)::bigint AS overdue_attempted,
       count(DISTINCT m.sender_id)::bigint AS senders,
       min(coalesce(m.scheduled_at, m.created_at)) AS oldest_due,
       extract(epoch FROM :until - min(coalesce(m.scheduled_at, m.created_at)))::float8 AS oldest_age_s
FROM public.messages m
WHERE m.scheduled_status = 'pending'
  AND (m.scheduled_at < :until OR (m.scheduled_at IS NULL AND m.created_at < :until))
