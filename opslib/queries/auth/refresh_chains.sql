-- name: refresh_chains
-- section: §3-B 트리아지 3 (JWT 만료 설정 확인)
-- Session lifetimes as the database records them: refresh tokens rotated in the range (auth.refresh_tokens,
-- bounded by refresh_tokens_updated_at_idx: a token's updated_at moves when it is used), the gap between
-- consecutive tokens of one session (a client refreshes shortly before its access token expires, so
-- the typical gap is about the configured JWT expiry), and the age of those sessions (auth.sessions,
-- by primary key) at their latest token, plus how many are time-boxed (not_after set).
-- param: since timestamptz start of the range (inclusive, UTC)
-- param: until timestamptz end of the range (exclusive, UTC)
WITH t AS (
  SELECT rt.session_id, rt.created_at,
         lag(rt.created_at) OVER (PARTITION BY rt.session_id ORDER BY rt.created_at) AS prev_at
  FROM auth.refresh_tokens rt
  WHERE rt.updated_at >= :since AND rt.updated_at < :until
    AND rt.session_id IS NOT NULL AND rt.created_at IS NOT NULL
), gaps AS (
  SELECT extract(epoch FROM t.created_at - t.prev_at)::float8 AS gap_s FROM t WHERE t.prev_at IS NOT NULL
), per_session AS (
  SELECT t.session_id, max(t.created_at) AS last_at FROM t GROUP BY t.session_id
), ages AS (
  -- one primary-key probe per session seen (LIMIT 1 keeps it a probe, never a hash of the whole table)
  SELECT extract(epoch FROM ps.last_at - s.created_at)::float8 AS age_s, s.not_after
  FROM per_session ps
  CROSS JOIN LATERAL (SELECT x.created_at, x.not_after FROM auth.sessions x WHERE x.id = ps.session_id LIMIT 1) s
  WHERE s.created_at IS NOT NULL
)
SELECT (SELECT count(*) FROM t)::bigint AS tokens,
       (SELECT count(*) FROM per_session)::bigint AS sessions,
       (SELECT count(*) FROM gaps)::bigint AS rotations,
       (SELECT percentile_cont(0.1) WITHIN GROUP (ORDER BY gap_s) FROM gaps) AS gap_p10_s,
       (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY gap_s) FROM gaps) AS gap_p50_s,
       (SELECT percentile_cont(0.9) WITHIN GROUP (ORDER BY gap_s) FROM gaps) AS gap_p90_s,
       (SELECT count(*) FROM ages)::bigint AS aged_sessions,
       (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY age_s) FROM ages) AS session_age_p50_s,
       (SELECT max(age_s) FROM ages) AS session_age_max_s,
       (SELECT count(*) FROM ages WHERE not_after IS NOT NULL)::bigint AS timeboxed_sessions
