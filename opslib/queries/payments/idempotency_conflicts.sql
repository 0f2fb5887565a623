-- name: idempotency_conflicts
-- section: §3-A 트리아지 2 (멱등성 키 충돌)
-- Two kinds of idempotency conflict in the window:
--   key_reused          an idempotency_keys row (any scope) answered 409/422, or whose stored
--                       response names a conflict/mismatch/reuse (English or Korean): the same key came back with a
--                       different request hash. Time = completed_at, else created_at.
--                       COST: idempotency_keys has no time index (only PK and expires_at); the
--                       table is trimmed daily to 15 days of keys (idempotency-keys-cleanup), so
--                       the sequential scan is bounded by that retention, not by history.
--   shared_purchase_key a purchase created in the window whose idempotency_key is also used by
--                       another user's purchase. The key is forwarded to the PG as its
--                       Idempotency-Key, and the PG scopes keys per merchant, not per user, so
--                       the second user's confirm could be answered with the first user's
--                       payment. (The same user cannot reuse a key: UNIQUE (user_id, key).)
--                       COST: the window cohort is one sequential scan of dt_purchases (no
--                       created_at index); the other side is a hashed semi-join over it.
-- param: since timestamptz start of the window (inclusive, UTC)
-- param: until timestamptz end of the window (exclusive, UTC)
WITH cohort AS (
  SELECT p.provider, p.order_id, p.user_id, p.status, p.created_at, p.idempotency_key
  FROM public.dt_purchases p
  WHERE p.created_at >= :since
    AND p.created_at < :until
),
shared AS (
  SELECT q.idempotency_key, count(DISTINCT q.user_id) AS users
  FROM public.dt_purchases q
  WHERE q.idempotency_key IN (SELECT idempotency_key FROM cohort)
  GROUP BY q.idempotency_key
  HAVING count(DISTINCT q.user_id) > 1
)
SELECT 'key_reused' AS kind,
       k.scope,
       k.key AS idempotency_key,
       k.user_id,
       k.status,
       k.response_status,
       coalesce(k.completed_at, k.created_at) AS at,
       NULL::text AS provider,
       NULL::text AS order_id,
       NULL::bigint AS other_users
FROM public.idempotency_keys k
WHERE coalesce(k.completed_at, k.created_at) >= :since
  AND coalesce(k.completed_at, k.created_at) < :until
  AND (k.response_status IN (409, 422)
       OR concat_ws(' ', k.response_body ->> 'code', k.response_body ->> 'error', k.response_body ->> 'message',
                    k.response_body -> 'error' ->> 'code', k.response_body -> 'error' ->> 'message')
          -- the app answers in Korean too: 충돌 (conflict), 불일치 (mismatch), 이미 사용/재사용 (already used)
          ~* '(conflict|mismatch|reuse|already[ _-]?used|충돌|불일치|이미 *사용|재사용)')
UNION ALL
SELECT 'shared_purchase_key',
       'dt_purchases',
       c.idempotency_key,
       c.user_id,
       c.status,
       NULL::int,
       c.created_at,
       c.provider,
       c.order_id,
       (s.users - 1)::bigint
FROM cohort c
JOIN shared s ON s.idempotency_key = c.idempotency_key
ORDER BY at
