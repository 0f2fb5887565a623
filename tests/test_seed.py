"""The demo-data seeder on a real embedded PostgreSQL: the baseline is what the app's triggers and
handlers would have written, and a drill injects the facts its ground truth describes.

The healthy baseline is seeded once into this module's own database. Each drill's facts are
checked in test_scenarios.py; here one drill (webhook_secret_mismatch) stands for the mechanism,
through the suite's shared `seeded` fixture (scale 1, one database per scenario).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest

from opslib import embedded
from opslib.payments import standard_webhooks
from opslib.results import Severity
from opslib.seed import DEMO_PORTONE_WEBHOOK_SECRET, SeedError, SeedReport, portone_signed_body, profile, seed, signing
from opslib.seed.scenarios import SCENARIOS, Stage

DRILLS = (
    "webhook_secret_mismatch",
    "ledger_credit_lag",
    "double_credit",
    "pg_paid_db_pending",
    "amount_mismatch",
    "refund_not_clawed_back",
    "negative_balance",
    "webhook_handler_5xx",
    "checkout_failures",
)
PAID = "('paid', 'refunded', 'partially_refunded', 'chargeback')"


def _drop(name: str) -> None:
    with psycopg.connect(embedded.libpq_url("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def healthy() -> Iterator[tuple[str, SeedReport, list[str]]]:
    """(libpq URL, report, progress lines) of a scale-1 healthy seed in this module's own database."""
    name = f"seed_{uuid.uuid4().hex[:8]}"
    embedded.create_contract_database(name, replace=True)
    url = embedded.libpq_url(name)
    lines: list[str] = []
    report = seed(url, scale=1, scenario="healthy", progress=lines.append)
    yield url, report, lines
    _drop(name)


def _one(url: str, sql: str, params: dict[str, Any] | None = None) -> Any:
    with psycopg.connect(url) as conn:
        row = conn.execute(sql, params).fetchone()  # type: ignore[arg-type]
    assert row is not None
    return row[0]


def _rows(url: str, sql: str, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql, params).fetchall()  # type: ignore[arg-type]


def _assert_wallet_consistent(url: str, *, allow_negative: bool = False) -> None:
    """What the ledger triggers guarantee, checked on the finished data."""
    unbalanced = _one(
        url,
        "SELECT count(*) FROM (SELECT tx_id FROM wallet_ledger GROUP BY tx_id"
        " HAVING sum(amount_dt) <> 0 OR count(*) < 2) x",
    )
    assert unbalanced == 0, "every transaction has >= 2 entries summing to 0"
    orphans = _one(
        url,
        "SELECT count(*) FROM wallet_transactions t"
        " WHERE NOT EXISTS (SELECT 1 FROM wallet_ledger l WHERE l.tx_id = t.tx_id)",
    )
    assert orphans == 0
    drift = _one(
        url,
        "SELECT count(*) FROM wallet_accounts a LEFT JOIN (SELECT account_id, sum(amount_dt) AS s"
        " FROM wallet_ledger GROUP BY 1) l ON l.account_id = a.id WHERE a.balance_dt <> coalesce(l.s, 0)",
    )
    assert drift == 0, "balance_dt equals the account's ledger sum"
    running = _one(
        url,
        "SELECT count(*) FROM (SELECT balance_after, sum(amount_dt) OVER (PARTITION BY account_id"
        " ORDER BY id) AS s FROM wallet_ledger) x WHERE balance_after IS DISTINCT FROM s",
    )
    assert running == 0, "balance_after is the running sum in id order, as the trigger writes it"
    copied = _one(
        url,
        "SELECT count(*) FROM wallet_ledger l JOIN wallet_transactions t USING (tx_id)"
        " JOIN wallet_accounts a ON a.id = l.account_id"
        " WHERE l.entry_type <> t.tx_type OR l.reference_type IS DISTINCT FROM t.reference_type"
        " OR l.reference_id IS DISTINCT FROM t.reference_id OR l.user_id IS DISTINCT FROM a.user_id",
    )
    assert copied == 0, "entry_type, reference_* and user_id are copied as the trigger copies them"
    if not allow_negative:
        negative = _one(
            url,
            "SELECT count(*) FROM wallet_ledger l JOIN wallet_accounts a ON a.id = l.account_id"
            " WHERE a.kind = 'user' AND (l.balance_after < 0 OR a.balance_dt < 0)",
        )
        assert negative == 0, "no user balance is ever below zero"


