-- name: delivery_gaps
-- section: §3-C 감지 (message_delivery 누락)
-- Messages sent in the window (older than :grace, so the fan-out had time to write its rows)
-- and how their inbox rows compare with their audience:
--   subscribers: fans with an active/past_due subscription to the sender that started before the
--                send, each missing an inbox row counted (extra rows for others never hide one);
--   user:        the one recipient;
--   followers:   the contract has no follower table, so the audience is unknown (expected NULL)
--                and only a message with no inbox row at all counts as missing.
-- Messages by sent_at (messages_sent_idx from recommended_indexes.sql; without it a scan of
-- messages), then subscriptions_creator_idx and the message_delivery_uniq index per message.
-- param: since timestamptz start of the window (inclusive, UTC)
-- param: until timestamptz end of the window (exclusive, UTC)
-- param: grace interval how long after sent_at the inbox rows must exist
SELECT m.id AS message_id, m.sender_id, m.audience, m.price_dt,
       coalesce(m.scheduled_at, m.created_at) AS due_at, m.sent_at,
       CASE m.audience WHEN 'user' THEN 1 WHEN 'subscribers' THEN a.subscribers END::bigint AS expected,
       d.inbox_rows, d.push_rows,
       CASE m.audience
         WHEN 'user' THEN (NOT EXISTS (SELECT 1 FROM public.message_delivery x
                                       WHERE x.message_id = m.id AND x.recipient_id = m.recipient_id
                                         AND x.channel = 'inbox'))::int
         WHEN 'subscribers' THEN a.missing
         ELSE (d.inbox_rows = 0)::int
       END::bigint AS missing
FROM public.messages m
CROSS JOIN LATERAL (
  SELECT count(*) FILTER (WHERE x.channel = 'inbox')::bigint AS inbox_rows,
         count(*) FILTER (WHERE x.channel = 'push')::bigint AS push_rows
  FROM public.message_delivery x
  WHERE x.message_id = m.id
) d
LEFT JOIN LATERAL (
  SELECT count(*)::bigint AS subscribers,
         count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM public.message_delivery x
                                            WHERE x.message_id = m.id AND x.recipient_id = s.fan_id
                                              AND x.channel = 'inbox'))::bigint AS missing
  FROM public.subscriptions s
  WHERE m.audience = 'subscribers' AND s.creator_id = m.sender_id
    AND s.status IN ('active', 'past_due') AND s.started_at <= m.sent_at
) a ON true
WHERE m.sent_at >= :since AND m.sent_at < :until AND m.sent_at < :until - :grace
  AND m.scheduled_status = 'sent'
ORDER BY m.sent_at, m.id
