"""The incident drills' injected facts, read straight from each seeded database (scale 1).

Each drill's docstring states what it injects; these tests check that the contract tables say
exactly that, and that no drill leaves the database in a state a real incident could not
produce: the seeder writes with triggers and foreign-key checks off, so the ledger's
invariants (balanced transactions, balance_after and balance_dt = the ledger sum) and every
reference are checked here instead. The payments page's verdict on the same databases is
tests/test_payments_page.py::test_drill_matrix.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import psycopg
import pytest

from opslib.payments import standard_webhooks
from opslib.seed import profile, signing
from opslib.seed.plan import INCIDENT_MINUTES
from opslib.seed.scenarios import SCENARIOS
from opslib.seed.scenarios.refund_not_clawed_back import REFUNDED

ALL = sorted(SCENARIOS)
GRACE = timedelta(minutes=5)  # the page's grace period: younger approvals are in flight
OUTAGE_CODES = {c for c, _ in profile.TOSS_OUTAGE_FAILURES} | {c for c, _ in profile.PORTONE_OUTAGE_FAILURES}


class Drill:
    """One seeded drill database and its incident window."""

    def __init__(self, seeded_db: Any) -> None:
        self.url = seeded_db.db.admin
        self.as_of: datetime = seeded_db.as_of
        self.start: datetime = self.as_of - timedelta(minutes=INCIDENT_MINUTES)

    @property
    def window(self) -> dict[str, Any]:
        return {"start": self.start, "as_of": self.as_of, "grace": GRACE}

    def rows(self, sql: str, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.url) as conn:
            return conn.execute(sql, {**self.window, **(params or {})}).fetchall()  # type: ignore[arg-type]

    def one(self, sql: str, params: dict[str, Any] | None = None) -> Any:
        return self.rows(sql, params)[0][0]


@pytest.fixture(scope="module")
def drill(seeded):
    cache: dict[str, Drill] = {}

    def get(scenario: str) -> Drill:
        if scenario not in cache:
            cache[scenario] = Drill(seeded(scenario))
        return cache[scenario]

    return get


def _verifies(headers: dict[str, Any], payload: Any, secret: str) -> bool:
    return standard_webhooks.verify(
        standard_webhooks.secret_key(secret),
        headers["webhook-id"],
        str(headers["webhook-timestamp"]),
        standard_webhooks.portone_body(payload),
        headers["webhook-signature"],
    )


# --- every drill: what triggers and foreign keys would have enforced ------------------------


@pytest.mark.parametrize("scenario", ALL)
def test_ledger_stays_double_entry_and_balances_agree(scenario, drill):
    d = drill(scenario)
    unbalanced = d.one(
        "SELECT count(*) FROM (SELECT tx_id FROM public.wallet_ledger GROUP BY tx_id"
        " HAVING sum(amount_dt) <> 0 OR count(*) < 2) x"
    )
    assert unbalanced == 0, "every wallet transaction owns >= 2 entries summing to 0"
    orphans = d.one(
        "SELECT (SELECT count(*) FROM public.wallet_transactions t"
        "         WHERE NOT EXISTS (SELECT 1 FROM public.wallet_ledger l WHERE l.tx_id = t.tx_id))"
        "     + (SELECT count(*) FROM public.wallet_ledger l"
        "         WHERE NOT EXISTS (SELECT 1 FROM public.wallet_transactions t WHERE t.tx_id = l.tx_id))"
    )
    assert orphans == 0, "transactions without entries, or entries without a transaction"
    drift = d.one(
        "SELECT count(*) FROM public.wallet_accounts a"
        " LEFT JOIN (SELECT account_id, sum(amount_dt) AS total FROM public.wallet_ledger GROUP BY account_id) s"
        "   ON s.account_id = a.id"
        " WHERE a.balance_dt <> coalesce(s.total, 0)"
    )
    assert drift == 0, "balance_dt must equal the sum of the account's ledger entries"
    running = d.one(
        "SELECT count(*) FROM (SELECT balance_after, sum(amount_dt) OVER (PARTITION BY account_id ORDER BY id"
        "   ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS total FROM public.wallet_ledger) x"
        " WHERE balance_after IS DISTINCT FROM total"
    )
    assert running == 0, "balance_after must be the running sum of the account's entries in id order"
    copies = d.one(
        "SELECT count(*) FROM public.wallet_ledger l"
        " JOIN public.wallet_transactions t ON t.tx_id = l.tx_id"
        " JOIN public.wallet_accounts a ON a.id = l.account_id"
        " WHERE l.entry_type IS DISTINCT FROM t.tx_type OR l.reference_type IS DISTINCT FROM t.reference_type"
        "    OR l.reference_id IS DISTINCT FROM t.reference_id OR l.user_id IS DISTINCT FROM a.user_id"
        "    OR l.created_at IS DISTINCT FROM t.created_at"
    )
    assert copies == 0, "the columns the ledger trigger copies must match their transaction and account"
    negative = d.rows("SELECT allow_negative FROM public.wallet_accounts WHERE kind = 'user' AND balance_dt < 0")
    if scenario == "negative_balance":
        assert negative and all(allowed for (allowed,) in negative), "only accounts allowed to go negative"
    else:
        assert negative == [], f"{scenario} must not leave a user wallet below zero"
    idle = d.one("SELECT count(*) FROM public.wallet_ledger WHERE created_at > %(as_of)s")
    assert idle == 0, "nothing is posted after as_of"


@pytest.mark.parametrize("scenario", ALL)
def test_references_resolve_and_purchase_states_are_coherent(scenario, drill):
    d = drill(scenario)
    dangling = d.rows(
        """
