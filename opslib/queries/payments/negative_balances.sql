-- name: negative_balances
-- section: §4-E 결제 (wallet_ledger 음수 잔액), §3-A 감지
-- User wallet accounts whose balance is below zero, by either book: the trigger-kept
-- wallet_accounts.balance_dt or the sum of the account's wallet_ledger entries.
-- A state, not a window. Summing the whole ledger per account (GROUP BY over ~10 M rows) is
-- too slow for a page, so the ledger sum is taken only for candidates:
--   * balance_dt < 0;
--   * the account's latest ledger entry (one backward probe of wallet_ledger_account_idx per
--     account) has a negative, missing or different balance_after: the ledger trigger writes
--     balance_after = previous balance_dt + amount and moves balance_dt by the same amount,
--     so for entries written through it the latest balance_after IS the ledger sum.
-- Candidates are then confirmed with the real sum(amount_dt), so the shortcut never reports a
-- false negative balance; its blind spot is an account whose entries bypassed the trigger and
-- whose stored running balance lies (balance_after present, equal to balance_dt and >= 0 while
-- the true sum is < 0). Cost: one index probe per user account, plus the candidates' entries.
-- Accounts whose balance_dt and ledger sum disagree but are not negative are returned too
-- (kind 'drift') as evidence; only 'negative' rows count for the check.
WITH latest AS (
  SELECT a.id AS account_id,
         a.user_id,
         a.balance_dt,
         a.allow_negative,
         e.id AS last_entry_id,
         e.balance_after AS last_balance_after,
         e.created_at AS last_entry_at
  FROM public.wallet_accounts a
  LEFT JOIN LATERAL (
    SELECT l.id, l.balance_after, l.created_at
    FROM public.wallet_ledger l
    WHERE l.account_id = a.id
    ORDER BY l.id DESC
    LIMIT 1
  ) e ON true
  WHERE a.kind = 'user'
),
candidates AS (
  SELECT *
  FROM latest
  WHERE balance_dt < 0
     OR (last_entry_id IS NOT NULL
         AND (last_balance_after IS NULL OR last_balance_after < 0 OR last_balance_after <> balance_dt))
),
summed AS (
  SELECT c.*,
         s.ledger_sum_dt,
         s.entries
  FROM candidates c
  CROSS JOIN LATERAL (
    SELECT coalesce(sum(l.amount_dt), 0)::bigint AS ledger_sum_dt, count(*)::bigint AS entries
    FROM public.wallet_ledger l
    WHERE l.account_id = c.account_id
  ) s
)
SELECT CASE WHEN balance_dt < 0 OR ledger_sum_dt < 0 THEN 'negative' ELSE 'drift' END AS kind,
       account_id,
       user_id,
       balance_dt,
       ledger_sum_dt,
       last_balance_after,
       entries,
       allow_negative,
       last_entry_at
FROM summed
WHERE balance_dt < 0 OR ledger_sum_dt < 0 OR ledger_sum_dt <> balance_dt
ORDER BY least(balance_dt, ledger_sum_dt), account_id
