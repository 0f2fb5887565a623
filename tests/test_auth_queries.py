"""The auth queries are window-bound: EXPLAIN on a contract-only database holding a month of logs.

A query may read a big table whole only where its header says why (the contract lacks the index);
the plan classes and timings are written to test-artifacts/auth-plans.md.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
import sqlalchemy as sa
from conftest import volume_database

from opslib import db, embedded, queries
from opslib.explain import classify

AUTH_QUERIES = sorted(q for q in queries.catalogue() if q.startswith("auth."))

# Big tables a query may read whole, and why (see the query's header).
ALLOWED_SEQ_SCANS = {
    # no created_at index in Supabase's schema; opsbook recommends audit_log_entries_created_idx
    "audit_logins": {"audit_log_entries"},
}

VOLUME_SQL = """
INSERT INTO logs.auth_logs (id, "timestamp", level, method, path, grant_type, status, error_code, provider, user_id,
                            request_id, msg, metadata)
SELECT gen_random_uuid(), now() - (g % 43200) * interval '1 minute', 'info', 'POST', '/token',
       CASE WHEN g % 3 = 0 THEN 'password' ELSE 'refresh_token' END, CASE WHEN g % 50 = 0 THEN 400 ELSE 200 END,
       CASE WHEN g % 50 = 0 THEN 'invalid_credentials' END, 'email', md5((g % 5000)::text)::uuid, g::text, 'Login',
       jsonb_build_object('remote_addr', '211.1.' || g % 250 || '.1', 'duration', 50000000)
FROM generate_series(1, 120000) g;
INSERT INTO logs.edge_logs (id, "timestamp", method, path, status_code, user_id, client_platform)
SELECT gen_random_uuid(), now() - (g % 43200) * interval '1 minute', 'GET',
       CASE WHEN g % 2 = 0 THEN '/rest/v1/messages' ELSE '/storage/v1/object/a.webp' END,
       CASE WHEN g % 100 = 0 THEN 401 ELSE 200 END, md5((g % 5000)::text)::uuid, 'ios'
FROM generate_series(1, 120000) g;
INSERT INTO auth.sessions (id, user_id, created_at, updated_at)
SELECT md5('s' || g)::uuid, md5((g % 5000)::text)::uuid, now() - (g % 43200) * interval '1 minute', now()
FROM generate_series(1, 20000) g;
INSERT INTO auth.refresh_tokens (token, user_id, revoked, created_at, updated_at, session_id)
SELECT 't' || g, (g % 5000)::text, true, now() - (g % 43200) * interval '1 minute',
       now() - (g % 43200) * interval '1 minute', md5('s' || (g % 20000 + 1))::uuid
FROM generate_series(1, 80000) g;
INSERT INTO auth.audit_log_entries (id, payload, created_at, ip_address)
SELECT gen_random_uuid(), json_build_object('action', 'login'), now() - (g % 43200) * interval '1 minute', ''
FROM generate_series(1, 40000) g;
"""


@pytest.fixture(scope="module")
def volume() -> Iterator[str]:
    with volume_database("authvol", VOLUME_SQL, triggers=False) as name:
        yield name


def parameters(until: datetime) -> dict[str, dict[str, object]]:
    """What the page passes: a 1-hour window, 5-minute buckets."""
    window = {"since": until - timedelta(hours=1), "until": until}
    five = timedelta(minutes=5)
    none: list[str] = []
    return {
        "requests": {**window, "bucket": five, "slow_ms": 3000.0, "attack_ips": none, "noisy_users": none},
        "login_sources": window,
        "login_users": {**window, "attack_ips": none},
        "api_denials": window,
        "api_401_history": {**window, "days_back": 7},
        "refresh_chains": {"since": until - timedelta(hours=3), "until": until},
        "audit_logins": {**window, "bucket": five},
        "rate_limits": window,
        "demo_flags": {},
    }


def _scans(plan: dict) -> Iterator[tuple[str, str | None]]:
    yield str(plan.get("Node Type")), plan.get("Relation Name")
    for child in plan.get("Plans", []) or []:
        yield from _scans(child)


def test_every_auth_query_is_window_bound(volume, artifacts):
    until = datetime.now(UTC)
    params = parameters(until)
    assert set(params) == {q.split(".", 1)[1] for q in AUTH_QUERIES}, "an auth query has no EXPLAIN parameters"
    report = []
    with db.read_only(embedded.url(volume, user=embedded.READER_ROLE), "auth") as conn:
        for name, values in params.items():
            q = queries.get(f"auth.{name}")
            plan = conn.execute(sa.text("EXPLAIN (FORMAT JSON) " + q.sql), values).scalar()[0]
            seq = {rel for kind, rel in _scans(plan["Plan"]) if kind == "Seq Scan" and rel} - {"feature_flags"}
            started = time.perf_counter()
            rows = len(queries.run(conn, f"auth.{name}", values).frame)
            ms = round((time.perf_counter() - started) * 1000, 1)
            report.append({"query": f"auth.{name}", "class": classify(f"auth.{name}", plan).plan_class, "ms": ms,
                           "rows": rows, "seq_scanned": sorted(seq)})  # fmt: skip
            unexpected = seq - ALLOWED_SEQ_SCANS.get(name, set())
            assert not unexpected, f"auth.{name} reads {unexpected} whole"
    (artifacts / "auth-plans.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    lines = ["| query | plan class | ms | rows |", "| --- | --- | ---: | ---: |"]
    lines += [f"| {r['query']} | {r['class']} | {r['ms']} | {r['rows']} |" for r in report]
    (artifacts / "auth-plans.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_the_recommended_index_makes_the_audit_comparison_window_bound(volume):
    with psycopg.connect(embedded.libpq_url(volume), autocommit=True) as conn:
        conn.execute("CREATE INDEX IF NOT EXISTS audit_log_entries_created_idx ON auth.audit_log_entries (created_at)")
        conn.execute("ANALYZE auth.audit_log_entries")
    until = datetime.now(UTC)
    with db.read_only(embedded.url(volume, user=embedded.READER_ROLE), "auth") as conn:
        q = queries.get("auth.audit_logins")
        plan = conn.execute(sa.text("EXPLAIN (FORMAT JSON) " + q.sql), parameters(until)["audit_logins"]).scalar()[0]
    assert not [rel for kind, rel in _scans(plan["Plan"]) if kind == "Seq Scan"], plan
