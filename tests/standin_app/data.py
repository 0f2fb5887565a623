"""Rows the stand-in serves, written by hand on the contract (its own trigger makes profiles and wallets)."""

from __future__ import annotations

import psycopg

from standin_app.server import hash_password

MAIN = "smoke.tester@example.com"
PEER = "smoke.peer@example.com"
CREATOR = "creator.kim@example.com"


def populate(dsn: str, password: str, peer_password: str) -> None:
    with psycopg.connect(dsn, autocommit=False) as conn:
        users = {}
        for email, pw in ((MAIN, password), (PEER, peer_password), (CREATOR, None)):
            users[email] = conn.execute(
                "INSERT INTO auth.users (id, email, encrypted_password, raw_user_meta_data) "
                "VALUES (gen_random_uuid(), %s, %s, '{}') RETURNING id",
                (email, hash_password(pw) if pw else None),
            ).fetchone()[0]
        # handle_new_user made the profiles; the smoke account is also the admin T7 logs in as
        conn.execute(
            "UPDATE public.user_profiles SET role = 'admin', handle = 'smoke_tester' WHERE id = %s", (users[MAIN],)
        )
        conn.execute(
            "UPDATE public.user_profiles SET role = 'creator', display_name = '크리에이터 하늘' WHERE id = %s",
            (users[CREATOR],),
        )
        conn.execute(
            "INSERT INTO public.dt_packages (sku, name, dt_amount, bonus_dt, price_krw, sort_order) VALUES "
            "('dt_1000', 'DT 1,000', 1000, 0, 11000, 1), ('dt_5000', 'DT 5,000', 5000, 250, 55000, 2), "
            "('dt_10000', 'DT 10,000', 10000, 1000, 110000, 3)"
        )
        conn.execute(
            "INSERT INTO public.subscriptions (fan_id, creator_id, tier, price_dt, current_period_end) "
            "VALUES (%s, %s, 'gold', 3000, now() + interval '20 days')",
            (users[MAIN], users[CREATOR]),
        )
        conn.execute(
            "INSERT INTO public.funding_campaigns (creator_id, title, description, goal_dt, raised_dt, status, "
            "starts_at, ends_at) VALUES "
            "(%s, '앨범 제작 펀딩', '두 번째 미니앨범', 500000, 120000, 'active', now() - interval '3 days', "
            " now() + interval '20 days'), "
            "(%s, '팬미팅 대관', '서울 팬미팅', 200000, 200000, 'active', now() - interval '9 days', "
            " now() + interval '5 days')",
            (users[CREATOR], users[CREATOR]),
        )
        # a purchase made just before the smoke (T2's dt_purchases query shows it), credited by the contract
        pkg = conn.execute("SELECT id FROM public.dt_packages WHERE sku = 'dt_1000'").fetchone()[0]
        pid = conn.execute(
            "INSERT INTO public.dt_purchases (user_id, package_id, provider, order_id, amount_krw, dt_amount, "
            "status, idempotency_key, paid_at, created_at) VALUES (%s, %s, 'tosspayments', 'smoke_order_0001', "
            "11000, 1000, 'paid', 'idem-smoke-0001', now() - interval '4 minutes', now() - interval '5 minutes') "
            "RETURNING id",
            (users[MAIN], pkg),
        ).fetchone()[0]
        conn.execute("SELECT public.credit_dt_purchase(%s)", (pid,))
        conn.commit()