def _verify(row: tuple[Any, ...]) -> bool:
    webhook_id, headers, payload = row
    body = portone_signed_body(payload)
    key = standard_webhooks.secret_key(DEMO_PORTONE_WEBHOOK_SECRET)
    return standard_webhooks.verify(key, webhook_id, headers["webhook-timestamp"], body, headers["webhook-signature"])


# --- the registry and the signing helpers (no database) ------------------------------------


def test_every_drill_is_registered_with_its_ground_truth():
    assert {n for n, s in SCENARIOS.items() if s.runbook == "payments" and n != "healthy"} == set(DRILLS)
    assert SCENARIOS["healthy"].expected == () and SCENARIOS["healthy"].stage is None
    # every page's drills: a ground truth in the page's own checks, stated in the docstring
    for name, drill in SCENARIOS.items():
        if name == "healthy":
            continue
        # a page's own healthy drill (healthy_deploy: a release with no regression) expects nothing
        assert drill.name == name and (drill.expected or name.startswith("healthy_")), name
        assert "Ground truth" in drill.description, f"{name}: the docstring states the ground truth"
        # a drill's ground truth names its own page's checks (or the shared dispatcher's, under cron)
        assert all(
            isinstance(e.severity, Severity) and e.check.split(".")[0] in {drill.runbook, "cron"}
            for e in drill.expected
        ), name
    assert {n for n, s in SCENARIOS.items() if s.stage is Stage.WEBHOOK} == {
        "webhook_secret_mismatch",
        "pg_paid_db_pending",
        "webhook_handler_5xx",
    }


def test_signing_matches_the_runbooks_verifier():
    payload = {
        "data": {"transactionId": "tx-1", "paymentId": "ord_20261126_0000001", "storeId": "store-1"},
        "timestamp": "2026-11-26T01:02:03.456Z",
        "type": "Transaction.Paid",
    }
    body = portone_signed_body(payload)
    assert body.startswith('{"type":"Transaction.Paid","timestamp":') and '"storeId":"store-1","paymentId"' in body
    assert body == standard_webhooks.portone_body(payload)
    signature = signing.sign_standard_webhook(DEMO_PORTONE_WEBHOOK_SECRET, "whk_1", 1764118923, body)
    key = standard_webhooks.secret_key(DEMO_PORTONE_WEBHOOK_SECRET)
    assert signature == standard_webhooks.sign(key, "whk_1", "1764118923", body)
    assert DEMO_PORTONE_WEBHOOK_SECRET.startswith("whsec_") and len(key) == 32


# --- the healthy baseline -------------------------------------------------------------------


def test_report_and_seed_run_row(healthy):
    url, report, lines = healthy
    assert report.scenario == "healthy" and report.scale == 1 and report.seconds > 0
    counts = report.row_counts
    assert counts["public.wallet_ledger"] == max(counts.values()), "the ledger is the biggest table"
    assert counts["auth.users"] == profile.ADMINS + profile.CREATORS_PER_SCALE + profile.FANS_PER_SCALE
    assert 14 * 1200 < counts["public.dt_purchases"] < 14 * 1800, "about 1,500 purchases a day at scale 1"
    assert all(n > 0 for n in counts.values()), [t for t, n in counts.items() if n == 0]
    assert any(line.startswith("wallet:") for line in lines), "progress reports each step"
    stored = _rows(url, "SELECT scenario, scale, as_of, row_counts FROM opsbook_demo.seed_runs")
    assert len(stored) == 1 and stored[0][:3] == ("healthy", 1, report.as_of) and stored[0][3] == counts
    assert _one(url, "SELECT to_regclass('opsbook_seed_work')") is None, "the scratch schema is dropped"


def test_wallet_is_what_the_triggers_would_have_written(healthy):
    url, _, _ = healthy
    _assert_wallet_consistent(url)
    assert _one(url, "SELECT count(*) FROM wallet_ledger") > 10 * _one(url, "SELECT count(*) FROM dt_purchases")
    next_id = _one(url, "SELECT nextval(pg_get_serial_sequence('public.wallet_ledger', 'id'))")
    assert next_id > _one(url, "SELECT max(id) FROM wallet_ledger"), "the identity continues after the seed"


