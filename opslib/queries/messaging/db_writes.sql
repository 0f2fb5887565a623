-- name: db_writes
-- section: §3-C 트리아지 1 (DB insert/update 자체)
-- Message writes in the window and in the same window on each of the :days previous days:
-- inserts (created_at; creators writing) and the dispatcher's update to 'sent' (sent_at). Each of
-- the days+1 windows is read by created_at / sent_at (messages_created_idx, messages_sent_idx from
-- recommended_indexes.sql; without them a scan of messages).
-- param: since timestamptz start of the window (inclusive, UTC)
-- param: until timestamptz end of the window (exclusive, UTC)
-- param: days int how many previous days to compare with
SELECT d.days_ago::int AS days_ago,
       :since - d.days_ago * interval '1 day' AS window_start,
       (SELECT count(*) FROM public.messages m
         WHERE m.created_at >= :since - d.days_ago * interval '1 day'
           AND m.created_at < :until - d.days_ago * interval '1 day')::bigint AS inserts,
       (SELECT count(*) FROM public.messages m
         WHERE m.sent_at >= :since - d.days_ago * interval '1 day'
           AND m.sent_at < :until - d.days_ago * interval '1 day')::bigint AS sent
FROM generate_series(0, :days) AS d(days_ago)
ORDER BY d.days_ago