SELECT 'dt_purchases.wallet_tx_id', count(*) FROM public.dt_purchases p
 WHERE p.wallet_tx_id IS NOT NULL
   AND NOT EXISTS (SELECT 1 FROM public.wallet_transactions t WHERE t.tx_id = p.wallet_tx_id
                   AND t.tx_type = 'purchase_credit' AND t.reference_id = p.id)
UNION ALL
SELECT 'purchase_credit.reference_id', count(*) FROM public.wallet_transactions t
 WHERE t.tx_type = 'purchase_credit'
   AND NOT EXISTS (SELECT 1 FROM public.dt_purchases p WHERE p.id = t.reference_id)
UNION ALL
SELECT 'message_delivery.unlock_wallet_tx_id', count(*) FROM public.message_delivery m
 WHERE m.unlock_wallet_tx_id IS NOT NULL
   AND NOT EXISTS (SELECT 1 FROM public.wallet_transactions t WHERE t.tx_id = m.unlock_wallet_tx_id)
UNION ALL
SELECT 'payment_webhook_logs.purchase_id', count(*) FROM public.payment_webhook_logs w
 WHERE w.purchase_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM public.dt_purchases p WHERE p.id = w.purchase_id)
UNION ALL
SELECT 'refunds.purchase_id / wallet_tx_id', count(*) FROM public.refunds r
 WHERE NOT EXISTS (SELECT 1 FROM public.dt_purchases p WHERE p.id = r.purchase_id)
    OR (r.wallet_tx_id IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM public.wallet_transactions t WHERE t.tx_id = r.wallet_tx_id))
UNION ALL
SELECT 'pending purchase with paid_at / credit', count(*) FROM public.dt_purchases p
 WHERE p.status = 'pending' AND (p.paid_at IS NOT NULL OR p.wallet_tx_id IS NOT NULL)
UNION ALL
SELECT 'failed purchase with paid_at / credit', count(*) FROM public.dt_purchases p
 WHERE p.status = 'failed' AND (p.paid_at IS NOT NULL OR p.wallet_tx_id IS NOT NULL)
UNION ALL
SELECT 'duplicate order ids', count(*) FROM (
  SELECT provider, order_id FROM public.dt_purchases GROUP BY 1, 2 HAVING count(*) > 1) x
"""
    )
    assert [(what, n) for what, n in dangling if n] == [], dangling
    # One payment-webhook invocation per delivery (the last 3 days are drained), same status.
    unmatched = d.one(
        """
SELECT count(*) FROM public.payment_webhook_logs w
WHERE w.received_at >= %(as_of)s - interval '3 days'
  AND NOT EXISTS (SELECT 1 FROM logs.function_edge_logs f
                  WHERE f.function_name = 'payment-webhook' AND f."timestamp" = w.received_at
                    AND f.status_code = coalesce(w.http_status, 504))
