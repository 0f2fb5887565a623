-- name: window_counts
-- section: §4-A~C 로그 표준 감사 (감지: 함수별 콘솔 로그 수)
-- Console lines per Edge Function and level in the window, exact. The functions are found by a loose
-- index scan of function_logs_fn_ts_idx (one probe per distinct name), then each function's window is
-- one range scan of the same index: never a pass over the whole table.
-- param: since timestamptz start of the window (inclusive, UTC)
-- param: until timestamptz end of the window (exclusive, UTC)
WITH RECURSIVE fns AS (
  -- min() reads one index entry; ">= ''" (every name) makes that first probe a range probe as the next ones are
  SELECT min(l.function_name) AS function_name FROM logs.function_logs l WHERE l.function_name >= ''
  UNION ALL
  SELECT (SELECT min(l.function_name) FROM logs.function_logs l WHERE l.function_name > f.function_name)
  FROM fns f
  WHERE f.function_name IS NOT NULL
)
SELECT f.function_name, c.level, c.lines, c.first_at, c.last_at
FROM fns f
CROSS JOIN LATERAL (
  SELECT l.level, count(*)::bigint AS lines, min(l."timestamp") AS first_at, max(l."timestamp") AS last_at
  FROM logs.function_logs l
  WHERE l.function_name = f.function_name
    AND l."timestamp" >= :since AND l."timestamp" < :until
  GROUP BY l.level
) c
WHERE f.function_name IS NOT NULL
ORDER BY f.function_name, c.level