def test_every_paid_purchase_is_credited_exactly_once(healthy):
    url, _, _ = healthy
    wrong = _one(
        url,
        f"""
        SELECT count(*) FROM dt_purchases p
        WHERE p.status IN {PAID}
          AND (SELECT count(*) FROM wallet_transactions t
               WHERE t.tx_type = 'purchase_credit' AND t.reference_type = 'dt_purchase' AND t.reference_id = p.id
                 AND t.idempotency_key = 'dt_purchase:' || p.id || ':credit' AND t.tx_id = p.wallet_tx_id) <> 1""",
    )
    assert wrong == 0
    amounts = _one(
        url,
        """
        SELECT count(*) FROM dt_purchases p JOIN wallet_ledger l ON l.tx_id = p.wallet_tx_id AND l.user_id = p.user_id
        JOIN wallet_transactions t ON t.tx_id = p.wallet_tx_id
        WHERE l.amount_dt <> p.dt_amount + p.bonus_dt OR t.created_at < p.paid_at
           OR t.created_at > p.paid_at + interval '100 seconds'""",
    )
    assert amounts == 0, "credit = dt + bonus, shortly after the PG approval"
    unpaid = _one(url, f"SELECT count(*) FROM dt_purchases WHERE status NOT IN {PAID} AND wallet_tx_id IS NOT NULL")
    assert unpaid == 0
    clawbacks = _one(
        url,
        """
        SELECT count(*) FROM refunds r WHERE r.status = 'succeeded' AND NOT EXISTS (
          SELECT 1 FROM wallet_transactions t WHERE t.tx_id = r.wallet_tx_id AND t.reference_id = r.id
            AND t.tx_type IN ('refund_clawback', 'chargeback_clawback'))""",
    )
    assert clawbacks == 0, "every completed refund took its DT back"


def test_purchase_mix_and_pg_facts(healthy):
    url, _, _ = healthy
    share = dict(_rows(url, "SELECT status, count(*)::float / sum(count(*)) OVER () FROM dt_purchases GROUP BY 1"))
    assert 0.85 < share["paid"] < 0.95 and 0.04 < share["failed"] < 0.06 and 0.02 < share["pending"] < 0.05
    portone = _one(url, "SELECT avg((provider = 'portone')::int) FROM dt_purchases")
    assert 0.6 < portone < 0.7
    assert _one(url, "SELECT count(*) FROM dt_purchases WHERE order_id !~ '^[A-Za-z0-9_-]{6,64}$'") == 0
    declines = _rows(url, "SELECT DISTINCT failure_code FROM dt_purchases WHERE status = 'failed'")
    assert {"REJECT_CARD_PAYMENT", "3001"} <= {c for (c,) in declines}
    missing = _one(
        url,
        f"""
        SELECT count(*) FROM dt_purchases p, opsbook_demo.seed_runs r
        WHERE p.status IN {PAID} AND p.paid_at < r.as_of - interval '6 minutes' AND NOT EXISTS (
          SELECT 1 FROM pg_transactions t WHERE t.provider = p.provider AND t.order_id = p.order_id
            AND t.tx_kind = 'approval' AND t.amount = p.amount_krw)""",
    )
    assert missing == 0, "the 5-minute PG import has every older approval, with the same amount"
    pending = _one(
        url,
        """
        SELECT count(*) FROM pg_transactions t
        JOIN dt_purchases p ON p.provider = t.provider AND p.order_id = t.order_id
        WHERE t.tx_kind = 'approval' AND p.status = 'pending'
          AND t.transaction_at < (SELECT as_of FROM opsbook_demo.seed_runs) - interval '2 minutes'""",
    )
    assert pending == 0, "no PG approval is left pending in the healthy baseline"


def test_kst_daily_rhythm(healthy):
    url, _, _ = healthy
    hours = dict(
        _rows(
            url,
            "SELECT extract(hour FROM requested_at AT TIME ZONE 'Asia/Seoul')::int, count(*)"
            " FROM dt_purchases GROUP BY 1",
        )
    )
    evening = sum(hours[h] for h in (20, 21, 22))
    night = sum(hours[h] for h in (4, 5, 6))
    assert evening > 5 * night


