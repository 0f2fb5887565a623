"""§4-A~C queries: window-bound on function_logs_fn_ts_idx (EXPLAIN on a month of console lines), the sample
bounded per function, and a failing read is an ERROR finding, never a crash or an OK."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from conftest import volume_database

from opslib import db, embedded, logs, queries
from opslib.explain import explain_domain
from opslib.results import Outcome
from opslib.timewindow import Window

# A month of console lines over six functions: big enough for the planner to prefer the index.
VOLUME_SQL = """
INSERT INTO logs.function_logs (id, "timestamp", function_name, level, execution_id, event_message)
SELECT md5('fl' || g)::uuid, now() - (30 * 86400.0 * (1 - g::float8 / 400000)) * interval '1 second',
       (ARRAY['ops-manage', 'payment-webhook', 'scheduled-dispatcher', 'refund-process', 'payment-reconcile',
              'fan-notify'])[1 + g % 6],
       CASE WHEN g % 20 = 0 THEN 'error' ELSE 'info' END, md5('ex' || g),
       '{"env": "production", "release": "v1", "platform": "edge", "request_id": "r' || g
       || '", "event": "chat.push.sent", "severity": "' || CASE WHEN g % 20 = 0 THEN 'error' ELSE 'info' END
       || '", "domain": "chat"}'
FROM generate_series(1, 400000) g;
ANALYZE logs.function_logs;
"""

ALLOWED = {"index", "no table scan"}


@pytest.fixture(scope="module")
def volume() -> Iterator[str]:
    with volume_database("logs_vol", VOLUME_SQL) as name:
        yield embedded.url(name, user=embedded.READER_ROLE)


def test_every_logs_query_is_window_bound(volume, artifacts):
    until = datetime.now(UTC)
    since = until - timedelta(hours=1)
    with db.read_only(volume, "logs") as conn:
        plans = explain_domain(conn, "logs", since, until, {"per_function": 20000})
    assert (
        {p.query for p in plans}
        == {q for q in queries.catalogue() if q.startswith("logs.")}
        == {
            "logs.window_counts",
            "logs.window_lines",
        }
    )
    report = [{"query": p.query, "class": p.plan_class, "seq": p.seq_scanned, "idx": p.index_scanned} for p in plans]
    (artifacts / "logs-plans.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    bad = [(p.query, p.plan_class, p.seq_scanned) for p in plans if p.plan_class not in ALLOWED]
    assert not bad, f"queries whose cost grows with the table: {bad}"


def test_the_window_read_is_exact_in_counts_and_bounded_in_lines(volume):
    until = datetime.now(UTC)
    window = Window(until - timedelta(hours=6), until)
    with db.read_only(volume, "logs") as conn:
        detection = logs.detect(conn, window, 100)
    lines = detection.logs.lines
    assert set(lines["function_name"]) == {
        "ops-manage",
        "payment-webhook",
        "scheduled-dispatcher",
        "refund-process",
        "payment-reconcile",
        "fan-notify",
    }
    assert lines.groupby("function_name").size().max() == 100  # the sample: newest 100 per function
    assert detection.logs.total > 6 * 100  # the counts are not the sample's
    assert set(detection.logs.sampled) == set(lines["function_name"])
    assert (lines["at"] >= window.since).all() and (lines["at"] < window.until).all()
    assert all(f.outcome is Outcome.OK for f in detection.findings), [f.key for f in detection.findings]


def test_a_failing_read_is_an_error_finding_not_a_crash(contract_db):
    with psycopg.connect(contract_db.admin, autocommit=True) as conn:
        conn.execute("REVOKE SELECT ON logs.function_logs FROM opsbook_reader")
    until = datetime.now(UTC)
    with db.read_only(contract_db.reader, "logs") as conn:
        detection = logs.detect(conn, Window(until - timedelta(hours=1), until))
    steps = [logs.common_fields(detection), logs.payment_fields(detection), logs.pii(detection)]
    found = [*detection.findings, *(f for s in steps for f in s.findings)]
    assert found and all(f.outcome is Outcome.ERROR for f in found), [(f.key, f.outcome) for f in found]
    assert "permission denied" in found[0].detail
    exit_check = logs.exit_condition(detection, found)
    assert exit_check.met is None
