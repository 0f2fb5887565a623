"""Appending to and repairing the wallet in SQL, for the drills (the baseline is written by ledger.py).

The seeder runs with triggers off, so this module does the ledger trigger's work: ledger ids
after the current last one, `balance_after` as a running sum per account in id order starting
from the account's balance, the copied columns (user_id, entry_type, reference_*), and
`wallet_accounts.balance_dt`.

Staged transactions (a table with `STAGED_COLUMNS`) have a fixed shape: slot 1 is the user
account (a1/u1/d1), slot 2 the main counter-account (dt_issuance, a creator, admin_adjustment),
slot 3 an optional second one (promo_bonus, platform_fee; a3/d3 NULL when absent). An account
only ever appears in one slot, so each slot's running balance is one window over the staged rows.
"""

from __future__ import annotations

import psycopg

STAGED_COLUMNS = """
  tx_id uuid, created_at timestamptz, tx_type text, idempotency_key text, reference_type text, reference_id uuid,
  memo text, created_by uuid, a1 uuid, u1 uuid, d1 bigint, a2 uuid, u2 uuid, d2 bigint, a3 uuid, d3 bigint
"""

# Ledger ids follow the current last entry; balances start from each account's balance_dt.
NUMBER = """
CREATE UNLOGGED TABLE {target} AS
SELECT t.*,
       (SELECT coalesce(max(id), 0) FROM public.wallet_ledger)
         + sum(CASE WHEN t.d3 IS NULL THEN 2 ELSE 3 END) OVER seq - CASE WHEN t.d3 IS NULL THEN 2 ELSE 3 END + 1 AS lid,
       coalesce(w1.balance_dt, 0) + sum(t.d1) OVER (PARTITION BY t.a1 ORDER BY t.created_at, t.tx_id
                                                    ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS b1,
       coalesce(w2.balance_dt, 0) + sum(t.d2) OVER (PARTITION BY t.a2 ORDER BY t.created_at, t.tx_id
                                                    ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS b2,
       coalesce(w3.balance_dt, 0) + sum(t.d3) OVER (PARTITION BY t.a3 ORDER BY t.created_at, t.tx_id
                                                    ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS b3
FROM {source} t
LEFT JOIN public.wallet_accounts w1 ON w1.id = t.a1
LEFT JOIN public.wallet_accounts w2 ON w2.id = t.a2
LEFT JOIN public.wallet_accounts w3 ON w3.id = t.a3
WINDOW seq AS (ORDER BY t.created_at, t.tx_id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
"""

INSERT_TRANSACTIONS = """
INSERT INTO public.wallet_transactions
  (tx_id, tx_type, idempotency_key, reference_type, reference_id, memo, created_by, created_at)
SELECT tx_id, tx_type, idempotency_key, reference_type, reference_id, memo, created_by, created_at
FROM {source} ORDER BY lid
"""

INSERT_LEDGER = """
INSERT INTO public.wallet_ledger
  (id, tx_id, account_id, user_id, amount_dt, balance_after, entry_type, reference_type, reference_id, created_at)
OVERRIDING SYSTEM VALUE
SELECT e.id, t.tx_id, e.account_id, e.user_id, e.amount_dt, e.balance_after,
       t.tx_type, t.reference_type, t.reference_id, t.created_at
FROM {source} t
CROSS JOIN LATERAL (VALUES (t.lid, t.a1, t.u1, t.d1, t.b1),
                           (t.lid + 1, t.a2, t.u2, t.d2, t.b2),
                           (t.lid + 2, t.a3, NULL::uuid, t.d3, t.b3))
  AS e(id, account_id, user_id, amount_dt, balance_after)
WHERE e.amount_dt IS NOT NULL
ORDER BY e.id
"""

# balance_dt = the last balance_after of each account touched.
UPDATE_BALANCES = """
UPDATE public.wallet_accounts a
SET balance_dt = f.balance, updated_at = greatest(a.updated_at, f.last_at)
FROM (
  SELECT DISTINCT ON (account_id) account_id, balance, last_at
  FROM (SELECT a1 AS account_id, b1 AS balance, lid AS entry, created_at AS last_at FROM {source}
        UNION ALL SELECT a2, b2, lid + 1, created_at FROM {source}
        UNION ALL SELECT a3, b3, lid + 2, created_at FROM {source} WHERE a3 IS NOT NULL) x
  ORDER BY account_id, entry DESC
) f
WHERE a.id = f.account_id
"""