def test_webhook_signatures_verify_with_the_demo_secret(healthy):
    url, _, _ = healthy
    sample = _rows(
        url,
        """
        SELECT webhook_id, headers, payload FROM payment_webhook_logs
        WHERE provider = 'portone' ORDER BY md5(id::text) LIMIT 200""",
    )
    assert len(sample) == 200 and all(_verify(row) for row in sample)
    assert not _verify((sample[0][0], sample[0][1], {**sample[0][2], "type": "Transaction.Cancelled"}))
    shape = _one(
        url,
        """
        SELECT count(*) FROM payment_webhook_logs
        WHERE provider = 'portone' AND (webhook_id !~ '^whk_' OR headers ->> 'webhook-id' <> webhook_id
              OR signature_valid IS NOT TRUE OR source_ip <> '52.78.5.241'::inet OR purchase_id IS NULL)""",
    )
    assert shape == 0
    toss = _one(
        url,
        """
        SELECT count(*) FROM payment_webhook_logs
        WHERE provider = 'tosspayments' AND (webhook_id IS NOT NULL OR signature_valid IS NOT NULL
              OR event_type <> 'PAYMENT_STATUS_CHANGED'
              OR provider_status NOT IN ('DONE', 'ABORTED', 'CANCELED', 'PARTIAL_CANCELED'))""",
    )
    assert toss == 0
    retried = _one(
        url,
        "SELECT count(*) FROM (SELECT webhook_id FROM payment_webhook_logs WHERE webhook_id IS NOT NULL"
        " GROUP BY webhook_id HAVING count(*) > 1) x",
    )
    assert retried > 0, "some PortOne webhooks were redelivered"
    order = _one(
        url,
        """
        SELECT count(*) FROM payment_webhook_logs w JOIN dt_purchases p ON p.id = w.purchase_id
        WHERE w.processing_status = 'processed' AND w.event_type = 'Transaction.Paid'
          AND NOT (p.paid_at <= w.received_at AND w.received_at <= (SELECT created_at FROM wallet_transactions t
                                                                    WHERE t.tx_id = p.wallet_tx_id))""",
    )
    assert order == 0, "paid_at <= webhook received <= credit"


def test_nothing_happens_after_as_of(healthy):
    url, report, _ = healthy
    for table, column in (
        ("wallet_ledger", "created_at"),
        ("payment_webhook_logs", "received_at"),
        ("pg_transactions", "fetched_at"),
        ("logs.function_edge_logs", '"timestamp"'),
        ("logs.auth_logs", '"timestamp"'),
        ("cron.job_run_details", "end_time"),
        ("net._http_response", "created"),
        ("dt_purchases", "updated_at"),
    ):
        assert _one(url, f"SELECT count(*) FROM {table} WHERE {column} > %(t)s", {"t": report.as_of}) == 0, table


def test_indexes_are_exactly_the_contracts(healthy):
    """The bulk load drops indexes and rebuilds them: the result must match a fresh contract database."""
    url, _, _ = healthy
    name = f"seed_ref_{uuid.uuid4().hex[:8]}"
    embedded.create_contract_database(name, replace=True)
    try:
        query = (
            "SELECT schemaname, tablename, indexname, indexdef FROM pg_indexes"
            " WHERE schemaname IN ('public', 'auth', 'logs', 'cron', 'net', 'storage') ORDER BY 1, 2, 3"
        )
        assert _rows(url, query) == _rows(embedded.libpq_url(name), query)
        constraints = (
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint ORDER BY 1, 2"
        )
        assert _rows(url, constraints) == _rows(embedded.libpq_url(name), constraints)
    finally:
        _drop(name)


def test_a_seeded_database_is_not_seeded_again(healthy):
    url, _, _ = healthy
    with pytest.raises(SeedError, match="already has app data"):
        seed(url, scale=1)
    with pytest.raises(SeedError, match="unknown scenario"):
        seed(url, scenario="no_such_drill")


# --- the drills -------------------------------------------------------------------------------


def _drill(seeded, name: str) -> tuple[str, datetime]:
    s = seeded(name)
    url = s.db.admin
    _assert_wallet_consistent(url, allow_negative=name == "negative_balance")
    start = _one(url, "SELECT as_of - interval '40 minutes' FROM opsbook_demo.seed_runs")
    return url, start


