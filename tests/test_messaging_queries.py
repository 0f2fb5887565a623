"""Every messaging query is window-bound: EXPLAIN on a database with a month of volume shows no
whole-table scan of a big table (with the recommended indexes, as the demo and a tuned
production have them), and on the bare contract only `messages` may be scanned whole (it has no
time index there; recommended_indexes.sql adds two)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
import sqlalchemy as sa

from opslib import db, embedded, queries
from opslib.explain import classify, sample_parameters

VOLUME_SQL = """
INSERT INTO public.subscriptions (fan_id, creator_id, price_dt, status, current_period_end)
SELECT md5('f' || g)::uuid, md5('c' || (g % 300))::uuid, 300, CASE WHEN g % 10 = 0 THEN 'cancelled' ELSE 'active' END,
       now() + interval '10 days'
FROM generate_series(1, 20000) g;
INSERT INTO public.messages (id, sender_id, audience, recipient_id, scheduled_at, scheduled_status, sent_at,
                             dispatch_attempts, created_at, updated_at)
SELECT md5('m' || g)::uuid, md5('c' || (g % 300))::uuid,
       CASE WHEN g % 3 = 0 THEN 'subscribers' ELSE 'user' END,
       CASE WHEN g % 3 = 0 THEN NULL ELSE md5('f' || (g % 20000))::uuid END,
       x.t, 'sent', x.t + interval '20 seconds', 1, x.t - interval '1 hour', x.t + interval '20 seconds'
FROM generate_series(1, 60000) g,
     LATERAL (SELECT now() - (30 * 86400.0 * (1 - g::float8 / 60000)) * interval '1 second' AS t) x;
INSERT INTO public.messages (sender_id, audience, recipient_id, scheduled_at, scheduled_status, created_at)
SELECT md5('c' || (g % 300))::uuid, 'user', md5('f' || g)::uuid, now() - g * interval '1 second', 'pending',
       now() - interval '1 hour'
FROM generate_series(1, 300) g;
INSERT INTO public.message_delivery (message_id, recipient_id, channel, status, delivered_at, created_at)
SELECT md5('m' || g)::uuid, md5('f' || (g % 20000 + k))::uuid, CASE WHEN k = 0 THEN 'inbox' ELSE 'push' END,
       'delivered', now() - (30 * 86400.0 * (1 - g::float8 / 60000)) * interval '1 second',
       now() - (30 * 86400.0 * (1 - g::float8 / 60000)) * interval '1 second'
FROM generate_series(1, 60000) g, generate_series(0, 1) k;
INSERT INTO logs.realtime_logs (id, "timestamp", level, event_type, channel, latency_ms)
SELECT md5('r' || g)::uuid, now() - (30 * 86400.0 * (1 - g::float8 / 60000)) * interval '1 second', 'info',
       CASE WHEN g % 3 = 0 THEN 'channel_join' ELSE 'broadcast' END, 'room:x',
       CASE WHEN g % 3 <> 0 THEN 100 + g % 300 END
FROM generate_series(1, 60000) g;
INSERT INTO logs.edge_logs (id, "timestamp", method, path, status_code, user_id)
SELECT md5('e' || g)::uuid, now() - (30 * 86400.0 * (1 - g::float8 / 60000)) * interval '1 second', 'GET',
       CASE WHEN g % 3 = 0 THEN '/rest/v1/messages' WHEN g % 3 = 1 THEN '/rest/v1/dt_packages'
            ELSE '/storage/v1/object/sign/message-media/x/y.jpg' END, 200, md5('f' || (g % 20000))::uuid
FROM generate_series(1, 60000) g;
INSERT INTO logs.function_edge_logs (id, "timestamp", function_name, method, status_code)
SELECT md5('fn' || g)::uuid, now() - (30 * 86400.0 * (1 - g::float8 / 30000)) * interval '1 second',
       CASE WHEN g % 2 = 0 THEN 'scheduled-dispatcher' ELSE 'payment-webhook' END, 'POST', 200
FROM generate_series(1, 30000) g;
"""

# Tables small by nature or holding only a state (partial indexes keep those small too).
SMALL = {"feature_flags", "admin_audit_log", "pg_class", "pg_policy", "pg_namespace", "pg_authid", "pg_roles"}
# On the bare contract (no recommended index), the queries reading messages by time scan it.
BARE_CONTRACT_SEQ = {"messages"}


def _volume(recommended: bool) -> str:
    name = f"msgvol_{uuid.uuid4().hex[:8]}"
    embedded.create_contract_database(name, replace=True, recommended_indexes=recommended)
    with psycopg.connect(embedded.libpq_url(name), autocommit=True) as conn:
        conn.execute("SET session_replication_role = replica")
        conn.execute(VOLUME_SQL)  # type: ignore[arg-type]  # a constant
        conn.execute("SET session_replication_role = origin")
        conn.execute("ANALYZE")
    return name


def _drop(name: str) -> None:
    with psycopg.connect(embedded.libpq_url("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def volumes() -> Iterator[dict[str, str]]:
    names = {"recommended": _volume(True), "contract": _volume(False)}
    yield names
    for name in names.values():
        _drop(name)


def _overrides(until: datetime) -> dict[str, object]:
    return {
        "bucket": timedelta(minutes=5),
        "grace": timedelta(minutes=1),
        "late_after": timedelta(seconds=90),
        "days": 7,
        "max_rows": 100,
        "cutoff": until - timedelta(minutes=10),
        "failed_since": until - timedelta(days=2),
        "function_name": "scheduled-dispatcher",
        "flag": "messages.scheduled_dispatch",
        "until": until,
    }


NAMES = sorted(
    n
    for n, q in queries.catalogue().items()
    if q.domain == "messaging" or n in ("common.function_status", "common.function_drain")
)


@pytest.mark.parametrize("flavour", ["recommended", "contract"])
def test_every_messaging_query_is_window_bound(volumes, flavour, artifacts):
    import time

    until = datetime.now(UTC)
    since = until - timedelta(hours=1)
    report = []
    with db.read_only(embedded.url(volumes[flavour], user=embedded.READER_ROLE), "messaging") as conn:
        for name in NAMES:
            q = queries.get(name)
            params = sample_parameters(q, since, until, _overrides(until))
            plan = conn.execute(sa.text("EXPLAIN (FORMAT JSON) " + q.sql), params).scalar()[0]
            found = classify(name, plan)
            started = time.perf_counter()
            rows = len(queries.run(conn, name, params).frame)
            ms = (time.perf_counter() - started) * 1000
            big = set(found.seq_scanned) - SMALL
            allowed = BARE_CONTRACT_SEQ if flavour == "contract" else set()
            assert big <= allowed, f"{name} scans {big} whole ({found.plan_class})"
            report.append({"query": name, "plan_class": found.plan_class, "ms": round(ms, 1), "rows": rows})
    (artifacts / f"messaging-plans-{flavour}.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    assert len(report) == len(NAMES) >= 17