"""
    )
    assert unmatched == 0, "every recent delivery has its function invocation with the status we answered"
    extra = d.one(
        "SELECT (SELECT count(*) FROM logs.function_edge_logs WHERE function_name = 'payment-webhook'"
        "        AND \"timestamp\" >= %(as_of)s - interval '3 days')"
        " - (SELECT count(*) FROM public.payment_webhook_logs WHERE received_at >= %(as_of)s - interval '3 days')"
    )
    assert extra == 0, "no invocation without its delivery"
    late = d.one(
        "SELECT (SELECT count(*) FROM public.payment_webhook_logs WHERE received_at > %(as_of)s)"
        " + (SELECT count(*) FROM public.pg_transactions WHERE fetched_at > %(as_of)s OR transaction_at > %(as_of)s)"
        " + (SELECT count(*) FROM public.dt_purchases WHERE created_at > %(as_of)s)"
    )
    assert late == 0, "nothing happens after as_of"


@pytest.mark.parametrize("scenario", ALL)
def test_portone_signatures_were_made_with_the_demo_secret(scenario, drill):
    """PortOne always signs correctly: even a rejected delivery carries a signature valid for the
    secret PortOne holds (a mismatch drill breaks our side, never PortOne's)."""
    d = drill(scenario)
    rows = d.rows(
        "SELECT headers, payload FROM public.payment_webhook_logs"
        " WHERE provider = 'portone' AND received_at >= %(start)s - interval '20 minutes'"
    )
    assert rows, "PortOne deliveries in the last hour"
    bad = [h["webhook-id"] for h, p in rows if not _verifies(h, p, signing.DEMO_PORTONE_WEBHOOK_SECRET)]
    assert bad == [], f"{len(bad)} of {len(rows)} PortOne deliveries do not verify with the demo secret"


# --- each drill's own facts ---------------------------------------------------------------


def test_webhook_secret_mismatch_rejects_every_portone_delivery(drill):
    d = drill("webhook_secret_mismatch")
    rows = d.rows(
        "SELECT webhook_id, http_status, signature_valid, signature_error, processing_status, headers, payload"
        " FROM public.payment_webhook_logs WHERE provider = 'portone' AND received_at >= %(start)s"
    )
    assert len(rows) >= 20
    assert {(r[1], r[2], r[3], r[4]) for r in rows} == {(401, False, "NO_MATCHING_SIGNATURE", "failed")}
    # The stored signatures verify with PortOne's real (demo) secret: our function's secret is wrong.
    assert all(_verifies(r[5], r[6], signing.DEMO_PORTONE_WEBHOOK_SECRET) for r in rows)
    per_webhook: dict[str, int] = {}
    for r in rows:
        per_webhook[r[0]] = per_webhook.get(r[0], 0) + 1
    assert max(per_webhook.values()) >= 3, "PortOne retries a rejected webhook under the same webhook-id"
    toss = d.rows(
        "SELECT count(*), count(*) FILTER (WHERE http_status = 200 AND processing_status IN ('processed', 'duplicate'))"
        " FROM public.payment_webhook_logs WHERE provider = 'tosspayments' AND received_at >= %(start)s"
    )[0]
    assert toss[0] == toss[1], "TossPayments is unaffected"
    # The deploy: a new version answers from the incident start on, 401 to PortOne.
    versions = d.rows(
        'SELECT deployment_version, min("timestamp"), count(*) FILTER (WHERE status_code = 401)'
        " FROM logs.function_edge_logs WHERE function_name = 'payment-webhook' AND \"timestamp\" >= %(start)s"
        " - interval '1 hour' GROUP BY 1 ORDER BY 2"
    )
    assert versions[-1][0] == profile.WEBHOOK_VERSION_BAD and versions[-1][1] >= d.start
    assert versions[-1][1] - d.start < timedelta(minutes=5), "the first failures coincide with the deploy"
    assert versions[-1][2] == len(rows)
    deploys = d.rows(
        "SELECT occurred_at, details ->> 'version' FROM public.ops_audit_log"
        " WHERE action = 'function.deploy' AND target_id = 'payment-webhook'"
    )
    assert [v for _, v in deploys] == [profile.WEBHOOK_VERSION_BAD], "the CI deploy is on record"
    assert timedelta(0) < versions[-1][1] - deploys[0][0] < timedelta(minutes=5)
    # PG approved, DB pending: no paid_at (pending), no credit.
    stuck = d.rows(
        """
SELECT p.status, p.paid_at, p.wallet_tx_id,
       EXISTS (SELECT 1 FROM public.wallet_transactions t WHERE t.reference_id = p.id AND t.tx_type = 'purchase_credit')
FROM public.pg_transactions g
JOIN public.dt_purchases p ON p.provider = g.provider AND p.order_id = g.order_id
WHERE g.provider = 'portone' AND g.tx_kind = 'approval' AND g.status = 'PAID'
  AND g.source = 'portone_payments_api' AND g.transaction_at >= %(start)s
"""
    )
    assert len(stuck) >= 5
    assert {r[0] for r in stuck} == {"pending"} and all(r[1] is None and r[2] is None and not r[3] for r in stuck)
    fetched_after = d.one(
        "SELECT min(fetched_at - transaction_at) FROM public.pg_transactions"
        " WHERE provider = 'portone' AND transaction_at >= %(start)s"
    )
    assert timedelta(0) < fetched_after <= timedelta(minutes=11), "imported a few minutes after approval"


def test_webhook_handler_5xx_fails_both_providers_and_logs_the_error(drill):
    d = drill("webhook_handler_5xx")
    rows = d.rows(
        "SELECT provider, count(*), count(*) FILTER (WHERE http_status = 500 AND processing_status = 'failed'),"
        " count(*) FILTER (WHERE http_status = 500 AND provider = 'portone' AND signature_valid IS NOT true),"
        " count(DISTINCT coalesce(webhook_id, order_id)) FILTER (WHERE http_status = 500)"
        " FROM public.payment_webhook_logs WHERE received_at >= %(start)s GROUP BY provider ORDER BY provider"
    )
    assert [r[0] for r in rows] == ["portone", "tosspayments"]
    for provider, total, failed, unsigned, webhooks in rows:
        assert failed >= 0.8 * total, f"{provider}: most deliveries answered 500 ({failed}/{total})"
        assert unsigned == 0, "the crash comes after a successful signature check"
        assert failed > webhooks, f"{provider} retries failed webhooks"
    errors = d.one(
        "SELECT count(*) FROM public.payment_webhook_logs WHERE received_at >= %(start)s AND http_status = 500"
        " AND error NOT LIKE 'TypeError%%'"
    )
    assert errors == 0
    fn = d.rows(
        "SELECT count(*) FILTER (WHERE status_code = 500), count(*) FROM logs.function_edge_logs"
        " WHERE function_name = 'payment-webhook' AND \"timestamp\" >= %(start)s"
    )[0]
    assert fn[0] == sum(r[2] for r in rows)
    console = d.one(
        "SELECT count(*) FROM logs.function_logs WHERE function_name = 'payment-webhook' AND level = 'error'"
        " AND \"timestamp\" >= %(start)s AND event_message LIKE '%%TypeError%%'"
    )
    assert console == fn[0], "one error line per crashed invocation"
    pending = d.rows(
        """
SELECT g.provider, count(*) FROM public.pg_transactions g
JOIN public.dt_purchases p ON p.provider = g.provider AND p.order_id = g.order_id
WHERE g.tx_kind = 'approval' AND g.transaction_at >= %(start)s AND g.transaction_at < %(as_of)s - %(grace)s
  AND p.status = 'pending' AND p.paid_at IS NULL
GROUP BY 1 ORDER BY 1
"""
    )
    assert [p for p, n in pending if n >= 5] == ["portone", "tosspayments"], pending


def test_pg_paid_db_pending_lost_the_webhooks(drill):
    d = drill("pg_paid_db_pending")
    lost = d.rows(
        """
SELECT p.order_id, p.status, p.paid_at,
       (SELECT count(*) FROM public.payment_webhook_logs w WHERE w.provider = p.provider AND w.order_id = p.order_id)
FROM public.pg_transactions g
JOIN public.dt_purchases p ON p.provider = g.provider AND p.order_id = g.order_id
WHERE g.tx_kind = 'approval' AND g.status IN ('PAID', 'DONE')
  AND g.transaction_at >= %(start)s AND g.transaction_at < %(as_of)s - %(grace)s AND p.status = 'pending'
"""
    )
    assert len(lost) >= 5
    assert all(r[2] is None and r[3] == 0 for r in lost), "no delivery at all, no paid_at"
    rates = d.rows(
        "SELECT provider, count(*), count(*) FILTER (WHERE http_status BETWEEN 200 AND 299"
        " AND processing_status IN ('processed', 'duplicate', 'ignored'))"
        " FROM public.payment_webhook_logs WHERE received_at >= %(start)s - interval '20 minutes' GROUP BY 1"
    )
    assert all(ok == total for _, total, ok in rates), "every webhook that did arrive was processed"


def test_ledger_credit_lag_leaves_paid_purchases_uncredited_or_late(drill):
    d = drill("ledger_credit_lag")
    rows = d.rows(
        """
SELECT p.id, p.wallet_tx_id,
       (SELECT min(t.created_at) FROM public.wallet_transactions t
         WHERE t.tx_type = 'purchase_credit' AND t.reference_type = 'dt_purchase'
           AND t.reference_id = p.id) - p.paid_at,
       EXISTS (SELECT 1 FROM public.payment_webhook_logs w WHERE w.purchase_id = p.id AND w.http_status = 200
               AND w.processing_status = 'processed')
FROM public.dt_purchases p
WHERE p.status = 'paid' AND p.paid_at >= %(start)s AND p.paid_at < %(as_of)s - %(grace)s
"""
    )
    assert len(rows) >= 20
    missing = [r for r in rows if r[2] is None]
    late = [r for r in rows if r[2] is not None]
    assert all(r[1] is None for r in missing), "no credit: dt_purchases.wallet_tx_id stays NULL"
    assert 0.5 <= len(missing) / len(rows) <= 0.95, f"about 70 % uncredited ({len(missing)}/{len(rows)})"
    assert late and all(timedelta(minutes=15) <= r[2] <= timedelta(minutes=30) for r in late), "15-30 min late"
    assert all(r[1] is not None for r in late)
    assert all(r[3] for r in rows), "the webhook was processed fine"


def test_double_credit_credits_some_purchases_twice(drill):
    d = drill("double_credit")
    rows = d.rows(
        """
SELECT p.id, p.wallet_tx_id, array_agg(t.idempotency_key ORDER BY t.created_at, t.tx_id),
       array_agg(t.tx_id ORDER BY t.created_at, t.tx_id), max(t.created_at),
       array_agg((SELECT sum(l.amount_dt) FROM public.wallet_ledger l JOIN public.wallet_accounts a
                   ON a.id = l.account_id AND a.kind = 'user' WHERE l.tx_id = t.tx_id)),
       p.dt_amount + p.bonus_dt
FROM public.wallet_transactions t
JOIN public.dt_purchases p ON p.id = t.reference_id
WHERE t.tx_type = 'purchase_credit' AND t.reference_type = 'dt_purchase'
GROUP BY p.id HAVING count(*) > 1
"""
    )
    assert 5 <= len(rows) <= 15, f"about 10 purchases credited twice, found {len(rows)}"
    for pid, linked, keys, txs, last_at, user_dt, expected in rows:
        assert keys[0] == f"dt_purchase:{pid}:credit" and len(keys) == 2
        assert keys[1].startswith("webhook:") and keys[1].endswith(":credit"), keys
        assert linked == txs[0], "dt_purchases.wallet_tx_id keeps the first credit"
        assert d.start <= last_at < d.as_of
        assert user_dt == [expected, expected], "each credit is the full package"


def test_amount_mismatch_pg_charged_ten_times_the_purchase(drill):
    d = drill("amount_mismatch")
    rows = d.rows(
        """
SELECT g.amount, p.amount_krw, p.status, p.wallet_tx_id IS NOT NULL, (g.raw ->> 'amount')::bigint
FROM public.pg_transactions g
JOIN public.dt_purchases p ON p.provider = g.provider AND p.order_id = g.order_id
WHERE g.tx_kind = 'approval' AND g.amount <> p.amount_krw
"""
    )
    assert 5 <= len(rows) <= 12, f"about 8 mismatched approvals, found {len(rows)}"
    assert all(pg == 10 * db and raw == pg for pg, db, _, _, raw in rows)
    assert {r[2] for r in rows} == {"paid"} and all(r[3] for r in rows), "paid and credited as usual"
    inside = d.one(
        "SELECT count(*) FROM public.pg_transactions g JOIN public.dt_purchases p"
        " ON p.provider = g.provider AND p.order_id = g.order_id"
        " WHERE g.tx_kind = 'approval' AND g.amount <> p.amount_krw AND g.transaction_at >= %(start)s"
    )
    assert inside == len(rows), "all inside the incident window"
    documents = d.rows(
        """
SELECT g.amount,
       CASE p.provider WHEN 'portone' THEN (p.raw_last_payment #>> '{amount,total}')::bigint
                       ELSE (p.raw_last_payment ->> 'totalAmount')::bigint END,
       (SELECT array_agg((w.payload #>> '{data,totalAmount}')::bigint) FROM public.payment_webhook_logs w
         WHERE w.purchase_id = p.id AND w.provider = 'tosspayments')
FROM public.pg_transactions g
JOIN public.dt_purchases p ON p.provider = g.provider AND p.order_id = g.order_id
WHERE g.tx_kind = 'approval' AND g.amount <> p.amount_krw
"""
    )
    for pg, fetched, toss_bodies in documents:
        assert fetched == pg, "the Payment object fetched from the PG shows what the PG charged"
        assert all(amount == pg for amount in toss_bodies or []), "so does the Toss webhook body"


def test_refund_not_clawed_back_refunds_without_a_clawback(drill):
    d = drill("refund_not_clawed_back")
    rows = d.rows(
        """
SELECT p.order_id ~ '_9[0-9]{7}$', r.wallet_tx_id, r.dt_clawback, r.provider_cancellation_id, r.amount_krw,
       p.status, p.refunded_amount_krw,
       (SELECT count(*) FROM public.pg_transactions g WHERE g.provider = p.provider AND g.order_id = p.order_id
         AND g.tx_kind IN ('cancel', 'partial_cancel')),
       (SELECT count(*) FROM public.wallet_transactions t WHERE t.reference_type = 'refund' AND t.reference_id = r.id),
       p.wallet_tx_id IS NOT NULL
FROM public.refunds r JOIN public.dt_purchases p ON p.id = r.purchase_id
WHERE r.status = 'succeeded' AND r.completed_at >= %(start)s AND r.completed_at < %(as_of)s
"""
    )
    # The baseline's refund-process may also complete a refund in the window (it depends on the
    # hour the database is seeded); those are clawed back, only the drill's are not.
    drilled = [row[1:] for row in rows if row[0]]
    baseline = [row[1:] for row in rows if not row[0]]
    assert len(drilled) == REFUNDED, f"{REFUNDED} refunds completed in the window by the drill, found {len(drilled)}"
    for tx, clawback, cancel_id, krw, status, refunded, pg_cancels, clawbacks, credited in drilled:
        assert tx is None and clawback == 0 and clawbacks == 0, "no refund_clawback posted"
        assert cancel_id and pg_cancels >= 1, "the PG cancel succeeded and was imported"
        assert status == "refunded" and refunded == krw
        assert credited, "the purchase had been credited: DT was due back"
    for tx, clawback, *_, clawbacks, credited in baseline:
        assert not credited or (tx is not None and clawback > 0 and clawbacks == 1), "the baseline claws back"


def test_negative_balance_three_wallets_below_zero(drill):
    d = drill("negative_balance")
    rows = d.rows(
        """
SELECT a.id, a.balance_dt, a.allow_negative,
       (SELECT l.balance_after FROM public.wallet_ledger l WHERE l.account_id = a.id ORDER BY l.id DESC LIMIT 1),
       (SELECT max(l.created_at) FROM public.wallet_ledger l WHERE l.account_id = a.id),
       (SELECT count(*) FROM public.admin_audit_log x WHERE x.target_id = a.id::text)
FROM public.wallet_accounts a WHERE a.kind = 'user' AND a.balance_dt < 0
"""
    )
    assert len(rows) == 3
    for _, balance, allowed, last_after, last_at, audits in rows:
        assert allowed and last_after == balance < 0
        assert d.start <= last_at < d.as_of, "driven below zero during the incident"
        assert audits >= 1, "the admin change is audited"


def test_checkout_failures_decline_most_payments_with_outage_codes(drill):
    d = drill("checkout_failures")
    rows = d.rows(
        """
SELECT p.provider,
       count(*) FILTER (WHERE p.status = 'failed' AND p.failure_code = ANY(%(codes)s)),
       count(*) FILTER (WHERE p.status IN ('failed', 'paid')),
       count(*) FILTER (WHERE p.status = 'failed' AND p.failure_code = ANY(%(codes)s) AND (
         p.failure_message IS NULL OR p.paid_at IS NOT NULL
         OR EXISTS (SELECT 1 FROM public.pg_transactions g WHERE g.provider = p.provider AND g.order_id = p.order_id)))
FROM public.dt_purchases p
WHERE p.created_at >= %(start)s
GROUP BY 1 ORDER BY 1
""",
        {"codes": sorted(OUTAGE_CODES)},
    )
    assert [r[0] for r in rows] == ["portone", "tosspayments"]
    for provider, outage, decided, inconsistent in rows:
        assert outage >= 0.45 * decided, f"{provider}: {outage}/{decided} declined by the outage"
        assert inconsistent == 0, "a decline has a message, no paid_at and no PG approval"
    hooks = d.rows(
        """
SELECT w.provider, w.event_type, w.provider_status, w.http_status, w.processing_status
FROM public.payment_webhook_logs w JOIN public.dt_purchases p ON p.id = w.purchase_id
WHERE p.failure_code = ANY(%(codes)s)
""",
        {"codes": sorted(OUTAGE_CODES)},
    )
    assert hooks
    for provider, event, status, http, processing in hooks:
        assert http == 200 and processing in ("processed", "duplicate")
        assert (event, status) in (("Transaction.Failed", "FAILED"), ("PAYMENT_STATUS_CHANGED", "ABORTED")), provider


def test_healthy_has_none_of_the_incidents(drill):
    d = drill("healthy")
    facts = d.rows(
        """
SELECT 'signature failures', count(*) FROM public.payment_webhook_logs
 WHERE signature_valid = false AND received_at >= %(as_of)s - interval '3 hours'
UNION ALL
SELECT 'handler errors', count(*) FROM public.payment_webhook_logs
 WHERE (http_status >= 400 OR http_status IS NULL) AND received_at >= %(as_of)s - interval '3 hours'
UNION ALL
SELECT 'double credits', count(*) FROM (
  SELECT reference_id FROM public.wallet_transactions WHERE tx_type = 'purchase_credit'
  GROUP BY reference_id HAVING count(*) > 1) x
UNION ALL
SELECT 'approved, still pending', count(*) FROM public.pg_transactions g
  JOIN public.dt_purchases p ON p.provider = g.provider AND p.order_id = g.order_id
 WHERE g.tx_kind = 'approval' AND p.status = 'pending' AND g.transaction_at < %(as_of)s - %(grace)s
UNION ALL
SELECT 'amount mismatches', count(*) FROM public.pg_transactions g
  JOIN public.dt_purchases p ON p.provider = g.provider AND p.order_id = g.order_id
 WHERE g.tx_kind = 'approval' AND g.amount <> p.amount_krw
UNION ALL
SELECT 'refunds without clawback', count(*) FROM public.refunds
 WHERE status = 'succeeded' AND wallet_tx_id IS NULL
"""
    )
    assert [(what, n) for what, n in facts if n] == []
    versions = d.one(
        "SELECT count(*) FROM logs.function_edge_logs WHERE deployment_version = %(bad)s",
        {"bad": profile.WEBHOOK_VERSION_BAD},
    )
    assert versions == 0
