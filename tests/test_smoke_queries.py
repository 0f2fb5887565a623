"""EXPLAIN class of the smoke page's queries on a volume big enough for the planner to prefer indexes.

dt_purchases over the window reads the recommended dt_purchases (created_at) index (the contract has
none on created_at alone; opslib/sql/recommended_indexes.sql); the account lookup goes through
auth.users' email key and subscriptions' live (fan, creator) index; dt_packages is small by nature.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest
import sqlalchemy as sa

from opslib import db, embedded, queries
from opslib.explain import SMALL_TABLES, classify, sample_parameters

SMOKE_QUERIES = sorted(q for q in queries.catalogue() if q.startswith("smoke."))

VOLUME = """
INSERT INTO auth.users (id, email)
SELECT gen_random_uuid(), 'fan' || g || '@example.com' FROM generate_series(1, 3000) g;
INSERT INTO public.dt_packages (sku, name, dt_amount, price_krw) VALUES ('dt_1000', 'DT 1,000', 1000, 11000);
INSERT INTO public.dt_purchases (user_id, package_id, provider, order_id, amount_krw, dt_amount, status,
                                 idempotency_key, created_at)
SELECT u.ids[1 + g % 3000], (SELECT id FROM public.dt_packages), 'portone', 'order_' || g, 11000, 1000, 'pending',
       'idem-key-' || g, now() - g * interval '20 seconds'
FROM generate_series(1, 60000) g, (SELECT array_agg(id ORDER BY email) AS ids FROM auth.users) u;
INSERT INTO public.subscriptions (fan_id, creator_id, price_dt, current_period_end, status)
SELECT u.ids[g], u.ids[g + 1], 100, now() + interval '10 days', CASE WHEN g % 3 = 0 THEN 'expired' ELSE 'active' END
FROM generate_series(1, 2900) g, (SELECT array_agg(id ORDER BY email) AS ids FROM auth.users) u;
INSERT INTO public.funding_campaigns (creator_id, title, goal_dt, status, starts_at, ends_at)
SELECT (SELECT min(id::text)::uuid FROM auth.users), 'c' || g, 1000,
       CASE WHEN g % 20 = 0 THEN 'active' ELSE 'succeeded' END,
       now() - interval '30 days', now() - interval '1 day' + g * interval '1 minute'
FROM generate_series(1, 20000) g;
ANALYZE;
"""


@pytest.fixture(scope="module")
def volume():
    from conftest import _create, _drop

    target = _create("smokeq", recommended_indexes=True)
    with psycopg.connect(target.admin, autocommit=True) as conn:
        for statement in VOLUME.split(";\n"):
            if statement.strip():
                conn.execute(statement)
    yield target
    _drop(target)


@pytest.mark.parametrize("name", SMOKE_QUERIES)
def test_every_smoke_query_follows_its_window(volume, name):
    until = datetime.now(UTC)
    since = until - timedelta(minutes=15)
    q = queries.get(name)
    values = sample_parameters(q, since, until, {"email": "fan7@example.com"})
    with db.read_only(embedded.url(volume.name, user=embedded.READER_ROLE), "smoke") as conn:
        plan = conn.execute(sa.text("EXPLAIN (FORMAT JSON) " + q.sql), values).scalar()[0]
    found = classify(name, plan)
    unexpected = set(found.seq_scanned) - SMALL_TABLES
    assert not unexpected, f"{name} scans {unexpected} whole ({found.plan_class})"
    if name == "smoke.catalogue_counts":
        # counting active campaigns reads the partial index funding_campaigns_active_idx (WHERE status =
        # 'active') end to end: it holds the live campaigns only, not the table's history
        assert found.plan_class in ("index", "full index scan: funding_campaigns"), found.plan_class
        return
    assert not found.plan_class.startswith("full index scan"), found.plan_class
