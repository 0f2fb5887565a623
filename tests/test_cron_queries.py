"""EXPLAIN class of every cron query on a volume big enough for the planner to prefer indexes.

Allowed whole-table reads: cron.job (one row per job) and reconciliation_runs (one row per provider
and day) are small by nature; cron.job_run_details has no index but the primary key (pg_cron ships
none, and on Supabase the extension owns the table), and is kept to 14 days by the contract's own
cron-history-cleanup job, which this page watches (cron.cleanup_backlog).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
import sqlalchemy as sa

from opslib import db, embedded, queries
from opslib.explain import SMALL_TABLES, classify, sample_parameters

CRON_QUERIES = sorted(q for q in queries.catalogue() if q.startswith("cron."))
ALLOWED_SEQ = SMALL_TABLES | {"job_run_details"}

VOLUME = """
INSERT INTO net._http_response (id, status_code, created)
SELECT g, 200, now() - g * interval '1 second' FROM generate_series(1, 60000) g;
INSERT INTO logs.function_edge_logs (id, "timestamp", function_name, method, status_code, execution_time_ms)
SELECT gen_random_uuid(), now() - g * interval '2 seconds',
       (ARRAY['scheduled-dispatcher', 'payment-webhook', 'ops-manage', 'payment-reconcile'])[1 + g % 4], 'POST', 200, 50
FROM generate_series(1, 80000) g;
INSERT INTO logs.function_logs (id, "timestamp", function_name, level, event_message)
SELECT gen_random_uuid(), now() - g * interval '2 seconds', 'scheduled-dispatcher',
       (ARRAY['log', 'info', 'warn', 'error'])[1 + g % 4], 'x'
FROM generate_series(1, 80000) g;
INSERT INTO public.rate_limits (key, window_start, window_seconds, hits)
SELECT 'k' || (g % 500), date_trunc('minute', now()) - (g / 500) * interval '1 minute', 60, 1
FROM generate_series(1, 80000) g;
INSERT INTO public.idempotency_keys (scope, key, status, created_at, expires_at)
SELECT 'purchase.confirm', 'idem-key-' || g, 'completed', now() - g * interval '30 seconds',
       now() - g * interval '30 seconds' + interval '15 days'
FROM generate_series(1, 60000) g;
INSERT INTO auth.users (id, email) VALUES ('00000000-0000-4000-8000-00000000c0de', 'creator@example.com');
INSERT INTO public.messages (sender_id, body, scheduled_at, scheduled_status, sent_at, locked_at)
SELECT '00000000-0000-4000-8000-00000000c0de', 'm', now() - g * interval '20 seconds',
       CASE WHEN g % 50 = 0 THEN 'pending' WHEN g % 50 = 1 THEN 'processing' ELSE 'sent' END,
       CASE WHEN g % 50 > 1 THEN now() - g * interval '20 seconds' END,
       CASE WHEN g % 50 = 1 THEN now() - g * interval '20 seconds' END
FROM generate_series(1, 60000) g;
INSERT INTO cron.job_run_details (jobid, command, status, start_time, end_time)
SELECT 1, 'SELECT 1', 'succeeded', now() - g * interval '1 minute', now() - g * interval '1 minute' + interval '30 ms'
FROM generate_series(1, 20000) g;
ANALYZE;
"""


@pytest.fixture
def volume(contract_db):
    with psycopg.connect(contract_db.admin, autocommit=True) as conn:
        for statement in VOLUME.split(";\n"):
            if statement.strip():
                conn.execute(statement)
    return contract_db


def test_every_cron_query_follows_its_window(volume, artifacts):
    until = datetime.now(UTC)
    since = until - timedelta(hours=1)
    overrides = {"functions": ["scheduled-dispatcher"], "jobids": [1], "jobname": "scheduled-dispatcher", "cap": 1000}
    report = []
    with db.read_only(embedded.url(volume.name, user=embedded.READER_ROLE), "cron") as conn:
        for name in CRON_QUERIES:
            q = queries.get(name)
            values = sample_parameters(q, since, until, overrides)
            plan = conn.execute(sa.text("EXPLAIN (FORMAT JSON) " + q.sql), values).scalar()[0]
            found = classify(name, plan)
            report.append({"query": name, "class": found.plan_class, "seq": list(found.seq_scanned)})
            unexpected = set(found.seq_scanned) - ALLOWED_SEQ
            assert not unexpected, f"{name} scans {unexpected} whole ({found.plan_class})"
    (artifacts / "cron-plans.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    # the queries over the big log tables really use their indexes
    by_name = {r["query"]: r for r in report}
    for name in ("cron.http_responses", "cron.function_invocations", "cron.function_errors", "cron.late_messages"):
        assert by_name[name]["class"] == "index", by_name[name]
