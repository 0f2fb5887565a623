"""negative_balance: three wallets went below zero.

Injected, in the 40 minutes before as_of: an admin switched allow_negative on for 3 fans
(admin_audit_log 'wallet.adjust'), after which each of them was debited more DT than they had:
two paid message unlocks (user -x, creator +80 %, platform_fee +20 %) and one manual
admin_adjustment (user -x, admin_adjustment +x, created_by the admin). Every transaction is
balanced; the users' ledger sums, balance_after and balance_dt all end below zero (by 80,
350 and 1,200 DT).

Ground truth: payments.negative_balance P0.
"""

from __future__ import annotations

import psycopg

from opslib.results import Severity
from opslib.seed import wallet
from opslib.seed.scenarios.base import Expected, Scenario, ScenarioContext, register

OVERDRAFTS = (80, 350, 1_200)

PICK = """
CREATE UNLOGGED TABLE s_overdrawn AS
SELECT a.id AS account_id, a.user_id, a.balance_dt, k AS pick,
       ceil((a.balance_dt + (ARRAY{overdrafts})[k]) / 10.0)::bigint * 10 AS debit,
       p.incident_start + k * interval '9 minutes' AS at
FROM (SELECT w.*, row_number() OVER (ORDER BY md5(w.id::text)) AS k
      FROM public.wallet_accounts w JOIN public.user_profiles u ON u.id = w.user_id AND u.role = 'fan'
      WHERE w.kind = 'user' AND w.balance_dt BETWEEN 100 AND 5000) a
CROSS JOIN s_params p
WHERE a.k <= 3
"""

DEBITS = f"""
CREATE UNLOGGED TABLE s_overdraft_tx (
{wallet.STAGED_COLUMNS});
INSERT INTO s_overdraft_tx
SELECT s_uuid7(o.at, o.pick, 341), o.at,
       CASE WHEN o.pick < 3 THEN 'spend' ELSE 'admin_adjustment' END,
       CASE WHEN o.pick < 3 THEN 'unlock:' || s_uuid7(o.at, o.pick, 341)
            ELSE 'admin:wallet.adjust:' || o.user_id || ':1' END,
       CASE WHEN o.pick < 3 THEN 'message' ELSE 'admin' END,
       CASE WHEN o.pick < 3 THEN m.id END,
       CASE WHEN o.pick < 3 THEN 'Unlock paid message' ELSE '수동 차감: 중복 적립 회수 (manual debit)' END,
       CASE WHEN o.pick < 3 THEN NULL ELSE admin.id END,
       o.account_id, o.user_id, -o.debit,
       CASE WHEN o.pick < 3 THEN creator.account_id ELSE adj.id END,
       CASE WHEN o.pick < 3 THEN creator.id END,
       CASE WHEN o.pick < 3 THEN o.debit - o.debit / 5 ELSE o.debit END,
       CASE WHEN o.pick < 3 THEN fee.id END,
       CASE WHEN o.pick < 3 THEN o.debit / 5 END
FROM s_overdrawn o
CROSS JOIN (SELECT id FROM s_users WHERE n = 1) admin
CROSS JOIN (SELECT id FROM public.wallet_accounts WHERE code = 'admin_adjustment') adj
CROSS JOIN (SELECT id FROM public.wallet_accounts WHERE code = 'platform_fee') fee
CROSS JOIN (SELECT id, account_id, n FROM s_users WHERE kind = 'creator' ORDER BY n LIMIT 1) creator
LEFT JOIN LATERAL (SELECT id FROM public.messages WHERE sender_id = creator.id AND price_dt > 0
                   AND sent_at < o.at ORDER BY sent_at DESC LIMIT 1) m ON true
"""

AUDIT = """
INSERT INTO public.admin_audit_log
  (admin_id, action, target_type, target_id, before, after, reason, ip, user_agent, created_at)
SELECT (SELECT id FROM s_users WHERE n = 1), 'wallet.adjust', 'wallet_account', o.account_id::text,
       '{"allow_negative": false}'::jsonb, '{"allow_negative": true}'::jsonb, 'VIP 외상 허용 (temporary overdraft)',
       '121.134.52.17', 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) Chrome/131.0 Safari/537.36',
       o.at - interval '2 minutes'
FROM s_overdrawn o
"""


def inject(conn: psycopg.Connection, ctx: ScenarioContext) -> None:
    conn.execute(PICK.format(overdrafts=list(OVERDRAFTS)))  # type: ignore[arg-type]
    conn.execute(
        "UPDATE public.wallet_accounts SET allow_negative = true WHERE id IN (SELECT account_id FROM s_overdrawn)"
    )
    conn.execute(AUDIT)
    conn.execute(DEBITS)  # type: ignore[arg-type]
    wallet.post(conn, "s_overdraft_tx")


SCENARIO = register(
    Scenario(
        name="negative_balance",
        title="음수 잔액 (wallets below zero)",
        description=__doc__ or "",
        expected=(Expected("payments.negative_balance", Severity.P0),),
        stage=None,
        inject=inject,
    )
)
