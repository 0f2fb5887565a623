-- name: window_lines
-- section: §4-A~C 로그 표준 감사 (트리아지: 필드, 이벤트명, 레벨, 개인정보)
-- The window's console lines, newest first, at most :per_function per Edge Function (a bounded sample:
-- the JSON is parsed and scanned for personal data in the kernel, where a plain-text or malformed line is
-- a value and not a failed cast). Same loose index scan and per-function range scans as window_counts.
-- The message is cut at 8000 characters (a stack trace's tail adds no field).
-- param: since timestamptz start of the window (inclusive, UTC)
-- param: until timestamptz end of the window (exclusive, UTC)
-- param: per_function int most lines read per function (newest first)
WITH RECURSIVE fns AS (
  -- min() reads one index entry; ">= ''" (every name) makes that first probe a range probe as the next ones are
  SELECT min(l.function_name) AS function_name FROM logs.function_logs l WHERE l.function_name >= ''
  UNION ALL
  SELECT (SELECT min(l.function_name) FROM logs.function_logs l WHERE l.function_name > f.function_name)
  FROM fns f
  WHERE f.function_name IS NOT NULL
)
SELECT f.function_name, x."timestamp" AS at, x.level, x.message
FROM fns f
CROSS JOIN LATERAL (
  SELECT l."timestamp", l.level, left(l.event_message, 8000) AS message
  FROM logs.function_logs l
  WHERE l.function_name = f.function_name
    AND l."timestamp" >= :since AND l."timestamp" < :until
  ORDER BY l."timestamp" DESC
  LIMIT CAST(:per_function AS int)
) x
WHERE f.function_name IS NOT NULL
ORDER BY f.function_name, x."timestamp"
