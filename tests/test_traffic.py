"""Silence is not health (issue 7, item 12): the traffic check every page runs.

The judgement is a pure function (tested with plain numbers); the counting runs on real contract
databases filled by hand with the history each case needs, and once through a whole page.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pandas as pd
import psycopg
import pytest
import sqlalchemy as sa

from opslib import checks, db, embedded, queries, runner, timewindow, traffic
from opslib.explain import classify
from opslib.results import Outcome, Severity, Verdict

UNTIL = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)  # 21:00 KST
WINDOW = timewindow.Window(UNTIL - timedelta(minutes=60), UNTIL)
PURCHASES = traffic.sources("payments")[0]
TOKENS = traffic.sources("auth")[0]


def _count(source, observed, history, without=0):
    return traffic.Count(source, observed, tuple(history), without)


# --- the judgement (pure) --------------------------------------------------------------------


def test_silence_where_history_expects_plenty_is_critical_and_says_so():
    f = traffic.judge(checks.get(PURCHASES.check), _count(PURCHASES, 0, [150, 140, 138, 160, 120, 140, 141]), WINDOW)
    assert f.outcome is Outcome.CRITICAL and f.severity is Severity.P0 and f.value == 0
    assert f.detail.startswith("no 구매 (purchases) in 60분; 140 expected"), f.detail


def test_a_drop_to_a_fifth_warns_and_normal_traffic_is_ok():
    history = [100, 110, 90, 100, 105, 95, 100]
    assert traffic.judge(checks.get(PURCHASES.check), _count(PURCHASES, 20, history), WINDOW).outcome is Outcome.WARN
    ok = traffic.judge(checks.get(PURCHASES.check), _count(PURCHASES, 80, history), WINDOW)
    assert ok.outcome is Outcome.OK and ok.value == 80


def test_a_quiet_hour_is_not_judged():
    """3 a.m.: four purchases an hour is the norm, and an hour without any is not an outage."""
    f = traffic.judge(checks.get(PURCHASES.check), _count(PURCHASES, 0, [4, 3, 5, 4, 6, 2, 4]), WINDOW)
    assert f.outcome is Outcome.NOT_EVALUATED and "quiet hour" in f.detail


def test_no_history_at_all_is_nothing_to_judge():
    f = traffic.judge(checks.get(PURCHASES.check), _count(PURCHASES, 0, [], without=7), WINDOW)
    assert f.outcome is Outcome.NOT_EVALUATED and "nothing to judge" in f.detail
    t = traffic.Traffic((_count(PURCHASES, 0, []),), (f,), nothing_to_judge=True)
    assert "아무 데이터 없음 (nothing to judge)" in (t.headline() or "")


def test_a_log_source_says_its_silence_may_be_the_drain():
    f = traffic.judge(checks.get(TOKENS.check), _count(TOKENS, 0, [300, 320]), WINDOW)
    assert f.outcome is Outcome.CRITICAL and f.severity is Severity.P1 and "stopped drain" in f.detail


def test_days_before_the_first_event_are_no_data_not_zero():
    """A log drain keeps 3 days: the 4 older days are left out of the median, not counted as 0."""
    first = UNTIL - timedelta(days=2, hours=5)
    frame = pd.DataFrame({"days_back": range(8), "events": [0, 300, 320, 0, 0, 0, 0, 0], "first_event": [first] * 8})
    count = traffic.count_from_rows(TOKENS, WINDOW, frame)
    assert count.observed == 0 and count.history == (300, 320) and count.days_without_data == 5
    assert count.expected == 310


def test_every_planned_page_has_its_traffic_sources():
    for runbook in ("payments", "auth", "messaging", "storage", "admin", "cron"):
        found = traffic.sources(runbook)
        assert found, runbook
        for s in found:
            assert checks.get(s.check).op == "<"
            assert {p.name for p in queries.get(s.query).params} == {"since", "until", "days"}


# --- counting, on hand-filled contract databases -------------------------------------------------


def _fill(contract_db, sql: str, rows: list[tuple]) -> None:
    with psycopg.connect(contract_db.admin, autocommit=True) as conn, conn.cursor() as cur:
        cur.executemany(sql, rows)


def _webhooks(at: list[datetime]) -> list[tuple]:
    return [("portone", "processed", "{}", t, 200) for t in at]


WEBHOOK_SQL = (
    "INSERT INTO public.payment_webhook_logs (provider, processing_status, payload, received_at, http_status) "
    "VALUES (%s, %s, %s, %s, %s)"
)


def _spread(day: int, n: int) -> list[datetime]:
    """n events spread over the window `day` days back."""
    start = WINDOW.since - timedelta(days=day)
    return [start + timedelta(seconds=3600 * (i + 0.5) / n) for i in range(n)]


def test_a_silent_hour_after_a_busy_week_is_found_on_the_contract(contract_db):
    _fill(contract_db, WEBHOOK_SQL, _webhooks([t for d in range(1, 8) for t in _spread(d, 40)]))
    # an hour earlier today, still busy: only the window itself is silent
    _fill(contract_db, WEBHOOK_SQL, _webhooks([WINDOW.since - timedelta(minutes=30)]))
    with db.read_only(contract_db.reader, "payments") as conn:
        t = traffic.measure(conn, "payments", WINDOW)
    by = {f.check: f for f in t.findings}
    hooks = by["traffic.payments.webhooks"]
    assert hooks.outcome is Outcome.CRITICAL and hooks.severity is Severity.P1
    assert hooks.detail.startswith("no webhook in 60분; 40 expected"), hooks.detail
    purchases = by["traffic.payments.purchases"]
    assert purchases.outcome is Outcome.NOT_EVALUATED and "nothing to judge" in purchases.detail
    assert not t.nothing_to_judge, "webhooks have a history: there is something to judge"


def test_events_on_the_window_edges_belong_to_their_day(contract_db):
    edges = [WINDOW.since, WINDOW.until - timedelta(microseconds=1), WINDOW.until, WINDOW.since - timedelta(days=1)]
    _fill(contract_db, WEBHOOK_SQL, _webhooks(edges))
    with db.read_only(contract_db.reader, "payments") as conn:
        frame = queries.run(conn, "common.traffic_payment_webhooks", {**WINDOW.params(), "days": 2}).frame
    assert list(frame.events) == [2, 1, 0]  # since inclusive, until exclusive, one day back the same


def test_an_empty_contract_page_is_a_clean_pass_that_says_nothing_to_judge(contract_db, tmp_path):
    result = runner.run("payments", database_url=contract_db.reader, out_dir=tmp_path)
    assert result.error is None and result.verdict is Verdict.PASS
    assert result.headline and result.headline[0].startswith("아무 데이터 없음 (nothing to judge)")
    data = json.loads((result.folder / "result.json").read_text(encoding="utf-8"))
    assert data["headline"] == list(result.headline)
    found = {f.check: f for f in result.findings if f.check.startswith("traffic.")}
    assert set(found) == {"traffic.payments.purchases", "traffic.payments.webhooks"}
    assert all(f.outcome is Outcome.NOT_EVALUATED for f in found.values())
    report = (result.folder / "payments.html").read_text(encoding="utf-8")
    assert "nothing to judge" in report[report.index("opsbook-verdict") :]


def test_a_whole_page_in_an_outage_hour_fails_on_silence(contract_db, tmp_path):
    """Checkout down for the last hour: no purchases, no webhooks, nothing to fail. Not a PASS."""
    _fill(contract_db, WEBHOOK_SQL, _webhooks([t for d in range(1, 8) for t in _spread(d, 60)]))
    result = runner.run("payments", {"until": UNTIL.isoformat()}, database_url=contract_db.reader, out_dir=tmp_path)
    assert result.verdict is Verdict.FAIL and result.exit_code == runner.ExitCode.FAIL
    hit = [f for f in result.findings if f.check == "traffic.payments.webhooks"]
    assert hit and hit[0].outcome is Outcome.CRITICAL and "60 expected" in hit[0].detail
    assert not result.headline, "a history exists: this is an outage, not an empty database"


# --- EXPLAIN: the traffic queries follow the window ----------------------------------------------

# Tables the contract gives no time index (each query's header says so).
SCANNED = {
    "traffic_purchases_created": {"dt_purchases"},  # indexed with opslib/sql/recommended_indexes.sql
    "traffic_messages_sent": {"messages"},
    "traffic_cron_runs": {"job_run_details"},
}


@pytest.fixture(scope="module")
def log_volume():
    """Two months of events (a drained log keeps less; a table keeps more): 7 days are a small part."""
    name = f"trafvol_{uuid.uuid4().hex[:8]}"
    embedded.create_contract_database(name, replace=True, recommended_indexes=False)
    with psycopg.connect(embedded.libpq_url(name), autocommit=True) as conn:
        conn.execute(
            'INSERT INTO logs.auth_logs (id, "timestamp", level, path) '
            "SELECT gen_random_uuid(), now() - g * interval '90 seconds', 'info', "
            "CASE WHEN g % 3 = 0 THEN '/token' ELSE '/user' END FROM generate_series(1, 60000) g"
        )
        conn.execute(
            'INSERT INTO logs.edge_logs (id, "timestamp", method, path) '
            "SELECT gen_random_uuid(), now() - g * interval '90 seconds', 'GET', "
            "CASE WHEN g % 4 = 0 THEN '/storage/v1/object/a/b.webp' ELSE '/rest/v1/messages' END "
            "FROM generate_series(1, 60000) g"
        )
        conn.execute(
            'INSERT INTO logs.function_edge_logs (id, "timestamp", function_name, method) '
            "SELECT gen_random_uuid(), now() - g * interval '90 seconds', "
            "CASE WHEN g % 5 = 0 THEN 'ops-manage' ELSE 'payment-webhook' END, 'POST' FROM generate_series(1, 60000) g"
        )
        conn.execute(
            "INSERT INTO public.payment_webhook_logs (provider, processing_status, payload, received_at) "
            "SELECT 'portone', 'processed', '{}', now() - g * interval '90 seconds' FROM generate_series(1, 60000) g"
        )
        conn.execute("ANALYZE")
    yield name
    with psycopg.connect(embedded.libpq_url("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_traffic_queries_read_the_windows_not_the_tables(log_volume):
    until = datetime.now(UTC)
    params = {"since": until - timedelta(hours=1), "until": until, "days": 7}
    with db.read_only(embedded.url(log_volume, user=embedded.READER_ROLE), "test") as conn:
        for name in sorted(n for n in queries.catalogue() if n.startswith("common.traffic_")):
            q = queries.get(name)
            plan = conn.execute(sa.text("EXPLAIN (FORMAT JSON) " + q.sql), params).scalar()[0]
            found = classify(name, plan)
            allowed = SCANNED.get(q.name, set())
            unexpected = set(found.seq_scanned) - allowed - {"generate_series"}
            assert not unexpected, f"{name} scans {unexpected} whole: {found.plan_class}"
            if q.name not in SCANNED:
                assert found.plan_class == "index", f"{name}: {found.plan_class}"