def test_webhook_secret_mismatch_rejects_every_portone_delivery(seeded):
    url, start = _drill(seeded, "webhook_secret_mismatch")
    after = dict(
        _rows(
            url,
            """
        SELECT provider || ':' || coalesce(http_status::text, '-') || ':' || processing_status || ':'
               || coalesce(signature_error, '-') || ':' || coalesce(signature_valid::text, '-'), count(*)
        FROM payment_webhook_logs WHERE received_at >= %(s)s GROUP BY 1""",
            {"s": start},
        )
    )
    portone = {k: v for k, v in after.items() if k.startswith("portone")}
    assert set(portone) == {"portone:401:failed:NO_MATCHING_SIGNATURE:false"}
    assert portone["portone:401:failed:NO_MATCHING_SIGNATURE:false"] >= 40
    assert all(k.startswith("tosspayments:200:") for k in after if not k.startswith("portone"))
    retries = _one(
        url,
        "SELECT max(n) FROM (SELECT count(*) AS n FROM payment_webhook_logs"
        " WHERE received_at >= %(s)s GROUP BY webhook_id) x",
        {"s": start},
    )
    assert retries >= 3, "PortOne retried"
    rejected = _rows(
        url,
        "SELECT webhook_id, headers, payload FROM payment_webhook_logs"
        " WHERE signature_valid = false ORDER BY id LIMIT 50",
    )
    assert all(_verify(row) for row in rejected), "PortOne signed correctly: our secret is what is wrong"
    edge = dict(
        _rows(
            url,
            """
        SELECT status_code || ' ' || deployment_version, count(*) FROM logs.function_edge_logs
        WHERE function_name = 'payment-webhook' AND "timestamp" >= %(s)s GROUP BY 1""",
            {"s": start},
        )
    )
    assert edge.get(f"401 {profile.WEBHOOK_VERSION_BAD}", 0) >= 40 and all(
        profile.WEBHOOK_VERSION_BAD in k for k in edge
    )
    stuck = _one(
        url,
        """
        SELECT count(*) FROM dt_purchases p
        WHERE p.provider = 'portone' AND p.status = 'pending' AND p.wallet_tx_id IS NULL
          AND EXISTS (SELECT 1 FROM pg_transactions t WHERE t.provider = 'portone' AND t.order_id = p.order_id
                        AND t.tx_kind = 'approval' AND t.status = 'PAID')""",
    )
    assert stuck >= 20


def test_days_lengthen_the_history_at_the_same_rate(healthy):
    """--days: a bigger table with equally busy hours (how the benchmark separates table size from window)."""
    _, base, _ = healthy
    name = f"seed_days_{uuid.uuid4().hex[:8]}"
    embedded.create_contract_database(name, replace=True)
    url = embedded.libpq_url(name)
    try:
        report = seed(url, scale=1, scenario="healthy", days=5)
        start = _one(url, "SELECT min(created_at) FROM dt_purchases")
        assert (report.as_of - start).total_seconds() / 86400 == pytest.approx(5, abs=0.1)
        ratio = report.row_counts["public.dt_purchases"] / base.row_counts["public.dt_purchases"]
        assert ratio == pytest.approx(5 / profile.DAYS, rel=0.15), "same purchases per day, fewer days"
        runs = _one(url, "SELECT count(*) FROM reconciliation_runs")
        assert 2 * 4 <= runs <= 2 * 6, "one nightly reconciliation per provider per day"
        _assert_wallet_consistent(url)
    finally:
        _drop(name)
    with pytest.raises(ValueError, match="days must be"):
        seed(url, scale=1, days=1000)


# What a seed must reproduce: every log stream's event times, and the purchases behind the pages.
FINGERPRINTS = {
    "logs.auth_logs": '"timestamp"',
    "logs.edge_logs": '"timestamp"',
    "logs.function_edge_logs": '"timestamp"',
    "logs.function_logs": '"timestamp"',
    "logs.realtime_logs": '"timestamp"',
    "public.dt_purchases": "created_at",
    "public.wallet_ledger": "created_at",
}


def _fingerprint(url: str) -> dict[str, tuple[int, str]]:
    out = {}
    for table, col in FINGERPRINTS.items():
        sql = f"SELECT count(*), md5(coalesce(string_agg({col}::text, ',' ORDER BY {col}), '')) FROM {table}"
        out[table] = _rows(url, sql)[0]
    return out


def test_the_same_as_of_seeds_the_same_data():
    """A drill that fails once fails again: seeding lanes share sessions in no fixed order, so any
    session-random value (random() without a seed) made every seed, and every test on it, different."""
    as_of = datetime(2026, 11, 20, 3, 17, 41, tzinfo=UTC)
    prints = []
    for _ in range(2):
        name = f"seed_same_{uuid.uuid4().hex[:8]}"
        embedded.create_contract_database(name, replace=True)
        try:
            seed(embedded.libpq_url(name), scale=1, scenario="healthy", as_of=as_of, days=3)
            prints.append(_fingerprint(embedded.libpq_url(name)))
        finally:
            _drop(name)
    assert all(n > 0 for n, _ in prints[0].values()), prints[0]
    assert prints[0] == prints[1]
