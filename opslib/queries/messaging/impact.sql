-- name: impact
-- section: §3-C 영향 (포스트모템: 기다린 팬, 늦은 메시지, 최장 지연, 유료 메시지)
-- Messages late for the window: overdue and still unsent at :until (pending or processing), or
-- sent in the window more than :late_after after they were due; per message its audience size
-- (subscribers with an active/past_due subscription to the sender, or the one recipient;
-- followers unknown: the contract has no follower table) and its delay. Pending/processing through
-- their partial indexes, sent ones by sent_at (messages_sent_idx).
-- param: since timestamptz start of the window (inclusive, UTC)
-- param: until timestamptz end of the window (exclusive, UTC)
-- param: late_after interval a message sent later than this after its due time was late
WITH late AS (
  SELECT m.id, m.sender_id, m.audience, m.recipient_id, m.price_dt, m.scheduled_status,
         coalesce(m.scheduled_at, m.created_at) AS due_at, m.sent_at
  FROM public.messages m
  WHERE m.scheduled_status = 'pending' AND coalesce(m.scheduled_at, m.created_at) < :until - :late_after
  UNION ALL
  SELECT m.id, m.sender_id, m.audience, m.recipient_id, m.price_dt, m.scheduled_status,
         coalesce(m.scheduled_at, m.created_at), m.sent_at
  FROM public.messages m
  WHERE m.scheduled_status = 'processing' AND coalesce(m.scheduled_at, m.created_at) < :until - :late_after
  UNION ALL
  SELECT m.id, m.sender_id, m.audience, m.recipient_id, m.price_dt, m.scheduled_status,
         coalesce(m.scheduled_at, m.created_at), m.sent_at
  FROM public.messages m
  WHERE m.sent_at >= :since AND m.sent_at < :until
    AND m.sent_at - coalesce(m.scheduled_at, m.created_at) > :late_after
)
SELECT l.id AS message_id, l.sender_id, l.audience, l.price_dt, l.scheduled_status AS status, l.due_at, l.sent_at,
       extract(epoch FROM coalesce(l.sent_at, :until) - l.due_at)::float8 AS delay_s,
       CASE l.audience WHEN 'user' THEN 1
                       WHEN 'subscribers' THEN (SELECT count(*) FROM public.subscriptions s
                                                WHERE s.creator_id = l.sender_id
                                                  AND s.status IN ('active', 'past_due')
                                                  AND s.started_at <= coalesce(l.sent_at, l.due_at))
       END::bigint AS audience_size,
       CASE WHEN l.audience = 'user' THEN ARRAY[l.recipient_id]
            WHEN l.audience = 'subscribers' THEN ARRAY(SELECT s.fan_id FROM public.subscriptions s
                                                      WHERE s.creator_id = l.sender_id
                                                        AND s.status IN ('active', 'past_due')
                                                        AND s.started_at <= coalesce(l.sent_at, l.due_at))
       END AS fan_ids
FROM late l
ORDER BY delay_s DESC
