"""§3-E queries: every admin query is window-bound (EXPLAIN on a month of traffic) and runs on an empty contract."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from conftest import volume_database

from opslib import admin, db, embedded, queries
from opslib.explain import explain_domain
from opslib.results import Outcome
from opslib.timewindow import Window

# A month of drained logs and audit rows, written with set-based SQL (triggers off), big enough
# for the planner to prefer an index wherever the query lets it.
VOLUME_SQL = """
SET session_replication_role = replica;
INSERT INTO auth.users (id, email)
SELECT md5('u' || g)::uuid, 'u' || g || '@example.com' FROM generate_series(1, 5000) g;
INSERT INTO public.user_profiles (id, role) SELECT md5('u' || g)::uuid, CASE WHEN g <= 5 THEN 'admin' ELSE 'fan' END
FROM generate_series(1, 5000) g;
INSERT INTO logs.function_edge_logs (id, "timestamp", function_name, method, status_code, execution_id,
  deployment_version)
SELECT md5('fe' || g)::uuid, now() - (30 * 86400.0 * (1 - g::float8 / 300000)) * interval '1 second',
       (ARRAY['ops-manage', 'payment-webhook', 'scheduled-dispatcher', 'refund-process'])[1 + g % 4],
       CASE WHEN g % 3 = 0 THEN 'POST' ELSE 'GET' END, CASE WHEN g % 50 = 0 THEN 500 ELSE 200 END,
       md5('ex' || g), 'v' || (g / 100000)
FROM generate_series(1, 300000) g;
INSERT INTO logs.function_logs (id, "timestamp", function_name, level, execution_id, event_message)
SELECT md5('fl' || g)::uuid, now() - (30 * 86400.0 * (1 - g::float8 / 200000)) * interval '1 second',
       (ARRAY['ops-manage', 'payment-webhook'])[1 + g % 2], CASE WHEN g % 20 = 0 THEN 'error' ELSE 'info' END,
       md5('ex' || g), 'line ' || g
FROM generate_series(1, 200000) g;
INSERT INTO logs.edge_logs (id, "timestamp", method, path, status_code)
SELECT md5('el' || g)::uuid, now() - (30 * 86400.0 * (1 - g::float8 / 200000)) * interval '1 second',
       CASE WHEN g % 2 = 0 THEN 'POST' ELSE 'GET' END,
       CASE WHEN g % 10 = 0 THEN '/storage/v1/object/banners/b' || g || '.webp' ELSE '/rest/v1/messages' END, 200
FROM generate_series(1, 200000) g;
INSERT INTO public.admin_audit_log (admin_id, action, target_type, target_id, created_at)
SELECT md5('u' || (1 + g % 5))::uuid, (ARRAY['refund.approve', 'banner.publish', 'role.grant'])[1 + g % 3],
       CASE WHEN g % 3 = 2 THEN 'user' ELSE 'refund' END, md5('u' || (g % 5000 + 1))::uuid::text,
       now() - (30 * 86400.0 * (1 - g::float8 / 100000)) * interval '1 second'
FROM generate_series(1, 100000) g;
INSERT INTO public.rate_limits (key, window_start, window_seconds, hits)
SELECT 'ops_manage:user:' || md5('u' || (g % 5000 + 1))::uuid, date_trunc('minute', now()) - g * interval '1 minute',
       60, 1 + g % 70
FROM generate_series(1, 100000) g;
INSERT INTO public.ops_audit_log (occurred_at, source, actor, action)
SELECT now() - (30 * 86400.0 * (1 - g::float8 / 50000)) * interval '1 second', 'edge_function', 'edge:x',
       CASE WHEN g % 100 = 0 THEN 'function.deploy' ELSE 'dispatch.batch' END
FROM generate_series(1, 50000) g;
SET session_replication_role = origin;
ANALYZE;
"""

ALLOWED = {"index", "seq scan (small tables)", "no table scan"}


@pytest.fixture(scope="module")
def volume() -> Iterator[str]:
    with volume_database("adm_vol", VOLUME_SQL) as name:
        yield embedded.url(name, user=embedded.READER_ROLE)


def test_every_admin_query_is_window_bound(volume, artifacts):
    until = datetime.now(UTC)
    since = until - timedelta(hours=1)
    overrides = {
        "lookback": until - timedelta(days=7),
        "bucket": timedelta(minutes=5),
        "last": 20,
        "patterns": ["SUPABASE_SERVICE_ROLE_KEY"],
        "schemas": ["public"],
        "tables": ["banners"],
    }
    with db.read_only(volume, "admin") as conn:
        plans = explain_domain(conn, "admin", since, until, overrides)
    names = {p.query for p in plans}
    assert names == {q for q in queries.catalogue() if q.startswith("admin.")}
    report = [{"query": p.query, "class": p.plan_class, "seq": p.seq_scanned, "idx": p.index_scanned} for p in plans]
    (artifacts / "admin-plans.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    bad = [(p.query, p.plan_class) for p in plans if p.plan_class not in ALLOWED]
    assert not bad, f"queries whose cost grows with the table: {bad}"


def test_every_step_runs_on_an_empty_contract_database(contract_db):
    until = datetime.now(UTC)
    window = Window(until - timedelta(hours=1), until)
    with db.read_only(contract_db.reader, "admin") as conn:
        steps = [
            admin.detect(conn, window),
            admin.who_can_get_in(conn, window),
            admin.errors_by_version(conn, window),
            admin.service_key(conn, window),
            admin.admin_rate_limits(conn, window),
            admin.recovery(conn, window),
            admin.exit_condition(conn, until),
            admin.impact(conn, window),
            admin.publish_block_plan(conn, ""),
            admin.restore_plan(conn, window, "", ""),
        ]
    findings = [f for s in steps for f in getattr(s, "findings", ())]
    assert not [f for f in findings if f.outcome in (Outcome.ERROR, Outcome.WARN, Outcome.CRITICAL)], [
        (f.key, f.outcome.value, f.detail) for f in findings if f.outcome is not Outcome.OK
    ]
    assert steps[8].outcome is None and "production" in steps[8].sentence.lower()


def test_a_failing_query_is_an_error_finding_not_a_crash(contract_db):
    with psycopg.connect(contract_db.admin, autocommit=True) as conn:
        conn.execute("REVOKE SELECT ON logs.function_edge_logs FROM opsbook_reader")
    until = datetime.now(UTC)
    with db.read_only(contract_db.reader, "admin") as conn:
        detection = admin.detect(conn, Window(until - timedelta(hours=1), until))
        exit_check = admin.exit_condition(conn, until)
    status = next(f for f in detection.findings if f.check == "admin.ops_manage_5xx")
    assert status.outcome is Outcome.ERROR and "permission denied" in status.detail
    assert exit_check.met is None or exit_check.met is False
    assert exit_check.met is not True and any(f.outcome is Outcome.ERROR for f in exit_check.findings)
