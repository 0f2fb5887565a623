"""Every payments query and step on a real PostgreSQL: empty, filled by hand, and (if present) seeded.

The hand-filled database is written directly against the contract (not through the seeder):
each incident row is placed on purpose and the assertions name exactly those rows.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from opslib import db, embedded, payments, queries, timewindow
from opslib.payments import Stage
from opslib.results import Outcome, Severity
from opslib.timewindow import Window

# Roles are cluster-wide: the modules that create BYPASSRLS roles and the ones that audit them share
# one xdist worker, so an audit never sees another worker's role appear mid-run.
pytestmark = pytest.mark.xdist_group("cluster_roles")

GRACE = timedelta(minutes=5)
SECRET = "whsec_" + base64.b64encode(b"opsbook-test-portone-secret-0001").decode()
OTHER_SECRET = "whsec_" + base64.b64encode(b"a-different-secret-rotated-0002").decode()


# --- the hand-filled database ---------------------------------------------------------------


@dataclass(frozen=True)
class Filled:
    name: str
    now: datetime  # the instant the rows were written around
    window: Window  # [now - 60 min, now + 5 min)
    orders: dict[str, str]  # role -> order_id
    users: dict[str, str]  # role -> user uuid
    signed_delivery: int  # payment_webhook_logs.id of the delivery signed with SECRET

    @property
    def admin(self) -> str:
        return embedded.libpq_url(self.name)

    @property
    def reader(self) -> str:
        return embedded.url(self.name, user=embedded.READER_ROLE)


def _sign(secret: str, webhook_id: str, timestamp: str, body: str) -> str:
    """Standard Webhooks, written out independently of opslib.payments.standard_webhooks."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    mac = hmac.new(key, f"{webhook_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


class Writer:
    """Small helpers that write contract rows the way the app would."""

    def __init__(self, conn: psycopg.Connection, now: datetime) -> None:
        self.conn = conn
        self.now = now
        self.package = conn.execute(
            "INSERT INTO public.dt_packages (sku, name, dt_amount, bonus_dt, price_krw)"
            " VALUES ('dt_1000', 'DT 1000', 1000, 100, 11000) RETURNING id"
        ).fetchone()[0]

    def ago(self, minutes: float) -> datetime:
        return self.now - timedelta(minutes=minutes)

    def user(self, handle: str) -> str:
        uid = str(uuid.uuid4())
        self.conn.execute(
            "INSERT INTO auth.users (id, email, created_at) VALUES (%s, %s, now())", (uid, f"{handle}@example.com")
        )
        return uid

    def purchase(
        self,
        user: str,
        provider: str,
        order_id: str,
        *,
        status: str,
        created: float,
        paid: float | None = None,
        amount: int = 11000,
        failure_code: str | None = None,
        provider_status: str | None = None,
        refunded: int = 0,
        key: str | None = None,
    ) -> str:
        row = self.conn.execute(
            """INSERT INTO public.dt_purchases (user_id, package_id, provider, order_id, amount_krw, dt_amount,
                 bonus_dt, status, provider_status, idempotency_key, failure_code, requested_at, created_at,
                 updated_at, paid_at, refunded_amount_krw)
               VALUES (%s, %s, %s, %s, %s, 1000, 100, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id""",
            (
                user,
                self.package,
                provider,
                order_id,
                amount,
                status,
                provider_status,
                key or f"idem-{order_id}",
                failure_code,
                self.ago(created),
                self.ago(created),
                self.ago(paid if paid is not None else created),
                self.ago(paid) if paid is not None else None,
                refunded,
            ),
        ).fetchone()
        return str(row[0])

    def credit(self, purchase: str, after_s: float = 20, dt: int | None = None, key: str | None = None) -> str:
        """A purchase_credit posted `after_s` seconds after paid_at, as credit_dt_purchase() would post it.

        The ledger trigger stamps now(), so a credit in the past is written with the triggers off
        (session_replication_role = replica) doing exactly what they would: balance_after,
        user_id, entry_type and reference copies, and the account balance.
        """
        user, dt_amount, bonus, paid_at = self.conn.execute(
            "SELECT user_id, dt_amount, bonus_dt, paid_at FROM public.dt_purchases WHERE id = %s", (purchase,)
        ).fetchone()
        at = paid_at + timedelta(seconds=after_s)
        if dt is None:
            entries = [(("user_id", user), dt_amount + bonus), (("code", "dt_issuance"), -dt_amount)]
            if bonus:
                entries.append((("code", "promo_bonus"), -bonus))
        else:
            entries = [(("user_id", user), dt), (("code", "dt_issuance"), -dt)]
        tx = str(uuid.uuid4())
        self.conn.execute("SET LOCAL session_replication_role = replica")
        self.conn.execute(
            """INSERT INTO public.wallet_transactions (tx_id, tx_type, idempotency_key, reference_type, reference_id,
                 created_at) VALUES (%s, 'purchase_credit', %s, 'dt_purchase', %s, %s)""",
            (tx, key or f"dt_purchase:{purchase}:credit", purchase, at),
        )
        for (column, value), amount in entries:
            account, balance, owner = self.conn.execute(
                f"SELECT id, balance_dt, user_id FROM public.wallet_accounts WHERE {column} = %s", (value,)
            ).fetchone()
            self.conn.execute(
                """INSERT INTO public.wallet_ledger (tx_id, account_id, user_id, amount_dt, balance_after, entry_type,
                     reference_type, reference_id, created_at)
                   VALUES (%s, %s, %s, %s, %s, 'purchase_credit', 'dt_purchase', %s, %s)""",
                (tx, account, owner, amount, balance + amount, purchase, at),
            )
            self.conn.execute(
                "UPDATE public.wallet_accounts SET balance_dt = balance_dt + %s WHERE id = %s", (amount, account)
            )
        if key is None:
            self.conn.execute("UPDATE public.dt_purchases SET wallet_tx_id = %s WHERE id = %s", (tx, purchase))
        self.conn.execute("SET LOCAL session_replication_role = origin")
        return tx

    def post(
        self,
        key: str,
        tx_type: str,
        entries: list[dict[str, object]],
        ref_type: str | None = None,
        ref_id: str | None = None,
    ) -> str:
        return str(
            self.conn.execute(
                "SELECT public.wallet_post(%s, %s, %s::jsonb, %s, %s)",
                (key, tx_type, json.dumps(entries), ref_type, ref_id),
            ).fetchone()[0]
        )

    def pg(
        self,
        provider: str,
        order_id: str,
        kind: str,
        amount: int,
        at: float,
        key: str | None = None,
        status: str = "PAID",
        source: str | None = None,
    ) -> None:
        source = source or ("portone_payments_api" if provider == "portone" else "toss_transactions_api")
        self.conn.execute(
            """INSERT INTO public.pg_transactions (provider, source, transaction_key, payment_key, order_id, tx_kind,
                 status, amount, transaction_at, raw)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, '{}')""",
            (
                provider,
                source,
                key or f"{order_id}-{kind}",
                f"pk-{order_id}",
                order_id,
                kind,
                status,
                amount,
                self.ago(at),
            ),
        )

    def webhook(
        self,
        provider: str,
        order_id: str | None,
        at: float,
        *,
        ok: bool = True,
        webhook_id: str | None = None,
        signature_valid: bool | None = None,
        signature_error: str | None = None,
        event: str = "Transaction.Paid",
        status: str | None = "PAID",
        processing: str | None = None,
        http: int | None = None,
        headers: dict[str, str] | None = None,
        payload: dict[str, object] | None = None,
        purchase: str | None = None,
    ) -> int:
        if provider == "portone" and signature_valid is None:
            signature_valid = ok
        processing = processing or ("processed" if ok else "failed")
        http = http if http is not None else (200 if ok else 401)
        return int(
            self.conn.execute(
                """INSERT INTO public.payment_webhook_logs (provider, webhook_id, event_type, signature_valid,
                     signature_error, order_id, provider_status, purchase_id, http_status, processing_status,
                     headers, payload, received_at, processed_at)
                   VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s::jsonb, %s, %s) RETURNING id""",
                (
                    provider,
                    webhook_id or f"msg_{uuid.uuid4().hex[:16]}",
                    event,
                    signature_valid,
                    signature_error,
                    order_id,
                    status,
                    purchase,
                    http,
                    processing,
                    json.dumps(headers or {}),
                    json.dumps(payload or {"type": event}),
                    self.ago(at),
                    self.ago(at) if ok else None,
                ),
            ).fetchone()[0]
        )

    def invocation(self, at: float, status: int, version: str) -> None:
        self.conn.execute(
            """INSERT INTO logs.function_edge_logs (id, "timestamp", function_name, method, status_code,
                 deployment_version) VALUES (%s, %s, 'payment-webhook', 'POST', %s, %s)""",
            (str(uuid.uuid4()), self.ago(at), status, version),
        )


def _fill(conn: psycopg.Connection, now: datetime) -> tuple[dict[str, str], dict[str, str], int]:
    w = Writer(conn, now)
    users = {
        name: w.user(name)
        for name in (
            "healthy",
            "stuck",
            "double",
            "amount",
            "toss",
            "declined",
            "refunded",
            "nopg",
            "wrongcredit",
            "negative",
            "bypass",
            "shared",
        )
    }
    orders: dict[str, str] = {}

    # Healthy PortOne traffic: 10 paid, credited, matched at the PG, webhook processed and signed.
    for i in range(10):
        order = f"pay_ok_{i:02d}"
        p = w.purchase(users["healthy"], "portone", order, status="paid", created=40 - i, paid=39.5 - i)
        w.pg("portone", order, "approval", 11000, 39.5 - i)
        w.webhook("portone", order, 39 - i, purchase=p)
        w.credit(p)
        w.invocation(39 - i, 200, "v41" if i < 2 else "v42")

    # payment-webhook deploy v42 first seen 31 min ago; v41 ran before.
    for m in (150, 120, 90, 60, 45, 32):
        w.invocation(m, 200, "v41")
    w.invocation(31, 200, "v42")

    # 1. PortOne purchase stuck pending: the PG approved it, our handler rejected the signature (401).
    orders["stuck"] = "pay_stuck_01"
    stuck = w.purchase(users["stuck"], "portone", orders["stuck"], status="pending", created=30)
    w.pg("portone", orders["stuck"], "approval", 11000, 28)
    for m in (28, 27, 25):
        w.webhook(
            "portone",
            orders["stuck"],
            m,
            ok=False,
            signature_error="NO_MATCHING_SIGNATURE",
            purchase=stuck,
            status=None,
            webhook_id="msg_stuck_01",
        )
        w.invocation(m, 401, "v42")

    # 2. Double credit: credited by credit_dt_purchase and again by a buggy handler under another key.
    orders["double"] = "pay_double_01"
    double = w.purchase(users["double"], "portone", orders["double"], status="paid", created=22, paid=20)
    w.pg("portone", orders["double"], "approval", 11000, 20)
    w.credit(double)
    w.credit(double, after_s=300, dt=1100, key="webhook:msg_double:credit")

    # 3. Amount mismatch: the DB says 11 000 KRW, the PG approved 10 000.
    orders["amount"] = "pay_amount_01"
    amount = w.purchase(users["amount"], "portone", orders["amount"], status="paid", created=16, paid=15)
    w.pg("portone", orders["amount"], "approval", 10000, 15)
    w.credit(amount)

    # 4. Toss purchase paid 25 min ago, never credited.
    orders["uncredited"] = "toss_uncredited_01"
    w.purchase(users["toss"], "tosspayments", orders["uncredited"], status="paid", created=26, paid=25)
    w.pg("tosspayments", orders["uncredited"], "approval", 11000, 25, status="DONE")

    # 5. Toss decline at the PG (a failure_code), 10 min ago.
    orders["declined"] = "toss_declined_01"
    w.purchase(
        users["declined"],
        "tosspayments",
        orders["declined"],
        status="failed",
        created=10,
        failure_code="REJECT_CARD_COMPANY",
    )

    # ... and a user who closed the payment window: not a PG decline.
    w.purchase(
        users["declined"],
        "tosspayments",
        "toss_usercancel_01",
        status="failed",
        created=9,
        failure_code="PAY_PROCESS_CANCELED",
    )

    # 6. Refund succeeded 10 min ago without a clawback (paid and credited 50 min ago, PG cancelled).
    orders["refund"] = "pay_refund_01"
    refunded = w.purchase(users["refunded"], "portone", orders["refund"], status="paid", created=52, paid=50)
    w.pg("portone", orders["refund"], "approval", 11000, 50)
    w.credit(refunded)
    conn.execute(
        "UPDATE public.dt_purchases SET status = 'refunded', refunded_amount_krw = 11000 WHERE id = %s", (refunded,)
    )
    w.pg("portone", orders["refund"], "cancel", 11000, 10, key="cancel-refund-01", status="CANCELLED")
    conn.execute(
        """INSERT INTO public.refunds (purchase_id, user_id, provider, kind, status, amount_krw, dt_clawback, reason,
             idempotency_key, requested_at, completed_at)
           VALUES (%s, %s, 'portone', 'refund', 'succeeded', 11000, 1100, 'test', 'refund-01', %s, %s)""",
        (refunded, users["refunded"], w.ago(12), w.ago(10)),
    )

    # ... and a partial refund a minute ago, clawed back, whose PG cancel the last import has not seen
    # yet: not a status mismatch (the DB is merely ahead of the import).
    orders["partial"] = "pay_partial_01"
    partial = w.purchase(users["refunded"], "portone", orders["partial"], status="paid", created=21, paid=20)
    w.pg("portone", orders["partial"], "approval", 11000, 20)
    w.credit(partial)
    refund = conn.execute(
        """INSERT INTO public.refunds (purchase_id, user_id, provider, kind, status, amount_krw, dt_clawback, reason,
             idempotency_key, requested_at, completed_at)
           VALUES (%s, %s, 'portone', 'partial_refund', 'succeeded', 5500, 550, 'test', 'refund-02', %s, %s)
           RETURNING id""",
        (partial, users["refunded"], w.ago(3), w.ago(1)),
    ).fetchone()[0]
    w.post(
        f"refund:{refund}:clawback",
        "refund_clawback",
        [{"user_id": users["refunded"], "amount_dt": -550}, {"account_code": "dt_issuance", "amount_dt": 550}],
        "refund",
        str(refund),
    )
    conn.execute(
        "UPDATE public.dt_purchases SET status = 'partially_refunded', refunded_amount_krw = 5500 WHERE id = %s",
        (partial,),
    )

    # 7. Paid in the DB, no approval at the PG (PortOne has PG data for the period, so it is judged).
    orders["nopg"] = "pay_nopg_01"
    nopg = w.purchase(users["nopg"], "portone", orders["nopg"], status="paid", created=21, paid=20)
    w.credit(nopg)

    # 8. Credited with the wrong amount (500 DT instead of 1 100).
    orders["wrongcredit"] = "pay_wrongcredit_01"
    wrong = w.purchase(users["wrongcredit"], "portone", orders["wrongcredit"], status="paid", created=19, paid=18)
    w.pg("portone", orders["wrongcredit"], "approval", 11000, 18)
    w.credit(wrong, dt=500)

    # 9. PG approval for an order we never created.
    orders["ghost"] = "pay_ghost_01"
    w.pg("portone", orders["ghost"], "approval", 5500, 35)

    # 10. Negative balances: one through an allowed overdraft, one by a ledger write that bypassed the trigger.
    conn.execute("UPDATE public.wallet_accounts SET allow_negative = true WHERE user_id = %s", (users["negative"],))
    w.post(
        "spend:negative:1",
        "spend",
        [{"user_id": users["negative"], "amount_dt": -300}, {"account_code": "platform_fee", "amount_dt": 300}],
    )
    conn.execute("SET LOCAL session_replication_role = replica")
    bypass_tx = str(uuid.uuid4())
    conn.execute(
        "INSERT INTO public.wallet_transactions (tx_id, tx_type, idempotency_key) VALUES (%s, 'admin_adjustment', %s)",
        (bypass_tx, "bypass:1"),
    )
    conn.execute(
        """INSERT INTO public.wallet_ledger (tx_id, account_id, amount_dt)
           SELECT %s::uuid, id, -700 FROM public.wallet_accounts WHERE user_id = %s
           UNION ALL SELECT %s::uuid, id, 700 FROM public.wallet_accounts WHERE code = 'admin_adjustment'""",
        (bypass_tx, users["bypass"], bypass_tx),
    )
    conn.execute("SET LOCAL session_replication_role = origin")

    # 11. Idempotency: a webhook processed twice; a key answered 409; a purchase key shared by two users.
    w.webhook("portone", "pay_ok_00", 38, webhook_id="msg_dup_01", status="PAID")
    w.webhook("portone", "pay_ok_00", 33, webhook_id="msg_dup_01", status="PAID")
    conn.execute(
        """INSERT INTO public.idempotency_keys (scope, key, user_id, request_hash, status, response_status,
             response_body, created_at, completed_at)
           VALUES ('purchase.confirm', 'conflict-key-0001', %s, 'h2', 'failed', 409,
                   '{"code": "IDEMPOTENCY_CONFLICT"}', %s, %s)""",
        (users["healthy"], w.ago(14), w.ago(14)),
    )
    w.purchase(users["shared"], "portone", "pay_shared_01", status="pending", created=8, key="idem-pay_ok_03")

    # 12. Refunds: one requested 30 h ago (stuck), one processing 1 h ago (not yet stuck).
    for hours, status, key in ((30, "requested", "refund-open-1"), (1, "processing", "refund-open-2")):
        conn.execute(
            """INSERT INTO public.refunds (purchase_id, user_id, provider, kind, status, amount_krw, reason,
                 idempotency_key, requested_at)
               SELECT id, user_id, 'portone', 'refund', %s, 11000, 'test', %s, %s
               FROM public.dt_purchases WHERE order_id = 'pay_ok_05'""",
            (status, key, now - timedelta(hours=hours)),
        )

    # 13. Reconciliation history: one mismatched run yesterday with one open item.
    run = conn.execute(
        """INSERT INTO public.reconciliation_runs (provider, period_start, period_end, status, mismatch_count,
             started_at, finished_at) VALUES ('portone', %s, %s, 'mismatched', 1, %s, %s) RETURNING id""",
        (now - timedelta(days=2), now - timedelta(days=1), now - timedelta(hours=20), now - timedelta(hours=20)),
    ).fetchone()[0]
    conn.execute(
        "INSERT INTO public.reconciliation_items (run_id, provider, order_id, mismatch_type, created_at)"
        " VALUES (%s, 'portone', 'pay_old_01', 'not_credited', %s)",
        (run, now - timedelta(hours=20)),
    )

    # 14. A stored PortOne delivery signed with SECRET, outside the window (a day ago).
    body = (
        '{"type":"Transaction.Paid","timestamp":"2026-11-25T01:02:03.456Z",'
        '"data":{"storeId":"store-5f1c","paymentId":"pay_signed_01","transactionId":"tx-9a8b"}}'
    )
    ts = str(int((now - timedelta(days=1)).timestamp()))
    headers = {
        "webhook-id": "msg_signed_000001",
        "webhook-timestamp": ts,
        "webhook-signature": _sign(SECRET, "msg_signed_000001", ts, body),
    }
    signed = w.webhook(
        "portone", "pay_signed_01", 60 * 24, webhook_id="msg_signed_000001", headers=headers, payload=json.loads(body)
    )
    return orders, users, signed


@pytest.fixture(scope="module")
def filled() -> Iterator[Filled]:
    name = f"pay_{uuid.uuid4().hex[:8]}"
    embedded.create_contract_database(name, replace=True, recommended_indexes=False)  # exactly the contract
    now = datetime.now(UTC).replace(microsecond=0)
    with psycopg.connect(embedded.libpq_url(name)) as conn:
        orders, users, signed = _fill(conn, now)
        conn.commit()
    yield Filled(name, now, Window(now - timedelta(minutes=60), now + timedelta(minutes=5)), orders, users, signed)
    with psycopg.connect(embedded.libpq_url("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def by_key(findings) -> dict[str, object]:
    return {f.key: f for f in findings}


# --- empty database: every query runs, nothing is a problem ---------------------------------

PAYMENT_QUERIES = sorted(q for q in queries.catalogue() if q.startswith("payments."))


def test_every_step_runs_on_an_empty_contract_database(contract_db):
    until = datetime.now(UTC)
    window = Window(until - timedelta(hours=1), until)
    with db.read_only(contract_db.reader, "payments") as conn:
        results = [
            payments.detect(conn, window),
            payments.funnel(conn, window),
            payments.idempotency(conn, window),
            payments.signatures(conn, window),
            payments.reconcile(conn, Window(until - timedelta(days=1), until)),
            payments.open_refunds(conn, until),
            payments.exit_condition(conn, until),
            payments.impact(conn, window),
        ]
        check = payments.verify_delivery(conn)
    findings = [f for r in results for f in r.findings]
    assert findings
    assert not [f for f in findings if f.outcome in (Outcome.WARN, Outcome.CRITICAL, Outcome.ERROR)]
    every_query = {t.name for r in results for t in r.timings}
    assert set(PAYMENT_QUERIES) - every_query <= {"payments.webhook_delivery", "payments.latest_signed_delivery"}
    assert results[1].broken_stage is None
    assert check.match is None and "없음" in check.reason
    assert results[6].met  # nothing happened: normal, with the "too few events" caveat
    assert "표본" in results[6].sentence or "판단할 만큼" in results[6].sentence


# --- hand-filled database: exactly the planted incidents ------------------------------------


def test_handler_5xx_without_edge_logs_is_judged_from_our_answers(contract_db):
    """A database whose log drain has no payment-webhook rows: the 5xx check reads payment_webhook_logs."""
    now = datetime.now(UTC).replace(microsecond=0)
    with psycopg.connect(contract_db.admin) as conn:
        w = Writer(conn, now)
        for i in range(9):
            w.webhook("tosspayments", f"ord_5xx_{i}", 10 + i, ok=False, processing="failed", http=500, status="DONE")
        for i in range(3):  # crashed before answering: no http_status at all
            w.webhook("tosspayments", f"ord_noanswer_{i}", 30 + i, ok=False, processing="failed", status="DONE")
            conn.execute(
                "UPDATE public.payment_webhook_logs SET http_status = NULL WHERE order_id = %s", (f"ord_noanswer_{i}",)
            )
        for i in range(4):
            w.webhook("tosspayments", f"ord_ok_{i}", 5 + i, status="DONE")
        conn.commit()
    window = Window(now - timedelta(minutes=60), now + timedelta(minutes=5))
    with db.read_only(contract_db.reader, "payments") as conn:
        found = by_key(payments.detect(conn, window).findings)["payments.webhook_function_5xx"]
    assert found.outcome is Outcome.CRITICAL and found.severity is Severity.P0
    assert found.value == pytest.approx(round(100 * 12 / 16, 3))
    assert "function_edge_logs" in found.detail and "5xx or no answer 12" in found.detail


def test_detect_reports_the_planted_signals(filled):
    with db.read_only(filled.reader, "payments") as conn:
        d = payments.detect(conn, filled.window)
    f = by_key(d.findings)
    # PortOne: 10 healthy + 2 duplicate-processed deliveries succeed, 3 signature rejections fail.
    assert f["payments.webhook_success_rate[portone]"].value == pytest.approx(round(100 * 12 / 15, 3))
    assert f["payments.webhook_success_rate[portone]"].outcome is Outcome.CRITICAL
    assert f["payments.webhook_success_rate[tosspayments]"].outcome is Outcome.NOT_EVALUATED
    assert f["payments.webhook_signature_failures[portone]"].value == pytest.approx(20)
    assert "NO_MATCHING_SIGNATURE 3" in f["payments.webhook_signature_failures[portone]"].detail
    assert f["payments.webhook_function_5xx"].outcome is Outcome.OK
    assert "401 3" in f["payments.webhook_function_5xx"].detail
    assert f["payments.reconciliation_runs_failed"].value == 1
    assert f["payments.reconciliation_items_open"].value == 1
    neg = f["payments.negative_balance"]
    assert neg.value == 2 and neg.severity is Severity.P0
    assert set(d.negative_balances["balance_dt"]) == {-300, 0}
    assert set(d.negative_balances["ledger_sum_dt"]) == {-300, -700}
    # Display frames are masked.
    assert not d.negative_balances["user_id"].astype(str).str.fullmatch(r"[0-9a-f-]{36}").any()
    assert str(d.webhook_buckets["bucket_start"].dt.tz) == "Asia/Seoul"


def test_funnel_names_the_webhook_stage_and_the_stuck_purchase(filled):
    with db.read_only(filled.reader, "payments") as conn:
        fun = payments.funnel(conn, filled.window)
    f = by_key(fun.findings)
    # The stuck purchase, and the PG approval whose order has no dt_purchases row at all.
    assert f["payments.pg_paid_db_pending[portone]"].value == 2
    assert f["payments.pg_paid_db_pending[tosspayments]"].value == 0
    pending = fun.pg_paid_db_pending.set_index("order_id")
    assert set(pending.index) == {filled.orders["stuck"], filled.orders["ghost"]}
    assert pending.loc[filled.orders["stuck"], "rejected_signatures"] == 3
    assert pending.loc[filled.orders["ghost"], "db_status"] == "missing"
    assert f["payments.ledger_uncredited[tosspayments]"].value == 1
    assert f["payments.ledger_uncredited[portone]"].value == 0
    assert list(fun.uncredited["order_id"]) == [filled.orders["uncredited"]]
    assert fun.broken_stage is Stage.WEBHOOK
    assert fun.broken_stage.value == "webhook"
    assert "Webhook 단계에서 끊김: PG 승인 2건이 DB에 반영되지 않음 (PortOne)" in fun.diagnosis
    portone = fun.stages[fun.stages["provider"] == "portone"].set_index("stage")
    assert portone.loc["confirm", "stuck_after"] == 1  # the stuck purchase, seen from the cohort
    toss = fun.stages[fun.stages["provider"] == "tosspayments"].set_index("stage")
    assert toss.loc["confirm", "failed"] == 1
    assert toss.loc["webhook", "stuck_after"] == 1
    assert set(fun.lags["transition"]) >= {"checkout→confirm", "paid→credit"}
    assert fun.lag_histogram["n"].sum() == fun.lags["n"].sum()
    # The uncredited Toss purchase counts in its lag with its age so far (a lower bound).
    toss_lag = fun.ledger_lag.set_index("provider").loc["tosspayments"]
    assert toss_lag["lag_p95_s"] >= 24 * 60


def test_idempotency_finds_the_duplicate_the_conflicts_and_the_double_credit(filled):
    with db.read_only(filled.reader, "payments") as conn:
        idem = payments.idempotency(conn, filled.window)
    f = by_key(idem.findings)
    assert f["payments.duplicate_webhook_processing"].value == 1
    assert list(idem.duplicate_webhooks["webhook_id"]) == ["msg_dup_01"]
    assert f["payments.idempotency_conflicts"].value == 3  # one 409 + both purchases sharing a key
    assert set(idem.conflicts["kind"]) == {"key_reused", "shared_purchase_key"}
    assert f["payments.double_credit"].value == 1
    assert f["payments.double_credit"].severity is Severity.P0
    assert list(idem.double_credits["order_id"]) == [filled.orders["double"]]
    assert idem.extra_dt == 1100


def test_reconcile_types_every_planted_mismatch(filled):
    with db.read_only(filled.reader, "payments") as conn:
        rec = payments.reconcile(conn, filled.window)
    got = {(r.mismatch_type, r.order_id) for r in rec.items.itertuples()}
    assert got == {
        ("missing_in_db", filled.orders["ghost"]),
        ("missing_in_pg", filled.orders["nopg"]),
        ("amount_mismatch", filled.orders["amount"]),
        ("status_mismatch", filled.orders["stuck"]),
        ("not_credited", filled.orders["uncredited"]),
        ("credit_amount_mismatch", filled.orders["wrongcredit"]),
        ("double_credit", filled.orders["double"]),
        ("refund_not_clawed_back", filled.orders["refund"]),
    }
    f = {x.check: x for x in rec.findings}
    assert all(x.value == 1 for x in rec.findings)
    assert f["payments.recon_missing_in_db"].severity is Severity.P0
    assert f["payments.refund_not_clawed_back"].subject == rec.subject
    refund = rec.items[rec.items["mismatch_type"] == "refund_not_clawed_back"].iloc[0]
    assert refund["expected_dt"] == 1100 and refund["ledger_dt"] == 0
    amount = rec.items[rec.items["mismatch_type"] == "amount_mismatch"].iloc[0]
    assert (amount["pg_amount_krw"], amount["db_amount_krw"]) == (10000, 11000)
    portone = rec.totals.set_index("provider").loc["portone"]
    # PG: 10 healthy + double + amount(10 000) + wrongcredit + refund + partial + stuck + ghost(5 500)
    assert portone["pg_approved_krw"] == 11000 * 15 + 10000 + 5500
    assert portone["pg_cancelled_krw"] == 11000
    # PG − DB: the ghost approval and the stuck one are only at the PG, the no-PG purchase only in
    # the DB, the PG took 1 000 KRW less for the amount mismatch, and the partial refund is not
    # imported from the PG yet.
    assert rec.summary.difference_krw == 5500 + 11000 - 11000 - 1000 + 5500
    assert rec.summary.credited_dt - rec.summary.expected_dt == 1100 - 1100 - 600  # double, uncredited, short
    assert rec.uncovered_providers == ()


def _portone_export(filled: Filled, folder: Path) -> Path:
    """A PortOne CSV export listing the ten healthy payments only."""
    path = folder / "portone.csv"
    lines = ["거래일시,결제건 ID(paymentId),거래 ID(transactionId),상태,결제금액"]
    for i in range(10):
        lines.append(
            f'{filled.now.astimezone().strftime("%Y-%m-%d %H:%M:%S%z")},pay_ok_{i:02d},tx{i},결제완료,"11,000"'
        )
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def test_reconcile_with_an_export_file_uses_the_file_not_the_table(filled, tmp_path):
    export = payments.load_pg_export(_portone_export(filled, tmp_path))
    period = Window(filled.now - timedelta(minutes=45), filled.now + timedelta(minutes=5))
    with db.read_only(filled.reader, "payments") as conn:
        rec = payments.reconcile(conn, period, export)
    assert rec.source == "export:portone.csv"
    assert rec.uncovered_providers == ("tosspayments",)
    missing = set(rec.items.loc[rec.items["mismatch_type"] == "missing_in_pg", "order_id"])
    # Paid PortOne purchases in the period that the file does not list.
    assert missing == {filled.orders[k] for k in ("double", "amount", "nopg", "wrongcredit", "partial")}
    assert "missing_in_db" not in set(rec.items["mismatch_type"])  # the ghost order is only in the table
    portone = rec.totals.set_index("provider").loc["portone"]
    assert portone["pg_approved_krw"] == 110000


BEFORE = Path(__file__).resolve().parent / "fixtures" / "queries_before"


def _same_rows(conn, name: str, params: dict[str, object]) -> int:
    """The query as it is and as it was before its restructuring (for speed) give the same rows."""
    import pandas as pd
    import sqlalchemy as sa

    now, before = queries.get(f"payments.{name}"), (BEFORE / f"{name}.sql").read_text(encoding="utf-8")
    frames = []
    for sql in (now.sql, queries.parse("payments", f"{name}.sql", before).sql):
        result = conn.execute(sa.text(sql), params)
        frames.append(pd.DataFrame(result.fetchall(), columns=list(result.keys())))
    pd.testing.assert_frame_equal(frames[0], frames[1])
    return len(frames[0])


@pytest.mark.parametrize("name", sorted(p.stem for p in BEFORE.glob("*.sql")))
def test_restructured_queries_answer_exactly_as_before(name, filled, seeded, tmp_path):
    from opslib.payments.pg_export import empty_params

    export = payments.load_pg_export(_portone_export(filled, tmp_path))
    day = Window(filled.now - timedelta(days=1), filled.now + timedelta(minutes=5))
    cases = [
        (filled.reader, filled.window, empty_params(), False),
        (filled.reader, day, empty_params(), False),
        (filled.reader, filled.window, export.sql_params(), True),
    ]
    for scenario in ("amount_mismatch", "refund_not_clawed_back"):
        s = seeded(scenario)
        for period in (
            Window(s.as_of - timedelta(hours=1), s.as_of),
            timewindow.kst_day(timewindow.last_business_day(s.as_of)),
        ):
            cases.append((s.db.reader, period, empty_params(), False))
    counted = []
    for url, period, arrays, use_export in cases:
        with db.read_only(url, "payments") as conn:
            params = {**period.params(), "use_export": use_export, **arrays, "grace": GRACE}
            wanted = queries.get(f"payments.{name}").bound_names()
            counted.append(_same_rows(conn, name, {k: v for k, v in params.items() if k in wanted}))
    # not a comparison of empty answers: the hand-filled window holds every mismatch type
    assert counted[0] >= 2 and all(counted[1:3])


def test_signature_triage_ties_the_failures_to_the_deploy(filled):
    with db.read_only(filled.reader, "payments") as conn:
        sig = payments.signatures(conn, filled.window)
    assert sig.coincides is True
    assert sig.deployment is not None and sig.deployment.version == "v42"
    assert sig.onset_at == filled.now - timedelta(minutes=28)
    assert "v42" in sig.sentence and "겹침" in sig.sentence
    assert int(sig.reasons["failures"].sum()) == 3


def test_verify_delivery_matches_only_with_the_right_secret(filled, monkeypatch):
    with db.read_only(filled.reader, "payments") as conn:
        monkeypatch.setenv("PORTONE_WEBHOOK_SECRET", SECRET)
        good = payments.verify_delivery(conn, filled.signed_delivery)
        monkeypatch.setenv("PORTONE_WEBHOOK_SECRET", OTHER_SECRET)
        bad = payments.verify_delivery(conn, filled.signed_delivery)
        monkeypatch.delenv("PORTONE_WEBHOOK_SECRET")
        unset = payments.verify_delivery(conn, filled.signed_delivery)
        monkeypatch.setenv("PORTONE_WEBHOOK_SECRET", SECRET)
        latest_failed = payments.verify_delivery(conn)  # no id: the latest rejected delivery
    assert good.match is True and good.delivery_id == filled.signed_delivery
    assert bad.match is False
    assert unset.match is None and "PORTONE_WEBHOOK_SECRET" in unset.reason
    assert latest_failed.stored_valid is False and latest_failed.match is None  # it stored no signature headers
    assert good.webhook_id == "msg_sign…"
    for result in (good, bad, unset, latest_failed):
        text = repr(result) + str(result.__dict__)
        assert SECRET not in text and SECRET.removeprefix("whsec_") not in text
        assert OTHER_SECRET.removeprefix("whsec_") not in text


def test_refunds_open_and_stuck(filled):
    with db.read_only(filled.reader, "payments") as conn:
        ref = payments.open_refunds(conn, filled.now)
    f = ref.findings[0]
    assert f.check == "payments.refunds_stuck" and f.value == 1 and f.severity is Severity.P3
    stages = ref.by_stage.set_index("stuck_at")
    assert stages.loc["awaiting_approval", "open"] == 1 and stages.loc["awaiting_approval", "over_24h"] == 1
    assert stages.loc["pg_cancel_pending", "open"] == 1 and stages.loc["pg_cancel_pending", "over_24h"] == 0


def test_exit_condition_is_not_met_while_a_credit_is_missing(filled):
    with db.read_only(filled.reader, "payments") as conn:
        ex = payments.exit_condition(conn, filled.window.until, hold_minutes=30, lookback_minutes=65)
    assert not ex.met
    assert ex.sentence.startswith("미충족")
    backlog = [c for c in ex.failing if c.condition is payments.Condition.LEDGER_BACKLOG]
    assert backlog and backlog[0].subject == "tosspayments"
    # The Toss purchase was paid 25 min before "now": stale from 20 min before now on.
    assert backlog[0].since <= filled.now - timedelta(minutes=15)
    assert len(ex.buckets) == 13 and str(ex.buckets["bucket_start"].dt.tz) == "Asia/Seoul"


def test_impact_counts_users_orders_money_and_dt(filled):
    with db.read_only(filled.reader, "payments") as conn:
        imp = payments.impact(conn, filled.window)
    causes = imp.by_cause.set_index("cause")
    assert causes.loc["stuck_at_webhook", "orders"] == 2  # the stuck purchase and the order missing in the DB
    assert causes.loc["stuck_at_webhook", "users"] == 1
    assert causes.loc["not_credited", "dt_not_credited"] == 1100
    assert causes.loc["double_credit", "dt_credited_twice"] == 1100
    assert causes.loc["amount_mismatch", "orders"] == 1
    assert causes.loc["refund_not_clawed_back", "dt_not_clawed_back"] == 1100
    assert causes.loc["failed_at_pg", "orders"] == 1
    assert imp.excluded == (payments.Cause.FAILED_AT_PG,)  # 1 decline of 2 decisions: too few to call
    assert imp.totals.users == 5 and imp.totals.orders == 6
    assert imp.totals.dt_not_credited == 2200  # the stuck purchase's DT and the uncredited one's
    assert imp.totals.dt_credited_twice == 1100
    assert imp.totals.amount_krw == 11000 * 5 + 5500
    assert imp.totals.first_at is not None and str(imp.totals.first_at.tzinfo) == "Asia/Seoul"
    assert "영향 사용자 **5명**" in imp.markdown


def test_steps_started_together_share_their_identical_queries(filled):
    """impact asks what funnel and the window's reconciliation asked: prefetched together, each
    question is run once and both steps get the same answer; a step measured again runs anew."""
    from opslib import page

    book = page.Page("payments", "demo", filled.window, filled.reader)
    book.prefetch(payments.funnel, filled.window)
    book.prefetch(payments.reconcile, filled.window)
    book.prefetch(payments.impact, filled.window)
    steps = [book.measure(payments.funnel, filled.window), book.measure(payments.reconcile, filled.window)]
    shared = book.measure(payments.impact, filled.window)
    with db.read_only(filled.reader, "payments") as conn:
        alone = payments.impact(conn, filled.window)
    assert shared.markdown == alone.markdown and shared.totals == alone.totals
    assert shared.by_cause.equals(alone.by_cause)
    # each of impact's queries that funnel or reconcile also ran was measured once, by one of them
    runs: dict[str, list[float]] = {}
    for t in [t for s in (*steps, shared) for t in s.timings]:
        runs.setdefault(t.name, []).append(t.seconds)
    for name in ("payments.pg_paid_db_pending", "payments.ledger_uncredited", "payments.recon_items"):
        assert len(runs[name]) == 2 and sorted(runs[name])[0] == 0.0 < sorted(runs[name])[1], (name, runs[name])
    again = book.measure(payments.impact, filled.window)  # not prefetched: measured anew
    assert all(t.seconds > 0 for t in again.timings)


def test_a_failing_query_is_an_error_finding_and_the_page_goes_on(filled):
    """A role that cannot read logs.*: that check is ERROR, the queries after it still answer."""
    with psycopg.connect(filled.admin, autocommit=True) as conn:
        conn.execute("DROP ROLE IF EXISTS pay_nologs")
        conn.execute("CREATE ROLE pay_nologs LOGIN BYPASSRLS")
        conn.execute("GRANT USAGE ON SCHEMA public TO pay_nologs")
        conn.execute("GRANT SELECT ON ALL TABLES IN SCHEMA public TO pay_nologs")
    try:
        with db.read_only(embedded.url(filled.name, user="pay_nologs"), "payments") as conn:
            d = payments.detect(conn, filled.window)
    finally:
        with psycopg.connect(filled.admin, autocommit=True) as conn:
            conn.execute("DROP OWNED BY pay_nologs")
            conn.execute("DROP ROLE pay_nologs")
    f = by_key(d.findings)
    assert f["payments.webhook_function_5xx"].outcome is Outcome.ERROR
    assert "permission denied" in f["payments.webhook_function_5xx"].detail
    # Queries after the failed one ran in the same (rolled back to a savepoint) transaction.
    assert f["payments.negative_balance"].value == 2
    assert f["payments.reconciliation_items_open"].value == 1
    timing = {t.name: t for t in d.timings}
    assert timing["payments.webhook_function_status"].error and not timing["payments.negative_balances"].error


# --- EXPLAIN: which queries follow the window, which scan a table ---------------------------

# A month of traffic written with set-based SQL (triggers off: the rows are consistent by
# construction), big enough for the planner to prefer indexes where the query allows it.
VOLUME_SQL = """
INSERT INTO public.dt_packages (id, sku, name, dt_amount, bonus_dt, price_krw)
VALUES ('00000000-0000-0000-0000-00000000d700', 'dt_vol', 'DT vol', 1000, 100, 11000);
INSERT INTO public.wallet_accounts (id, kind, user_id, balance_dt)
SELECT md5('acc' || g)::uuid, 'user', md5('user' || g)::uuid, 1000 FROM generate_series(1, 10000) g;
INSERT INTO public.dt_purchases (id, user_id, package_id, provider, order_id, amount_krw, dt_amount, bonus_dt,
  status, idempotency_key, failure_code, requested_at, created_at, updated_at, paid_at, wallet_tx_id)
SELECT md5('p' || g)::uuid, md5('user' || (g % 10000 + 1))::uuid, '00000000-0000-0000-0000-00000000d700',
       CASE WHEN g % 3 = 0 THEN 'tosspayments' ELSE 'portone' END, 'ord_' || lpad(g::text, 8, '0'), 11000, 1000,
       100, CASE WHEN g % 20 = 0 THEN 'failed' WHEN g % 20 = 1 THEN 'pending' ELSE 'paid' END,
       'idem-key-' || g, CASE WHEN g % 20 = 0 THEN 'REJECT' END,
       t, t, t, CASE WHEN g % 20 > 1 THEN t + interval '30 seconds' END,
       CASE WHEN g % 20 > 1 THEN md5('tx' || g)::uuid END
FROM generate_series(1, 60000) g,
     LATERAL (SELECT now() - (30 * 86400.0 * (1 - g::float8 / 60000)) * interval '1 second' AS t) x;
INSERT INTO public.wallet_transactions (tx_id, tx_type, idempotency_key, reference_type, reference_id, created_at)
SELECT md5('tx' || g)::uuid, 'purchase_credit', 'dt_purchase:' || md5('p' || g)::uuid || ':credit',
       'dt_purchase', md5('p' || g)::uuid, p.paid_at + interval '20 seconds'
FROM generate_series(1, 60000) g JOIN public.dt_purchases p ON p.id = md5('p' || g)::uuid
WHERE g % 20 > 1;
INSERT INTO public.wallet_transactions (tx_id, tx_type, idempotency_key, reference_type, reference_id, created_at)
SELECT md5('spend' || g)::uuid, 'spend', 'spend:' || g, 'message', md5('m' || g)::uuid,
       now() - (30 * 86400.0 * (1 - g::float8 / 60000)) * interval '1 second'
FROM generate_series(1, 60000) g;
INSERT INTO public.wallet_ledger (tx_id, account_id, user_id, amount_dt, balance_after, entry_type,
  reference_type, reference_id, created_at)
SELECT t.tx_id, a.id, a.user_id, 1100, 1000, t.tx_type, t.reference_type, t.reference_id, t.created_at
FROM public.wallet_transactions t
JOIN public.dt_purchases p ON t.reference_type = 'dt_purchase' AND p.id = t.reference_id
JOIN public.wallet_accounts a ON a.user_id = p.user_id;
INSERT INTO public.wallet_ledger (tx_id, account_id, user_id, amount_dt, balance_after, entry_type,
  reference_type, reference_id, created_at)
SELECT t.tx_id, md5('acc' || (abs(hashtext(t.idempotency_key)) % 10000 + 1))::uuid,
       md5('user' || (abs(hashtext(t.idempotency_key)) % 10000 + 1))::uuid, -100, 1000, t.tx_type,
       t.reference_type, t.reference_id, t.created_at
FROM public.wallet_transactions t WHERE t.tx_type = 'spend';
INSERT INTO public.wallet_ledger (tx_id, account_id, amount_dt, entry_type, reference_type, reference_id,
  created_at)
SELECT t.tx_id,
       (SELECT id FROM public.wallet_accounts
         WHERE code = CASE WHEN t.tx_type = 'spend' THEN 'platform_fee' ELSE 'dt_issuance' END),
       CASE WHEN t.tx_type = 'spend' THEN 100 ELSE -1100 END, t.tx_type, t.reference_type, t.reference_id,
       t.created_at
FROM public.wallet_transactions t;
INSERT INTO public.pg_transactions (provider, source, transaction_key, order_id, tx_kind, status, amount,
  transaction_at, raw, fetched_at)
SELECT p.provider, CASE WHEN p.provider = 'portone' THEN 'portone_payments_api' ELSE 'toss_transactions_api' END,
       'k_' || p.order_id, p.order_id, 'approval', 'PAID', 11000, p.paid_at, '{}', p.paid_at + interval '1 hour'
FROM public.dt_purchases p WHERE p.paid_at IS NOT NULL;
INSERT INTO public.payment_webhook_logs (provider, webhook_id, event_type, signature_valid, order_id,
  provider_status, purchase_id, http_status, processing_status, payload, received_at, processed_at)
SELECT p.provider, CASE WHEN p.provider = 'portone' THEN 'msg_' || p.order_id END,
       CASE WHEN p.provider = 'portone' THEN 'Transaction.Paid' ELSE 'PAYMENT_STATUS_CHANGED' END,
       CASE WHEN p.provider = 'portone' THEN true END, p.order_id, 'PAID', p.id, 200, 'processed', '{}',
       p.paid_at + interval '5 seconds', p.paid_at + interval '6 seconds'
FROM public.dt_purchases p WHERE p.paid_at IS NOT NULL;
INSERT INTO logs.function_edge_logs (id, "timestamp", function_name, method, status_code, deployment_version)
SELECT md5('f' || g)::uuid, now() - (30 * 86400.0 * (1 - g::float8 / 120000)) * interval '1 second',
       CASE WHEN g % 2 = 0 THEN 'payment-webhook' ELSE 'scheduled-dispatcher' END, 'POST', 200, 'v1'
FROM generate_series(1, 120000) g;
INSERT INTO public.refunds (purchase_id, user_id, provider, kind, status, amount_krw, dt_clawback, reason,
  idempotency_key, requested_at, completed_at, wallet_tx_id)
SELECT p.id, p.user_id, p.provider, 'refund', 'succeeded', 11000, 0, 'vol', 'refund-' || p.order_id,
       p.paid_at + interval '1 day', p.paid_at + interval '1 day', NULL
FROM public.dt_purchases p WHERE p.paid_at IS NOT NULL AND p.order_id LIKE '%77';
INSERT INTO public.idempotency_keys (scope, key, status, response_status, created_at, completed_at)
SELECT 'purchase.confirm', 'idemkey-' || g, 'completed', 200, x.t, x.t
FROM generate_series(1, 30000) g,
     LATERAL (SELECT now() - (15 * 86400.0 * (1 - g::float8 / 30000)) * interval '1 second' AS t) x;
INSERT INTO public.reconciliation_runs (provider, period_start, period_end, status, started_at)
SELECT 'portone', now() - g * interval '1 day', now() - (g - 1) * interval '1 day', 'matched',
       now() - (g - 1) * interval '1 day'
FROM generate_series(1, 30) g;
"""

# Big tables a query may scan whole, and why (each is documented in the query's header).
ALLOWED_SEQ_SCANS: dict[str, set[str]] = {
    "funnel_stages": {"dt_purchases"},  # no created_at index in the contract
    "funnel_lags": {"dt_purchases"},
    "failed_purchases": {"dt_purchases"},
    "idempotency_conflicts": {"dt_purchases", "idempotency_keys"},  # no time index; keys kept 15 days
    "negative_balances": {"wallet_accounts"},  # one probe per user account, by design
    "recon_items": {"refunds"},  # no completed_at index; ~1 % of purchases
    "recon_totals": {"refunds"},
    "open_refunds": {"refunds"},
}
SMALL = {"reconciliation_runs", "reconciliation_items", "dt_packages"}


@pytest.fixture(scope="module")
def volume() -> Iterator[str]:
    name = f"payvol_{uuid.uuid4().hex[:8]}"
    embedded.create_contract_database(name, replace=True, recommended_indexes=False)  # exactly the contract
    with psycopg.connect(embedded.libpq_url(name), autocommit=True) as conn:
        conn.execute("SET session_replication_role = replica")
        conn.execute(VOLUME_SQL)  # type: ignore[arg-type]  # a constant: no parameters at all
        conn.execute("SET session_replication_role = origin")
        conn.execute("ANALYZE")
    yield name
    with psycopg.connect(embedded.libpq_url("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def explain_parameters(until: datetime) -> dict[str, dict[str, object]]:
    """What the page passes: a 1-hour window, 5-minute buckets, a one-day reconciliation."""
    since = until - timedelta(hours=1)
    window = {"since": since, "until": until}
    arrays = {
        f"x_{k}": []
        for k in ("provider", "order_id", "transaction_key", "tx_kind", "status", "amount", "transaction_at")
    }
    day = {"since": until - timedelta(days=1), "until": until, "use_export": False, **arrays}
    five = timedelta(minutes=5)
    return {
        "webhook_success_buckets": {**window, "bucket": five},
        "signature_failure_reasons": window,
        "webhook_function_status": {**window, "bucket": five},
        "webhook_deployments": {"since": since - timedelta(hours=3), "until": until},
        "reconciliation_runs_recent": {"since": until - timedelta(days=3), "until": until},
        "reconciliation_items_open": {"until": until},
        "negative_balances": {},
        "funnel_stages": {**window, "bucket": until - since, "grace": GRACE},
        "funnel_lags": window,
        "pg_paid_db_pending": {**window, "grace": GRACE, "open_since": until - timedelta(days=1)},
        "ledger_credit_lag": {**window, "bucket": until - since, "grace": GRACE},
        "ledger_uncredited": {**window, "grace": GRACE, "open_since": until - timedelta(days=1)},
        "ledger_backlog_buckets": {
            "since": until - timedelta(hours=3),
            "until": until,
            "bucket": five,
            "grace": GRACE,
            "paid_since": until - timedelta(hours=27),
        },
        "pg_pending_buckets": {
            "since": until - timedelta(hours=3),
            "until": until,
            "bucket": five,
            "grace": GRACE,
            "approved_since": until - timedelta(hours=27),
        },
        "delayed_payments": {**window, "grace": GRACE},
        "duplicate_webhook_processing": window,
        "idempotency_conflicts": window,
        "double_credits": window,
        "webhook_delivery": {"delivery_id": 1},
        "latest_signed_delivery": {},
        "recon_items": {**day, "grace": GRACE},
        "recon_totals": day,
        "open_refunds": {"now": until},
        "failed_purchases": window,
    }


def _scans(plan: dict[str, object]) -> Iterator[tuple[str, str | None, str | None, str]]:
    cond = str(plan.get("Index Cond", ""))
    yield str(plan.get("Node Type")), plan.get("Relation Name"), plan.get("Index Name"), cond  # type: ignore[misc]
    for child in plan.get("Plans", []) or []:  # type: ignore[union-attr]
        yield from _scans(child)


# An index whose leading column the query never constrains is read whole (or skip-scanned on 18).
LEADING_COLUMN = {"dt_purchases_user_created_idx": "user_id"}


def plan_class(nodes: list[tuple[str, str | None, str | None, str]]) -> tuple[str, set[str]]:
    seq = {rel for kind, rel, _, _ in nodes if kind == "Seq Scan" and rel} - SMALL
    whole = {f"{idx}" for _, _, idx, cond in nodes if idx in LEADING_COLUMN and LEADING_COLUMN[idx] not in cond}
    indexes = {idx for _, _, idx, _ in nodes if idx}
    if seq:
        return "seq scan: " + ", ".join(sorted(seq)), seq
    if whole:
        return "full index scan: " + ", ".join(sorted(whole)), {"dt_purchases"}
    if indexes:
        return "index", set()
    return "small tables only", set()


def test_explain_plan_class_of_every_payments_query(volume, artifacts):
    import time

    import sqlalchemy as sa

    from opslib.explain import classify

    until = datetime.now(UTC)
    params = explain_parameters(until)
    assert set(params) == {q.split(".", 1)[1] for q in PAYMENT_QUERIES}, "a payments query has no EXPLAIN parameters"
    report = []
    with db.read_only(embedded.url(volume, user=embedded.READER_ROLE), "payments") as conn:
        for name, values in params.items():
            q = queries.get(f"payments.{name}")
            plan = conn.execute(sa.text("EXPLAIN (FORMAT JSON) " + q.sql), values).scalar()[0]
            nodes = list(_scans(plan["Plan"]))
            label, seq = plan_class(nodes)
            indexes = sorted({idx for _, _, idx, _ in nodes if idx})
            started = time.perf_counter()
            rows = len(queries.run(conn, f"payments.{name}", values).frame)
            ms = (time.perf_counter() - started) * 1000
            report.append(
                {
                    "query": f"payments.{name}",
                    "plan_class": label,
                    "opslib_explain_class": classify(f"payments.{name}", plan).plan_class,
                    "seq_scanned": sorted(seq),
                    "indexes": indexes,
                    "ms_on_test_volume": round(ms, 1),
                    "rows": rows,
                }
            )
            unexpected = seq - ALLOWED_SEQ_SCANS.get(name, set())
            assert not unexpected, f"payments.{name} scans {unexpected} whole: {indexes}"
    (artifacts / "payments-plans.json").write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    lines = ["| query | plan class | indexes | ms |", "| --- | --- | --- | ---: |"]
    lines += [
        f"| {r['query']} | {r['plan_class']} | {', '.join(r['indexes'])} | {r['ms_on_test_volume']} |" for r in report
    ]
    (artifacts / "payments-plans.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_findings_are_strict_json_and_their_evidence_is_masked(filled):
    import re

    with db.read_only(filled.reader, "payments") as conn:
        results = [
            payments.detect(conn, filled.window),
            payments.funnel(conn, filled.window),
            payments.idempotency(conn, filled.window),
            payments.reconcile(conn, filled.window),
            payments.open_refunds(conn, filled.now),
        ]
    findings = [f for r in results for f in r.findings]
    for f in findings:
        json.dumps(f.to_json(), allow_nan=False, ensure_ascii=False)
        text = json.dumps(list(f.evidence), allow_nan=False, ensure_ascii=False)
        assert not re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", text), f.check
        assert "@example.com" not in text
    assert any(f.evidence for f in findings)


# The seeded drill matrix runs through the notebook itself: tests/test_payments_page.py.


# --- the whole page, executed by papermill, on the hand-filled database ----------------------


def test_the_page_on_the_hand_filled_database(filled, tmp_path):
    """The notebook, not only its steps: no seeder data, no demo as_of, the contract alone."""
    from opslib import runner
    from opslib.results import Verdict

    minutes = int((filled.window.until - filled.window.since).total_seconds() // 60)
    params = {"until": filled.window.until.isoformat(), "window_minutes": minutes}
    result = runner.run("payments", params, database_url=filled.reader, out_dir=tmp_path, wi_id="WI-HAND")
    assert result.error is None, result.error
    assert not [f.key for f in result.findings if f.outcome is Outcome.ERROR]
    found = by_key(result.findings)
    assert found["payments.webhook_success_rate[portone]"].outcome is Outcome.CRITICAL
    assert found["payments.negative_balance"].severity is Severity.P0
    assert found["payments.pg_paid_db_pending[portone]"].value == 2
    assert result.verdict is Verdict.FAIL and result.exit_code == runner.ExitCode.FAIL
    data = json.loads((result.folder / "result.json").read_text())
    assert data["facts"]["broken_stage"] == Stage.WEBHOOK.value
    assert not [n for n in data["notes"] if "never measured" in n]


# --- hand-built by SQL through the contract's triggers (no Writer, no seeder) ---------------

FAN = "11111111-1111-1111-1111-111111111111"
PACKAGE = "22222222-2222-2222-2222-222222222222"
PRELUDE = f"""
INSERT INTO auth.users (id, email) VALUES ('{FAN}', 'fan1@example.com');
INSERT INTO public.dt_packages (id, sku, name, dt_amount, bonus_dt, price_krw)
VALUES ('{PACKAGE}', 'dt_1000', 'DT 1000', 1000, 100, 11000);
"""


def build(contract_db, sql: str) -> datetime:
    """Run the SQL as an app would (triggers on); return an `until` just after it."""
    with psycopg.connect(contract_db.admin, autocommit=True) as conn:
        conn.execute(PRELUDE + sql)  # type: ignore[arg-type]  # test SQL
        row = conn.execute("SELECT now() + interval '1 minute'").fetchone()
    assert row is not None
    return row[0]


def test_a_quiet_hour_outage_is_judged_on_its_failures(contract_db):
    """9 of 9 webhooks rejected and 8 of 8 checkouts declined: under min_sample, still P0."""
    until = build(
        contract_db,
        f"""
INSERT INTO public.payment_webhook_logs (provider, webhook_id, event_type, signature_valid, signature_error,
       http_status, processing_status, payload, received_at)
SELECT 'portone', 'msg_' || g, 'Transaction.Paid', false, 'NO_MATCHING_SIGNATURE', 401, 'failed',
       '{{"type":"Transaction.Paid"}}', now() - g * interval '4 minutes' FROM generate_series(1, 9) g;
INSERT INTO public.dt_purchases (user_id, package_id, provider, order_id, amount_krw, dt_amount, bonus_dt, status,
       idempotency_key, failure_code, created_at)
SELECT '{FAN}', '{PACKAGE}', 'tosspayments', 'toss_decl_' || g, 11000, 1000, 100, 'failed', 'idem-decl-' || g,
       'REJECT_CARD_COMPANY', now() - g * interval '3 minutes' FROM generate_series(1, 8) g;
""",
    )
    window = Window(until - timedelta(minutes=60), until)
    with db.read_only(contract_db.reader, "payments") as conn:
        found = by_key(payments.detect(conn, window).findings + payments.funnel(conn, window).findings)
        exit_check = payments.exit_condition(conn, until, 30)
    for key in ("payments.webhook_success_rate[portone]", "payments.webhook_signature_failures[portone]"):
        assert (found[key].outcome, found[key].severity) == (Outcome.CRITICAL, Severity.P0), found[key]
        assert "실패 9건으로 판정" in found[key].detail
    declines = found["payments.checkout_failure_rate[tosspayments]"]
    assert (declines.outcome, declines.value) == (Outcome.CRITICAL, 100.0)
    assert not exit_check.met and "최근 30분 합계" in exit_check.sentence


def test_approvals_the_webhook_never_reported_hold_the_exit_back(contract_db):
    """The PG approved 105 payments in the last 35 minutes, no webhook came: no delivery failed."""
    until = build(
        contract_db,
        f"""
INSERT INTO public.dt_purchases (user_id, package_id, provider, order_id, amount_krw, dt_amount, bonus_dt, status,
       idempotency_key, created_at, paid_at)
SELECT '{FAN}', '{PACKAGE}', 'portone', 'pay_nohook_' || g, 11000, 1000, 100,
       CASE WHEN g > 105 THEN 'paid' ELSE 'pending' END, 'idem-key-' || g,
       now() - g * interval '20 seconds', CASE WHEN g > 105 THEN now() - g * interval '20 seconds' END
FROM generate_series(1, 180) g;
INSERT INTO public.pg_transactions (provider, source, transaction_key, order_id, tx_kind, status, amount,
       transaction_at, raw)
SELECT 'portone', 'portone_payments_api', 'tx_' || g, 'pay_nohook_' || g, 'approval', 'PAID', 11000,
       now() - g * interval '20 seconds', '{{}}' FROM generate_series(1, 180) g;
INSERT INTO public.wallet_transactions (tx_type, idempotency_key, reference_type, reference_id, created_at)
SELECT 'purchase_credit', 'dt_purchase:' || id || ':credit', 'dt_purchase', id, paid_at + interval '15 seconds'
FROM public.dt_purchases WHERE status = 'paid';
INSERT INTO public.wallet_ledger (tx_id, account_id, amount_dt)
SELECT t.tx_id, a.id, e.amt FROM public.wallet_transactions t
CROSS JOIN LATERAL (VALUES ('user', 1100), ('dt_issuance', -1000), ('promo_bonus', -100)) e(acc, amt)
JOIN public.wallet_accounts a ON (e.acc = 'user' AND a.user_id = '{FAN}') OR a.code = e.acc;
UPDATE public.dt_purchases p SET wallet_tx_id = t.tx_id FROM public.wallet_transactions t WHERE t.reference_id = p.id;
""",
    )
    with db.read_only(contract_db.reader, "payments") as conn:
        exit_check = payments.exit_condition(conn, until, 30)
    assert not exit_check.met
    stuck = [f for f in exit_check.failing if f.condition is payments.Condition.PG_PENDING]
    assert [(f.subject, f.value) for f in stuck] == [("portone", 94.0)]  # 105 minus the 11 within the grace
    assert exit_check.buckets["pg_pending"].iloc[-1] == 94


def test_a_clawback_posted_as_a_reversal_under_the_documented_key_counts(contract_db):
    """wallet_post('refund:<id>:clawback', 'reversal', ...) is a clawback: no refund_not_clawed_back."""
    purchase, refund = "33333333-3333-3333-3333-333333333333", "44444444-4444-4444-4444-444444444444"
    until = build(
        contract_db,
        f"""
INSERT INTO public.dt_purchases (id, user_id, package_id, provider, order_id, amount_krw, dt_amount, bonus_dt, status,
       idempotency_key, created_at, paid_at)
VALUES ('{purchase}', '{FAN}', '{PACKAGE}', 'portone', 'pay_rf_1', 11000, 1000, 100, 'paid', 'idem-rf-1',
        now() - interval '50 minutes', now() - interval '50 minutes');
SELECT public.credit_dt_purchase('{purchase}');
INSERT INTO public.pg_transactions (provider, source, transaction_key, order_id, tx_kind, status, amount,
       transaction_at, raw) VALUES
 ('portone', 'portone_payments_api', 'tx_rf_1', 'pay_rf_1', 'approval', 'PAID', 11000,
  now() - interval '50 minutes', '{{}}'),
 ('portone', 'portone_payments_api', 'cx_rf_1', 'pay_rf_1', 'cancel', 'CANCELLED', 11000,
  now() - interval '10 minutes', '{{}}');
INSERT INTO public.refunds (id, purchase_id, user_id, provider, kind, status, amount_krw, dt_clawback, reason,
       idempotency_key, provider_cancellation_id, requested_at, completed_at)
VALUES ('{refund}', '{purchase}', '{FAN}', 'portone', 'refund', 'succeeded', 11000, 1100, '고객 요청', 'rf-1',
        'cx_rf_1', now() - interval '12 minutes', now() - interval '10 minutes');
SELECT public.wallet_post('refund:{refund}:clawback', 'reversal',
  '[{{"user_id":"{FAN}","amount_dt":-1100}},{{"account_code":"dt_issuance","amount_dt":1000}},
    {{"account_code":"promo_bonus","amount_dt":100}}]', 'refund', '{refund}');
UPDATE public.dt_purchases SET status = 'refunded', refunded_amount_krw = 11000 WHERE order_id = 'pay_rf_1';
""",
    )
    window = Window(until - timedelta(minutes=60), until)
    with db.read_only(contract_db.reader, "payments") as conn:
        found = payments.reconcile(conn, window)
    assert found.items.empty or "refund_not_clawed_back" not in set(found.items["mismatch_type"])
    # the same refund with its clawback removed is flagged: the rule still bites
    with psycopg.connect(contract_db.admin, autocommit=True) as conn:
        conn.execute("SET session_replication_role = replica")  # delete the clawback without the ledger's guards
        conn.execute(
            "DELETE FROM public.wallet_ledger WHERE tx_id IN (SELECT tx_id FROM public.wallet_transactions"
            " WHERE idempotency_key = %s)",
            (f"refund:{refund}:clawback",),
        )
        conn.execute(
            "DELETE FROM public.wallet_transactions WHERE idempotency_key = %s", (f"refund:{refund}:clawback",)
        )
    with db.read_only(contract_db.reader, "payments") as conn:
        flagged = payments.reconcile(conn, window)
    assert list(flagged.items["mismatch_type"]).count("refund_not_clawed_back") == 1


def test_a_key_reuse_answered_in_korean_is_a_conflict(contract_db):
    until = build(
        contract_db,
        """
INSERT INTO public.idempotency_keys (scope, key, request_hash, status, response_body, created_at, completed_at)
VALUES ('purchase.confirm', 'ko-key-1', 'h2', 'failed', '{"message": "이미 사용된 멱등성 키입니다"}',
        now() - interval '10 minutes', now() - interval '10 minutes'),
       ('purchase.confirm', 'ok-key-1', 'h3', 'completed', '{"message": "결제가 완료되었습니다"}',
        now() - interval '9 minutes', now() - interval '9 minutes');
""",
    )
    with db.read_only(contract_db.reader, "payments") as conn:
        found = payments.idempotency(conn, Window(until - timedelta(minutes=60), until))
    # exactly the Korean refusal; the Korean success message is not a conflict
    assert list(found.conflicts["kind"]) == ["key_reused"]


def test_a_double_credit_is_found_by_its_headers_time_not_only_its_ledger_rows(contract_db):
    """Two credit headers written with their own (earlier) times; the ledger rows carry now()."""
    purchase = "55555555-5555-5555-5555-555555555555"
    until = build(
        contract_db,
        f"""
INSERT INTO public.dt_purchases (id, user_id, package_id, provider, order_id, amount_krw, dt_amount, bonus_dt, status,
       idempotency_key, created_at, paid_at)
VALUES ('{purchase}', '{FAN}', '{PACKAGE}', 'portone', 'pay_dbl_1', 11000, 1000, 100, 'paid', 'idem-dbl-1',
        now() - interval '31 minutes', now() - interval '30 minutes');
INSERT INTO public.wallet_transactions (tx_type, idempotency_key, reference_type, reference_id, created_at) VALUES
 ('purchase_credit', 'dt_purchase:{purchase}:credit', 'dt_purchase', '{purchase}', now() - interval '29 minutes'),
 ('purchase_credit', 'webhook:msg_dbl_1:credit', 'dt_purchase', '{purchase}', now() - interval '25 minutes');
INSERT INTO public.wallet_ledger (tx_id, account_id, amount_dt)
SELECT t.tx_id, a.id, e.amt FROM public.wallet_transactions t
CROSS JOIN LATERAL (VALUES ('user', 1100), ('dt_issuance', -1000), ('promo_bonus', -100)) e(acc, amt)
JOIN public.wallet_accounts a ON (e.acc = 'user' AND a.user_id = '{FAN}') OR a.code = e.acc;
""",
    )
    # the window ends before the ledger rows were written (until is now() + 1 minute)
    window = Window(until - timedelta(minutes=61), until - timedelta(minutes=3))
    with db.read_only(contract_db.reader, "payments") as conn:
        found = payments.idempotency(conn, window)
    assert len(found.double_credits) == 1
    assert int(found.double_credits["extra_dt"].iloc[0]) == 1100


def test_a_purchase_cancelled_in_the_db_but_approved_at_the_pg_is_a_status_mismatch(contract_db):
    """The order timed out in our DB (UPDATE: the trigger bumps updated_at), the PG had charged it."""
    until = build(
        contract_db,
        f"""
INSERT INTO public.dt_purchases (user_id, package_id, provider, order_id, amount_krw, dt_amount, bonus_dt, status,
       idempotency_key, created_at)
SELECT '{FAN}', '{PACKAGE}', 'tosspayments', 'toss_cx_' || g, 11000, 1000, 100, 'pending', 'idem-cx-' || g,
       now() - interval '40 minutes' FROM generate_series(1, 4) g;
INSERT INTO public.pg_transactions (provider, source, transaction_key, order_id, tx_kind, status, amount,
       transaction_at, fetched_at, raw)
SELECT 'tosspayments', 'toss_transactions_api', 'tk_cx_' || g, 'toss_cx_' || g, 'approval', 'DONE', 11000,
       now() - interval '30 minutes', now() - interval '20 minutes', '{{}}' FROM generate_series(1, 4) g;
UPDATE public.dt_purchases SET status = 'cancelled', cancelled_at = now() - interval '31 minutes';
""",
    )
    with db.read_only(contract_db.reader, "payments") as conn:
        found = payments.reconcile(conn, Window(until - timedelta(minutes=60), until))
    assert list(found.items["mismatch_type"]) == ["status_mismatch"] * 4


def test_payments_stuck_since_before_the_window_are_still_shown(contract_db):
    """Approved 75 minutes ago, still pending; paid 80 minutes ago, never credited: both owed now."""
    until = build(
        contract_db,
        f"""
INSERT INTO public.dt_purchases (user_id, package_id, provider, order_id, amount_krw, dt_amount, bonus_dt, status,
       idempotency_key, created_at)
SELECT '{FAN}', '{PACKAGE}', 'portone', 'pay_o_' || g, 11000, 1000, 100, 'pending', 'idem-o-' || g,
       now() - interval '76 minutes' FROM generate_series(1, 3) g;
INSERT INTO public.pg_transactions (provider, source, transaction_key, order_id, tx_kind, status, amount,
       transaction_at, raw)
SELECT 'portone', 'portone_payments_api', 'tx_o_' || g, 'pay_o_' || g, 'approval', 'PAID', 11000,
       now() - interval '75 minutes', '{{}}' FROM generate_series(1, 3) g;
INSERT INTO public.dt_purchases (user_id, package_id, provider, order_id, amount_krw, dt_amount, bonus_dt, status,
       idempotency_key, created_at, paid_at)
VALUES ('{FAN}', '{PACKAGE}', 'tosspayments', 'toss_nocredit', 11000, 1000, 100, 'paid', 'idem-nocredit-1',
        now() - interval '81 minutes', now() - interval '80 minutes');
""",
    )
    window = Window(until - timedelta(minutes=60), until)
    with db.read_only(contract_db.reader, "payments") as conn:
        found = payments.funnel(conn, window)
        outside = payments.funnel(conn, Window(until - timedelta(days=2), until - timedelta(days=1)))
    keyed = by_key(found.findings)
    stuck = keyed["payments.pg_paid_db_pending[portone]"]
    assert (stuck.outcome, stuck.severity, stuck.value) == (Outcome.WARN, Severity.P1, 3)
    owed = keyed["payments.ledger_uncredited[tosspayments]"]
    assert (owed.outcome, owed.value) == (Outcome.WARN, 1)
    assert found.broken_stage is Stage.WEBHOOK
    # a window a day earlier does not see them: the lookback ends at its own until
    assert outside.pg_paid_db_pending.empty and outside.uncredited.empty


def test_pg_approvals_imported_without_a_time_are_placed_at_their_import(contract_db):
    """transaction_at is nullable in the contract: such approvals must not vanish from every check."""
    until = build(
        contract_db,
        f"""
INSERT INTO public.dt_purchases (user_id, package_id, provider, order_id, amount_krw, dt_amount, bonus_dt, status,
       idempotency_key, created_at)
SELECT '{FAN}', '{PACKAGE}', 'tosspayments', 'toss_nt_' || g, 11000, 1000, 100, 'pending', 'idem-nt-' || g,
       now() - interval '25 minutes' FROM generate_series(1, 3) g;
INSERT INTO public.pg_transactions (provider, source, transaction_key, order_id, tx_kind, status, amount,
       fetched_at, raw)
SELECT 'tosspayments', 'toss_transactions_api', 'tk_nt_' || g, 'toss_nt_' || g, 'approval', 'DONE', 11000,
       now() - interval '20 minutes', '{{}}' FROM generate_series(1, 3) g;
""",
    )
    window = Window(until - timedelta(minutes=60), until)
    with db.read_only(contract_db.reader, "payments") as conn:
        stuck = by_key(payments.funnel(conn, window).findings)["payments.pg_paid_db_pending[tosspayments]"]
        recon = payments.reconcile(conn, window)
        exit_check = payments.exit_condition(conn, until, 30)
    assert (stuck.outcome, stuck.value) == (Outcome.WARN, 3)
    assert list(recon.items["mismatch_type"]) == ["status_mismatch"] * 3
    assert [f.condition for f in exit_check.failing] == [payments.Condition.PG_PENDING]


def test_a_pg_import_holding_only_a_few_orders_is_named_as_the_likely_cause(contract_db):
    until = build(
        contract_db,
        f"""
INSERT INTO public.dt_purchases (user_id, package_id, provider, order_id, amount_krw, dt_amount, bonus_dt, status,
       idempotency_key, created_at, paid_at)
SELECT '{FAN}', '{PACKAGE}', 'portone', 'pay_pi_' || g, 11000, 1000, 100, 'paid', 'idem-pi-' || g,
       now() - g * interval '5 minutes', now() - g * interval '5 minutes' FROM generate_series(1, 6) g;
INSERT INTO public.pg_transactions (provider, source, transaction_key, order_id, tx_kind, status, amount,
       transaction_at, raw)
VALUES ('portone', 'portone_payments_api', 'tx_pi_1', 'pay_pi_1', 'approval', 'PAID', 11000,
        now() - interval '5 minutes', '{{}}');
""",
    )
    with db.read_only(contract_db.reader, "payments") as conn:
        found = payments.reconcile(conn, Window(until - timedelta(minutes=60), until))
    missing = by_key(found.findings)
    finding = next(f for k, f in missing.items() if k.startswith("payments.recon_missing_in_pg"))
    assert finding.value == 5 and finding.severity is Severity.P0  # the severity stands: it could be forgery
    assert "PG 가져오기(import) 누락" in finding.detail and "DB 결제 6건 중 5건" in finding.detail


def test_a_purchase_we_failed_after_the_pg_approved_it_is_a_stuck_payment(contract_db):
    """Confirm timed out, the app marked the purchase failed; the PG had charged the customer."""
    until = build(
        contract_db,
        f"""
INSERT INTO public.dt_purchases (user_id, package_id, provider, order_id, amount_krw, dt_amount, bonus_dt, status,
       idempotency_key, failure_code, failure_message, created_at, updated_at)
SELECT '{FAN}', '{PACKAGE}', 'tosspayments', 'toss_tmo_' || g, 11000, 1000, 100, 'failed', 'idem-tmo-' || g,
       'CONFIRM_TIMEOUT', 'confirm API timed out', now() - g * interval '10 minutes',
       now() - g * interval '10 minutes' + interval '30 seconds' FROM generate_series(1, 3) g;
INSERT INTO public.pg_transactions (provider, source, transaction_key, order_id, tx_kind, status, amount,
       transaction_at, raw)
SELECT 'tosspayments', 'toss_transactions_api', 'tk_tmo_' || g, 'toss_tmo_' || g, 'approval', 'DONE', 11000,
       now() - g * interval '10 minutes' + interval '10 seconds', '{{}}' FROM generate_series(1, 3) g;
-- a fourth one the PG did cancel afterwards: consistent, not stuck
INSERT INTO public.dt_purchases (user_id, package_id, provider, order_id, amount_krw, dt_amount, bonus_dt, status,
       idempotency_key, failure_code, created_at)
VALUES ('{FAN}', '{PACKAGE}', 'tosspayments', 'toss_void', 11000, 1000, 100, 'failed', 'idem-void-1',
        'CONFIRM_TIMEOUT', now() - interval '15 minutes');
INSERT INTO public.pg_transactions (provider, source, transaction_key, order_id, tx_kind, status, amount,
       transaction_at, raw) VALUES
 ('tosspayments', 'toss_transactions_api', 'tk_void_a', 'toss_void', 'approval', 'DONE', 11000,
  now() - interval '15 minutes', '{{}}'),
 ('tosspayments', 'toss_transactions_api', 'tk_void_c', 'toss_void', 'cancel', 'CANCELED', 11000,
  now() - interval '14 minutes', '{{}}');
""",
    )
    window = Window(until - timedelta(minutes=60), until)
    with db.read_only(contract_db.reader, "payments") as conn:
        found = payments.funnel(conn, window)
        exit_check = payments.exit_condition(conn, until, 30)
        affected = payments.impact(conn, window)
    stuck = by_key(found.findings)["payments.pg_paid_db_pending[tosspayments]"]
    assert (stuck.outcome, stuck.value) == (Outcome.WARN, 3)
    assert sorted(found.pg_paid_db_pending["db_status"]) == ["failed"] * 3
    assert found.broken_stage is Stage.WEBHOOK
    assert not exit_check.met
    assert (affected.totals.orders, affected.totals.amount_krw) == (3, 33000)


def test_declines_without_a_pg_code_are_declines(contract_db):
    """PortOne's failure.pgCode is optional: status failed + provider_status FAILED is a decline."""
    until = build(
        contract_db,
        f"""
INSERT INTO public.dt_purchases (user_id, package_id, provider, order_id, amount_krw, dt_amount, bonus_dt, status,
       provider_status, idempotency_key, failure_message, created_at)
SELECT '{FAN}', '{PACKAGE}', 'portone', 'pay_decl_' || g, 11000, 1000, 100, 'failed', 'FAILED', 'idem-decl-' || g,
       '카드사 승인 거절', now() - g * interval '3 minutes' FROM generate_series(1, 10) g;
INSERT INTO public.dt_purchases (user_id, package_id, provider, order_id, amount_krw, dt_amount, bonus_dt, status,
       idempotency_key, created_at)
SELECT '{FAN}', '{PACKAGE}', 'portone', 'pay_gone_' || g, 11000, 1000, 100, 'failed', 'idem-gone-' || g,
       now() - g * interval '4 minutes' FROM generate_series(1, 4) g;  -- abandoned: no code, no PG status
""",
    )
    with db.read_only(contract_db.reader, "payments") as conn:
        found = payments.funnel(conn, Window(until - timedelta(minutes=60), until))
    declines = by_key(found.findings)["payments.checkout_failure_rate[portone]"]
    assert (declines.outcome, declines.severity, declines.value) == (Outcome.CRITICAL, Severity.P0, 100.0)
    assert "실패 10건" in declines.detail
    assert list(found.failure_codes["failure_code"]) == ["FAILED"]


def test_a_mismatched_reconcile_run_cleared_by_a_matched_re_run_no_longer_counts(contract_db):
    until = build(
        contract_db,
        """
INSERT INTO public.reconciliation_runs (provider, period_start, period_end, trigger, status, mismatch_count,
       started_at, finished_at)
SELECT 'portone', now() - (g + 1) * interval '1 day', now() - g * interval '1 day', 'cron', 'mismatched', 4,
       now() - g * interval '1 day' - interval '2 hours', now() - g * interval '1 day' - interval '119 minutes'
FROM generate_series(0, 2) g;
-- ops re-ran two of the three periods (§3-A 복구: 재대사); both matched
INSERT INTO public.reconciliation_runs (provider, period_start, period_end, trigger, status, mismatch_count,
       started_at, finished_at)
SELECT provider, period_start, period_end, 'manual', 'matched', 0, now() - interval '30 minutes',
       now() - interval '29 minutes'
FROM public.reconciliation_runs ORDER BY period_start LIMIT 2;
""",
    )
    with db.read_only(contract_db.reader, "payments") as conn:
        found = by_key(payments.detect(conn, Window(until - timedelta(minutes=60), until)).findings)
    runs = found["payments.reconciliation_runs_failed"]
    assert (runs.outcome, runs.value) == (Outcome.WARN, 1)  # the period nobody re-ran still counts
    assert "재실행 일치로 해소 2회 제외" in runs.detail


def test_an_open_card_dispute_is_listed_apart_whatever_its_refund_status(contract_db):
    purchase = "33333333-3333-3333-3333-333333333333"
    until = build(
        contract_db,
        f"""
INSERT INTO public.dt_purchases (id, user_id, package_id, provider, order_id, amount_krw, dt_amount, bonus_dt, status,
       idempotency_key, created_at, paid_at)
VALUES ('{purchase}', '{FAN}', '{PACKAGE}', 'portone', 'pay_cb_1', 11000, 1000, 100, 'paid', 'idem-cb-1',
        now() - interval '12 days', now() - interval '12 days');
INSERT INTO public.refunds (purchase_id, user_id, provider, kind, status, amount_krw, reason, requester,
       idempotency_key, pg_dispute_id, dispute_status, requested_at)
VALUES ('{purchase}', '{FAN}', 'portone', 'chargeback', 'processing', 11000, 'card dispute', 'PG', 'cb-dispute-1',
        'dsp_1', 'UNRESOLVED', now() - interval '10 days');
""",
    )
    with db.read_only(contract_db.reader, "payments") as conn:
        found = payments.open_refunds(conn, until)
    assert list(found.open["stuck_at"]) == ["dispute_unresolved"]
    assert all(f.outcome in (Outcome.OK, Outcome.NOT_EVALUATED) for f in found.findings), found.findings


def test_a_refund_of_a_different_amount_than_the_pg_cancel_is_an_amount_mismatch(contract_db):
    """The PG cancelled 5,000 won, our DB refunded 3,000: both sides agree it is partial, not on how much."""
    purchase, refund = "33333333-3333-3333-3333-333333333333", "44444444-4444-4444-4444-444444444444"
    until = build(
        contract_db,
        f"""
INSERT INTO public.dt_purchases (id, user_id, package_id, provider, order_id, amount_krw, dt_amount, bonus_dt, status,
       idempotency_key, created_at, paid_at)
VALUES ('{purchase}', '{FAN}', '{PACKAGE}', 'portone', 'pay_pc_amt', 11000, 1000, 100, 'paid', 'idem-pc-amt',
        now() - interval '50 minutes', now() - interval '50 minutes');
SELECT public.credit_dt_purchase('{purchase}');
INSERT INTO public.pg_transactions (provider, source, transaction_key, order_id, tx_kind, status, amount,
       transaction_at, raw) VALUES
 ('portone', 'portone_payments_api', 'tx_pc_amt', 'pay_pc_amt', 'approval', 'PAID', 11000,
  now() - interval '50 minutes', '{{}}'),
 ('portone', 'portone_payments_api', 'cx_pc_amt', 'pay_pc_amt', 'partial_cancel', 'PARTIAL_CANCELLED', 5000,
  now() - interval '20 minutes', '{{}}');
INSERT INTO public.refunds (id, purchase_id, user_id, provider, kind, status, amount_krw, dt_clawback, reason,
       idempotency_key, provider_cancellation_id, requested_at, completed_at)
VALUES ('{refund}', '{purchase}', '{FAN}', 'portone', 'partial_refund', 'succeeded', 3000, 300, '부분 환불',
        'rf-pc-amt', 'cx_pc_amt', now() - interval '22 minutes', now() - interval '20 minutes');
SELECT public.wallet_post('refund:{refund}:clawback', 'refund_clawback',
  '[{{"user_id":"{FAN}","amount_dt":-300}},{{"account_code":"dt_issuance","amount_dt":300}}]', 'refund', '{refund}');
UPDATE public.dt_purchases SET status = 'partially_refunded', refunded_amount_krw = 3000 WHERE order_id = 'pay_pc_amt';
""",
    )
    with db.read_only(contract_db.reader, "payments") as conn:
        found = payments.reconcile(conn, Window(until - timedelta(minutes=60), until))
    assert list(found.items["mismatch_type"]) == ["amount_mismatch"]
    row = found.items.iloc[0]
    assert (int(row["pg_cancelled_krw"]), int(row["db_refunded_krw"])) == (5000, 3000)
    finding = next(f for f in found.findings if f.check == "payments.recon_amount_mismatch")
    assert "취소 PG 5,000원 / 환불 DB 3,000원" in finding.detail


def test_a_clawback_smaller_than_the_refund_says_is_not_clawed_back(contract_db):
    """refunds.dt_clawback says 1,100 DT came back; the clawback transaction took 100."""
    purchase, refund = "33333333-3333-3333-3333-333333333333", "44444444-4444-4444-4444-444444444444"
    until = build(
        contract_db,
        f"""
INSERT INTO public.dt_purchases (id, user_id, package_id, provider, order_id, amount_krw, dt_amount, bonus_dt, status,
       idempotency_key, created_at, paid_at)
VALUES ('{purchase}', '{FAN}', '{PACKAGE}', 'portone', 'pay_rf_short', 11000, 1000, 100, 'paid', 'idem-rf-short',
        now() - interval '50 minutes', now() - interval '50 minutes');
SELECT public.credit_dt_purchase('{purchase}');
INSERT INTO public.refunds (id, purchase_id, user_id, provider, kind, status, amount_krw, dt_clawback, reason,
       idempotency_key, provider_cancellation_id, requested_at, completed_at)
VALUES ('{refund}', '{purchase}', '{FAN}', 'portone', 'refund', 'succeeded', 11000, 1100, '고객 요청',
        'rf-short', 'cx_rf_short', now() - interval '22 minutes', now() - interval '20 minutes');
SELECT public.wallet_post('refund:{refund}:clawback', 'refund_clawback',
  '[{{"user_id":"{FAN}","amount_dt":-100}},{{"account_code":"promo_bonus","amount_dt":100}}]', 'refund', '{refund}');
UPDATE public.dt_purchases SET status = 'refunded', refunded_amount_krw = 11000 WHERE id = '{purchase}';
""",
    )
    with db.read_only(contract_db.reader, "payments") as conn:
        found = payments.reconcile(conn, Window(until - timedelta(minutes=60), until))
    short = found.items[found.items["mismatch_type"] == "refund_not_clawed_back"]
    assert [(int(r.expected_dt), int(r.ledger_dt)) for r in short.itertuples()] == [(1100, 100)]


def test_an_unreadable_table_is_never_read_as_no_problem(contract_db):
    until = build(contract_db, "REVOKE SELECT ON public.payment_webhook_logs FROM opsbook_reader;")
    window = Window(until - timedelta(minutes=60), until)
    with db.read_only(contract_db.reader, "payments") as conn:
        triage = payments.signatures(conn, window)
        exit_check = payments.exit_condition(conn, until, 30)
    assert triage.sentence.startswith("서명 실패를 측정하지 못함") and "permission denied" in triage.sentence
    assert not exit_check.met
    assert exit_check.sentence.startswith("판정 불가") and "충족" not in exit_check.sentence.replace("미충족", "")


def test_a_reconcile_run_still_running_after_hours_has_hung(contract_db):
    until = build(
        contract_db,
        """
INSERT INTO public.reconciliation_runs (provider, period_start, period_end, trigger, status, started_at)
VALUES ('portone', now() - interval '3 days', now() - interval '2 days', 'cron', 'running',
        now() - interval '47 hours'),
       ('tosspayments', now() - interval '1 day', now(), 'cron', 'running', now() - interval '3 minutes');
""",
    )
    with db.read_only(contract_db.reader, "payments") as conn:
        found = by_key(payments.detect(conn, Window(until - timedelta(minutes=60), until)).findings)
    runs = found["payments.reconciliation_runs_failed"]
    assert (runs.outcome, runs.value) == (Outcome.WARN, 1)  # the one started 3 minutes ago is just running
    assert "멈춘 실행" in runs.detail and "진행 중 1회" in runs.detail


def test_a_recovered_webhook_outage_still_counts_its_delayed_customers_as_impact(contract_db):
    """Ten deliveries rejected (401) 50-41 minutes ago, retried successfully 15 minutes ago, now paid."""
    until = build(
        contract_db,
        f"""
INSERT INTO public.dt_purchases (user_id, package_id, provider, order_id, amount_krw, dt_amount, bonus_dt, status,
       idempotency_key, created_at, paid_at)
SELECT '{FAN}', '{PACKAGE}', 'portone', 'pay_d_' || g, 11000, 1000, 100, 'paid', 'idem-d-' || g,
       now() - (40 + g) * interval '1 minute', now() - (40 + g) * interval '1 minute' FROM generate_series(1, 10) g;
INSERT INTO public.payment_webhook_logs (provider, webhook_id, event_type, order_id, signature_valid, signature_error,
       http_status, processing_status, payload, received_at)
SELECT 'portone', 'msg_d_' || g, 'Transaction.Paid', 'pay_d_' || g, false, 'NO_MATCHING_SIGNATURE', 401, 'failed',
       '{{}}'::jsonb, now() - (40 + g) * interval '1 minute' FROM generate_series(1, 10) g
UNION ALL
SELECT 'portone', 'msg_d_' || g, 'Transaction.Paid', 'pay_d_' || g, true, NULL, 200, 'processed',
       '{{}}'::jsonb, now() - interval '15 minutes' FROM generate_series(1, 10) g;
-- one delivery that failed once and got through a minute later: a retry, not a delay
INSERT INTO public.dt_purchases (user_id, package_id, provider, order_id, amount_krw, dt_amount, bonus_dt, status,
       idempotency_key, created_at, paid_at)
VALUES ('{FAN}', '{PACKAGE}', 'portone', 'pay_retry', 11000, 1000, 100, 'paid', 'idem-retry-1',
        now() - interval '30 minutes', now() - interval '30 minutes');
INSERT INTO public.payment_webhook_logs (provider, webhook_id, event_type, order_id, signature_valid, http_status,
       processing_status, payload, received_at) VALUES
 ('portone', 'msg_retry', 'Transaction.Paid', 'pay_retry', true, 500, 'failed', '{{}}',
  now() - interval '30 minutes'),
 ('portone', 'msg_retry', 'Transaction.Paid', 'pay_retry', true, 200, 'processed', '{{}}',
  now() - interval '29 minutes');
SELECT public.credit_dt_purchase(id) FROM public.dt_purchases;
""",
    )
    with db.read_only(contract_db.reader, "payments") as conn:
        affected = payments.impact(conn, Window(until - timedelta(minutes=60), until))
    assert (affected.totals.orders, affected.totals.amount_krw, affected.totals.users) == (10, 110000, 1)
    delayed = affected.by_cause[affected.by_cause["cause"] == "delayed"]
    assert int(delayed["orders"].iloc[0]) == 10
    assert "영향 없음" not in affected.markdown
