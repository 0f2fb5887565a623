"""The smoke page's database half on databases written by hand on the contract (no seeder): what T3's
"error disguised as an empty state" is checked against, and T2's dt_purchases query. Expectations
written from §6 before running: an account with a live subscription must not see an empty list; an
expired one may; a quiet window holds no purchases and that is not an error; a query that cannot run
is ERROR, never OK."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from opslib import db, timewindow
from opslib.results import Outcome
from opslib.smoke import account_facts, cases, dt_purchases

FAN = "Fan.One@Example.com"  # typed with capitals by a tester; GoTrue keeps it lower-case


@pytest.fixture(scope="module")
def handbuilt():
    from conftest import _create, _drop

    target = _create("smokehb", recommended_indexes=False)
    with psycopg.connect(target.admin) as conn:
        fan, creator, other = (
            conn.execute(
                "INSERT INTO auth.users (id, email) VALUES (gen_random_uuid(), %s) RETURNING id", (e,)
            ).fetchone()[0]
            for e in ("fan.one@example.com", "creator@example.com", "lapsed@example.com")
        )
        # a live one for the fan; only an expired one for the lapsed account
        conn.execute(
            "INSERT INTO public.subscriptions (fan_id, creator_id, price_dt, current_period_end) "
            "VALUES (%s, %s, 100, now() + interval '3 days')",
            (fan, creator),
        )
        conn.execute(
            "INSERT INTO public.subscriptions (fan_id, creator_id, price_dt, status, current_period_start, "
            "current_period_end) VALUES (%s, %s, 100, 'expired', now() - interval '40 days', "
            "now() - interval '10 days')",
            (other, creator),
        )
        pkg = conn.execute(
            "INSERT INTO public.dt_packages (sku, name, dt_amount, price_krw) VALUES ('dt_100', 'DT 100', 100, 1100) "
            "RETURNING id"
        ).fetchone()[0]
        # one failed purchase (NULL paid_at, a failure code) and one still pending, inside the window
        conn.execute(
            "INSERT INTO public.dt_purchases (user_id, package_id, provider, order_id, amount_krw, dt_amount, status, "
            "idempotency_key, failure_code, created_at) VALUES "
            "(%s, %s, 'portone', 'ord_fail_01', 1100, 100, 'failed', 'idem-fail-01', 'PG_DECLINED', "
            " now() - interval '3 minutes'), "
            "(%s, %s, 'tosspayments', 'ord_pend_01', 1100, 100, 'pending', 'idem-pend-01', NULL, "
            " now() - interval '2 minutes')",
            (fan, pkg, fan, pkg),
        )
        conn.commit()
    yield target
    _drop(target)


def _plan(tmp_path, monkeypatch, email: str) -> cases.Plan:
    monkeypatch.setenv("OPSBOOK_SMOKE_PASSWORD", "Sm0ke-Tester!2931")
    return cases.plan(base_url="http://127.0.0.1:9", test_email=email, screenshots=tmp_path)


def test_the_database_says_how_many_subscriptions_the_account_should_see(handbuilt, tmp_path, monkeypatch):
    with db.read_only(handbuilt.reader, "smoke") as conn:
        live = account_facts(conn, _plan(tmp_path, monkeypatch, FAN))
        lapsed = account_facts(conn, _plan(tmp_path, monkeypatch, "lapsed@example.com"))
        unknown = account_facts(conn, _plan(tmp_path, monkeypatch, "nobody@example.com"))
    assert live.facts["subscriptions"] == 1, "an empty /subscriptions page for this account is a disguise"
    assert lapsed.facts["subscriptions"] == 0, "expired only: an empty page is honest"
    assert unknown.facts["subscriptions"] is None, "an account the database does not know: not cross-checked"
    assert live.facts["packages"] == 1 and live.facts["campaigns"] == 0
    assert not live.findings
    text = live.table.to_string()
    assert "fan.one" not in text.lower()


def test_dt_purchases_pairs_t2_with_the_window_and_masks_the_buyer(handbuilt):
    now = datetime.now(UTC)
    with db.read_only(handbuilt.reader, "smoke") as conn:
        found = dt_purchases(conn, timewindow.Window(now - timedelta(minutes=10), now))
        quiet = dt_purchases(conn, timewindow.Window(now - timedelta(hours=3), now - timedelta(hours=2)))
    assert sorted(found.by_status["status"]) == ["failed", "pending"]
    assert len(found.recent) == 2 and set(found.recent["failure_code"].fillna("-")) == {"PG_DECLINED", "-"}
    assert all("…" in str(u) for u in found.recent["user_id"]), "buyer ids are masked"
    assert found.findings[0].outcome is Outcome.OK and found.findings[0].value == 2
    assert quiet.by_status.empty and quiet.findings[0].value == 0, "a quiet window is not an error"


def test_a_query_that_cannot_run_is_an_error_not_ok(handbuilt, tmp_path, monkeypatch):
    with psycopg.connect(handbuilt.admin, autocommit=True) as conn:
        conn.execute("REVOKE SELECT ON public.subscriptions FROM opsbook_reader")
    try:
        with db.read_only(handbuilt.reader, "smoke") as conn:
            facts = account_facts(conn, _plan(tmp_path, monkeypatch, FAN))
    finally:
        with psycopg.connect(handbuilt.admin, autocommit=True) as conn:
            conn.execute("GRANT SELECT ON public.subscriptions TO opsbook_reader")
    assert facts.facts["subscriptions"] is None
    assert [f.outcome for f in facts.findings] == [Outcome.ERROR]
    assert facts.facts["packages"] == 1, "the other counts still measured"
