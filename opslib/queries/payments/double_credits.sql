-- name: double_credits
-- section: §3-A 트리아지 2 (멱등성: 이중 적립)
-- Purchases credited more than once: several purchase_credit transactions referencing the same
-- purchase (reference dt_purchase/id, or dt_purchases.wallet_tx_id), attributed to the window
-- of the latest credit. wallet_transactions has no time index, so the credits posted in the
-- window are found through their ledger entries (wallet_ledger_created_idx), and each candidate
-- purchase's credits through wallet_transactions_ref_idx. DT per credit is the sum of the
-- entries on user accounts (wallet_accounts.kind = 'user'; not the trigger-copied user_id).
-- A credit posted without any reference to its purchase cannot be linked and is not seen.
-- param: since timestamptz start of the window (inclusive, UTC)
-- param: until timestamptz end of the window (exclusive, UTC)
-- The ledger carries copies of tx_type / reference (set by its trigger "for reconciliation
-- queries"): the window's credits come from wallet_ledger_created_idx alone, without a join
-- that let the planner hash all of wallet_transactions.
-- Purchases paid in the window are candidates too (dt_purchases_paid_at_idx): a ledger row's
-- created_at is the database's now(), so a credit header written with its own earlier time
-- (a back-filled or replayed credit) would otherwise be missed.
WITH recent AS (
  SELECT l.reference_id AS purchase_id
  FROM public.wallet_ledger l
  WHERE l.created_at >= :since
    AND l.created_at < :until
    AND l.entry_type = 'purchase_credit'
    AND l.reference_type = 'dt_purchase'
    AND l.reference_id IS NOT NULL
  UNION
  SELECT p.id
  FROM public.dt_purchases p
  WHERE p.paid_at >= :since
    AND p.paid_at < :until
),
-- A credit belongs to a purchase by reference or through dt_purchases.wallet_tx_id. Two
-- index lookups joined by UNION, not one OR join: the OR made the planner scan all of
-- wallet_transactions once the table grew (seen at 3.5 M rows).
linked AS (
  SELECT r.purchase_id, t.tx_id
  FROM recent r
  JOIN public.wallet_transactions t
    ON t.reference_type = 'dt_purchase' AND t.reference_id = r.purchase_id
  UNION
  SELECT p.id, p.wallet_tx_id
  FROM recent r
  JOIN public.dt_purchases p ON p.id = r.purchase_id
  WHERE p.wallet_tx_id IS NOT NULL
),
credits AS (
  SELECT k.purchase_id, t.tx_id, t.created_at, t.idempotency_key,
         (SELECT coalesce(sum(l.amount_dt), 0)
            FROM public.wallet_ledger l
            JOIN public.wallet_accounts a ON a.id = l.account_id AND a.kind = 'user'
           WHERE l.tx_id = t.tx_id)::bigint AS user_dt
  FROM linked k
  -- LATERAL + LIMIT: a primary-key probe per linked credit. A plain join let the planner, which
  -- cannot estimate the UNIONed candidates, hash all of wallet_transactions (seen: 420 ms at
  -- 1.2 M rows, against 25 ms probed).
  CROSS JOIN LATERAL (
    SELECT w.tx_id, w.created_at, w.idempotency_key
    FROM public.wallet_transactions w
    WHERE w.tx_id = k.tx_id AND w.tx_type = 'purchase_credit'
    LIMIT 1
  ) t
),
per_purchase AS (
  SELECT c.purchase_id,
         count(*)::bigint AS credits,
         sum(c.user_dt)::bigint AS credited_dt,
         (array_agg(c.user_dt ORDER BY c.created_at, c.tx_id))[1] AS first_credit_dt,
         min(c.created_at) AS first_credit_at,
         max(c.created_at) AS last_credit_at,
         array_agg(c.idempotency_key ORDER BY c.created_at, c.tx_id) AS idempotency_keys
  FROM credits c
  GROUP BY c.purchase_id
  HAVING count(*) > 1
)
SELECT p.provider,
       p.order_id,
       p.id AS purchase_id,
       p.user_id,
       p.status AS db_status,
       p.amount_krw,
       (p.dt_amount + p.bonus_dt)::bigint AS expected_dt,
       d.credits,
       d.credited_dt,
       (d.credited_dt - d.first_credit_dt)::bigint AS extra_dt,
       d.first_credit_at,
       d.last_credit_at,
       d.idempotency_keys
FROM per_purchase d
JOIN public.dt_purchases p ON p.id = d.purchase_id
WHERE d.last_credit_at >= :since
  AND d.last_credit_at < :until
ORDER BY d.last_credit_at
