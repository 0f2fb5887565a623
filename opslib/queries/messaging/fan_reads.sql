-- name: fan_reads
-- section: §3-C 트리아지 4 (팬 읽기: 401/403, 행이 있는데 빈 응답)
-- Fans' reads of messages in the API gateway log: GET on /rest/v1/messages and
-- /rest/v1/message_delivery, and message-media downloads/signed URLs on storage, by resource and
-- status class, with
--   sized:            answers whose drained headers say how many rows came back (content_range or
--                     content_length); without them an empty answer cannot be told from a full one;
--   empty:            200 answers with no rows (content_range '*/0' or '*/*', or a body of '[]');
--   empty_with_rows:  empty answers to a caller who already had inbox rows (message_delivery_recipient_idx),
--                     i.e. rows exist but the read policy hid them.
-- Window-bound on edge_logs_ts_idx (storage paths put the bucket after a verb, not in a prefix).
-- param: since timestamptz start of the window (inclusive, UTC)
-- param: until timestamptz end of the window (exclusive, UTC)
WITH reads AS (
  SELECT CASE WHEN e.path LIKE '/rest/v1/messages%' THEN 'rest messages'
              WHEN e.path LIKE '/rest/v1/message\_delivery%' THEN 'rest message_delivery'
              ELSE 'storage message-media' END AS resource,
         e.status_code, e.user_id, e."timestamp",
         coalesce(e.metadata -> 'response' -> 'headers' ->> 'content_range', e.metadata -> 'response' -> 'headers' ->> 'content-range') AS content_range,
         coalesce(e.metadata -> 'response' -> 'headers' ->> 'content_length', e.metadata -> 'response' -> 'headers' ->> 'content-length') AS content_length
  FROM logs.edge_logs e
  WHERE e."timestamp" >= :since AND e."timestamp" < :until
    AND e.method = 'GET'
    AND (e.path LIKE '/rest/v1/messages%' OR e.path LIKE '/rest/v1/message\_delivery%'
         OR (e.path LIKE '/storage/v1/object/%' AND e.path LIKE '%/message-media/%'))
), judged AS (
  SELECT r.*,
         (r.content_range IS NOT NULL OR r.content_length IS NOT NULL) AS sized,
         (r.status_code BETWEEN 200 AND 299 AND r.resource LIKE 'rest %'
          AND (r.content_range LIKE '*/%' OR r.content_length = '2')) AS empty
  FROM reads r
)
SELECT j.resource,
       count(*)::bigint AS requests,
       count(*) FILTER (WHERE j.status_code BETWEEN 200 AND 299)::bigint AS ok,
       count(*) FILTER (WHERE j.status_code = 401)::bigint AS unauthorized,
       count(*) FILTER (WHERE j.status_code = 403)::bigint AS forbidden,
       count(*) FILTER (WHERE j.status_code >= 500)::bigint AS server_errors,
       count(*) FILTER (WHERE j.sized)::bigint AS sized,
       count(*) FILTER (WHERE j.empty)::bigint AS empty,
       count(*) FILTER (WHERE j.empty AND j.user_id IS NOT NULL AND EXISTS (
         SELECT 1 FROM public.message_delivery d
         WHERE d.recipient_id = j.user_id AND d.channel = 'inbox' AND d.created_at < j."timestamp"))::bigint AS empty_with_rows,
       count(DISTINCT j.user_id) FILTER (WHERE j.status_code IN (401, 403) OR j.empty)::bigint AS fans_affected
FROM judged j
GROUP BY j.resource
ORDER BY j.resource
