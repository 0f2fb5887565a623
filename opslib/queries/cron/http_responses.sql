-- name: http_responses
-- section: §3-F 감지 (net._http_response)
-- pg_net's responses written in the window (_http_response_created_idx). The body is left
-- out: a function's answer is not needed to judge the outcome and may carry data.
-- param: since timestamptz start of the window (inclusive, UTC)
-- param: until timestamptz end of the window (exclusive, UTC)
SELECT r.id AS request_id,
       r.status_code,
       r.timed_out,
       r.error_msg,
       r.created
FROM net._http_response r
WHERE r.created >= :since
  AND r.created < :until
ORDER BY r.id