SYNC_IDENTITY = """
SELECT setval(pg_get_serial_sequence('public.wallet_ledger', 'id'),
              (SELECT coalesce(max(id), 0) + 1 FROM public.wallet_ledger), false)
"""


def post(conn: psycopg.Connection, source: str) -> None:
    """Append staged transactions (a table with STAGED_COLUMNS) to the ledger, balances included."""
    conn.execute("DROP TABLE IF EXISTS s_post_numbered")
    conn.execute(NUMBER.format(target="s_post_numbered", source=source))  # type: ignore[arg-type]
    for sql in (INSERT_TRANSACTIONS, INSERT_LEDGER, UPDATE_BALANCES):
        conn.execute(sql.format(source="s_post_numbered"))  # type: ignore[arg-type]
    conn.execute(SYNC_IDENTITY)
    conn.execute("DROP TABLE s_post_numbered")


# After entries were removed from the middle of the ledger: recompute balance_after of every
# later entry (per account, in id order, from its last untouched balance), then balance_dt.
REBALANCE = """
WITH later AS (
  SELECT l.id, l.account_id,
         sum(l.amount_dt) OVER (PARTITION BY l.account_id ORDER BY l.id
                                ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS running
  FROM public.wallet_ledger l
  WHERE l.id >= %(since)s
),
opening AS (
  SELECT a.account_id,
         coalesce((SELECT p.balance_after FROM public.wallet_ledger p
                   WHERE p.account_id = a.account_id AND p.id < %(since)s
                   ORDER BY p.id DESC LIMIT 1), 0) AS balance
  FROM (SELECT DISTINCT account_id FROM later) a
)
UPDATE public.wallet_ledger l
SET balance_after = o.balance + x.running
FROM later x
JOIN opening o ON o.account_id = x.account_id
WHERE l.id = x.id AND l.balance_after IS DISTINCT FROM o.balance + x.running
"""

RESYNC_ACCOUNTS = """
UPDATE public.wallet_accounts a
SET balance_dt = coalesce((SELECT l.balance_after FROM public.wallet_ledger l
                           WHERE l.account_id = a.id ORDER BY l.id DESC LIMIT 1), 0)
WHERE a.id = ANY(%(accounts)s)
   OR a.id IN (SELECT DISTINCT account_id FROM public.wallet_ledger WHERE id >= %(since)s)
"""


def rebalance(conn: psycopg.Connection, since_id: int, accounts: list) -> None:
    """Repair balance_after from ledger id since_id on, and balance_dt of `accounts` and of every
    account with entries from there on (after entries were removed from the middle)."""
    conn.execute(REBALANCE, {"since": since_id})
    conn.execute(RESYNC_ACCOUNTS, {"since": since_id, "accounts": accounts})


def remove(conn: psycopg.Connection, tx_ids: str) -> None:
    """Delete transactions (a query yielding tx_id) and their entries; repair the balances after them."""
    conn.execute("DROP TABLE IF EXISTS s_removed")
    conn.execute(f"CREATE UNLOGGED TABLE s_removed AS SELECT DISTINCT tx_id FROM ({tx_ids}) q")  # type: ignore[arg-type]
    row = conn.execute(
        "SELECT min(id), array_agg(DISTINCT account_id) FROM public.wallet_ledger"
        " WHERE tx_id IN (SELECT tx_id FROM s_removed)"
    ).fetchone()
    if row is not None and row[0] is not None:
        since, accounts = row
        conn.execute(
            "UPDATE public.dt_purchases SET wallet_tx_id = NULL WHERE wallet_tx_id IN (SELECT tx_id FROM s_removed)"
        )
        conn.execute("DELETE FROM public.message_delivery WHERE unlock_wallet_tx_id IN (SELECT tx_id FROM s_removed)")
        conn.execute("DELETE FROM public.wallet_ledger WHERE tx_id IN (SELECT tx_id FROM s_removed)")
        conn.execute("DELETE FROM public.wallet_transactions WHERE tx_id IN (SELECT tx_id FROM s_removed)")
        rebalance(conn, since, accounts)
    conn.execute("DROP TABLE s_removed")
