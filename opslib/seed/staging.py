"""The seeder's scratch schema: run parameters, id helpers, and the staged users and purchases.

Every generator reads the staged rows (UNLOGGED, no WAL) instead of re-deriving them, so the
tables that describe one purchase (dt_purchases, webhooks, PG imports, ledger, logs) agree by
construction. Randomness after the purchase timestamps comes from `s_rnd(n, salt)`, a hash
of the row number: every table can re-derive the same "random" choice without a join.
"""

from __future__ import annotations

from datetime import timedelta

import psycopg

from opslib.seed import profile
from opslib.seed.plan import Plan
from opslib.seed.signing import DEMO_PORTONE_WEBHOOK_SECRET, hmac_pads

SCHEMA = "opsbook_seed_work"
SEARCH_PATH = f"{SCHEMA}, public"

CREATE_SCHEMA = f"""
DROP SCHEMA IF EXISTS {SCHEMA} CASCADE;
CREATE SCHEMA {SCHEMA};
CREATE UNLOGGED TABLE {SCHEMA}.s_params (
  as_of timestamptz NOT NULL, t0 timestamptz NOT NULL, quiet_from timestamptz NOT NULL,
  incident_start timestamptz NOT NULL,
  deploy_at timestamptz NOT NULL, scale int NOT NULL, n_creators int NOT NULL, n_fans int NOT NULL,
  n_pre int NOT NULL, fan0 int NOT NULL, per_hour float8 NOT NULL, weights float8[] NOT NULL,
  store_id text NOT NULL, toss_mid text NOT NULL, project_url text NOT NULL,
  iss uuid, promo uuid, fee uuid, ipad bytea NOT NULL, opad bytea NOT NULL,
  toss_fail text[] NOT NULL, toss_fail_msg text[] NOT NULL, po_fail text[] NOT NULL, po_fail_msg text[] NOT NULL,
  days int NOT NULL
);
-- Uniform [0,1) from a row number: deterministic, cheap, inlined by the planner.
CREATE FUNCTION {SCHEMA}.s_rnd(n bigint, salt int) RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT (hashint8extended(n, salt) & 16777215)::float8 / 16777216 $$;
-- Random-looking version-4 UUID from a row number (deterministic, faster than gen_random_uuid()).
CREATE FUNCTION {SCHEMA}.s_uuid4(n bigint, salt int) RETURNS uuid
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT (lpad(to_hex((hashint8extended(n, salt) & -61441) | 16384), 16, '0')
           || to_hex((hashint8extended(n, salt + 1) & 4611686018427387903) | (-9223372036854775807 - 1)))::uuid $$;
-- Version-7 UUID (millisecond time prefix): wallet transaction ids are created in time order,
-- so their primary key and wallet_ledger (tx_id, account_id) are appended to, not scattered.
-- STABLE, not IMMUTABLE: date_part(timestamptz) is stable, and a mislabelled function is not inlined.
CREATE FUNCTION {SCHEMA}.s_uuid7(ts timestamptz, n bigint, salt int) RETURNS uuid
LANGUAGE sql STABLE PARALLEL SAFE AS
$$ SELECT (lpad(to_hex((floor(date_part('epoch', ts) * 1000)::bigint << 16) | 28672
                       | (hashint8extended(n, salt) & 4095)), 16, '0')
           || to_hex((hashint8extended(n, salt + 1) & 4611686018427387903) | (-9223372036854775807 - 1)))::uuid $$;
-- Event times over the last `hours` before as_of, per_day on average, following the KST profile.
-- Hash-random per (hour, event, salt), not random(): the seeding lanes share sessions in no fixed
-- order, so random() made every seed (and every test drill on it) different; `salt` keeps the
-- callers' streams apart.
CREATE FUNCTION {SCHEMA}.s_rhythm(per_day float8, hours int, salt int) RETURNS TABLE (ts timestamptz)
LANGUAGE sql STABLE AS $$
  SELECT b.hs + {SCHEMA}.s_rnd(b.h * 1000003 + g, salt) * interval '1 hour'
  FROM {SCHEMA}.s_params p
  CROSS JOIN LATERAL (SELECT h, p.as_of - (h + 1) * interval '1 hour' AS hs FROM generate_series(0, hours - 1) h) b
  CROSS JOIN LATERAL generate_series(1, round(per_day / 24 / (SELECT avg(x) FROM unnest(p.weights) x)
      * p.weights[1 + extract(hour FROM (b.hs + interval '30 minutes') AT TIME ZONE 'Asia/Seoul')::int]
      * (0.85 + 0.3 * {SCHEMA}.s_rnd(b.h, salt + 1)))::int) g
$$;
"""

INSERT_PARAMS = f"""
INSERT INTO {SCHEMA}.s_params
SELECT %(as_of)s, %(t0)s, %(quiet_from)s, %(incident_start)s,
       -- the current payment-webhook release went out at 14:10 KST some days ago
       (date_trunc('day', (%(as_of)s::timestamptz - %(deployed_days)s * interval '1 day') AT TIME ZONE 'Asia/Seoul')
         + interval '14 hours 10 minutes') AT TIME ZONE 'Asia/Seoul',
       %(scale)s, %(n_creators)s, %(n_fans)s, %(n_pre)s, %(fan0)s, %(per_hour)s, %(weights)s,
       %(store_id)s, %(toss_mid)s, %(project_url)s,
       (SELECT id FROM public.wallet_accounts WHERE code = 'dt_issuance'),
       (SELECT id FROM public.wallet_accounts WHERE code = 'promo_bonus'),
       (SELECT id FROM public.wallet_accounts WHERE code = 'platform_fee'),
       %(ipad)s, %(opad)s, %(toss_fail)s, %(toss_fail_msg)s, %(po_fail)s, %(po_fail_msg)s, %(days)s
"""

# Users: n 1..3 admins, then creators, then fans (fans before the window first).
STAGE_USERS = """
CREATE UNLOGGED TABLE s_users AS
SELECT u.n, u.kind, u.id, u.account_id, u.email, u.phone, u.provider, u.created_at,
       CASE u.kind WHEN 'admin' THEN 'ops_admin' || u.n
                   WHEN 'creator' THEN (ARRAY['luna', 'haru', 'mint', 'sora', 'yuna', 'jiho', 'seoa', 'ria', 'dami',
                                              'eunbi'])[1 + u.n % 10] || '_' || u.n
                   ELSE 'fan_' || u.n END AS handle,
       CASE u.kind WHEN 'admin' THEN '운영자 ' || u.n
                   WHEN 'creator' THEN (ARRAY['루나', '하루', '민트', '소라', '유나', '지호', '서아', '리아', '다미',
                                              '은비'])[1 + u.n % 10] || ' ' || u.n
                   ELSE 'fan' || u.n END AS display_name,
       CASE WHEN u.kind = 'fan' AND s_rnd(u.n, 5) > 0.55 THEN NULL  -- not seen lately
            ELSE greatest(u.created_at + interval '5 minutes',
                          p.as_of - s_rnd(u.n, 6) ^ 2 * interval '14 days') END AS last_sign_in_at,
       -- a creator's unlock price for paid messages: 10..100 DT (110..1,100 KRW)
       CASE WHEN u.kind = 'creator' THEN 10 * (1 + (u.n * 7) % 10) END AS unlock_price
FROM s_params p
CROSS JOIN LATERAL (
  SELECT g AS n,
         CASE WHEN g <= 3 THEN 'admin' WHEN g < p.fan0 THEN 'creator' ELSE 'fan' END AS kind,
         s_uuid4(g, 11) AS id,
         s_uuid4(g, 13) AS account_id,
         CASE WHEN g <= 3 THEN 'ops.admin' || g || '@example.com'
              WHEN g < p.fan0 THEN 'creator' || g || '@example.com'
              ELSE 'fan' || g || '@example.com' END AS email,
         CASE WHEN s_rnd(g, 3) < 0.3
              THEN '+8210' || lpad(((g::bigint * 7919) % 90000000 + 10000000)::text, 8, '0') END AS phone,
         CASE WHEN s_rnd(g, 4) < 0.60 THEN 'email' WHEN s_rnd(g, 4) < 0.85 THEN 'kakao'
              WHEN s_rnd(g, 4) < 0.95 THEN 'apple' ELSE 'google' END AS provider,
         CASE WHEN g < p.fan0 THEN p.t0 - (200 + 200 * s_rnd(g, 2)) * interval '1 day'
              WHEN g < p.fan0 + p.n_pre THEN p.t0 - (1 + 539 * s_rnd(g, 2)) * interval '1 day'
              ELSE p.t0 + s_rnd(g, 2) * (p.as_of - p.t0) END AS created_at
  FROM generate_series(1, p.fan0 + p.n_fans - 1) g
) u;
ALTER TABLE s_users ADD PRIMARY KEY (n);
"""

STAGE_PACKAGES = """
CREATE UNLOGGED TABLE s_packages AS
SELECT row_number() OVER (ORDER BY sort_order)::int AS k, id, sku, dt_amount, bonus_dt, price_krw
FROM public.dt_packages;
"""


def _package_case(n: str) -> str:
    """CASE mapping a uniform draw to a package number by the profile's shares."""
    edge, parts = 0.0, []
    for k, pkg in enumerate(profile.PACKAGES[:-1], start=1):
        edge += pkg.share
        parts.append(f"WHEN s_rnd({n}, 23) < {edge:.6f} THEN {k}")
    return f"CASE {' '.join(parts)} ELSE {len(profile.PACKAGES)} END"


def _outcome_case(n: str) -> str:
    """CASE giving the purchase's planned life (before as_of cuts it short)."""
    steps = [
        ("refunded", profile.REFUNDED),
        ("partially_refunded", profile.PARTIALLY_REFUNDED),
        ("chargeback", profile.CHARGEBACK),
        ("open_refund", profile.OPEN_REFUND),
    ]
    parts = [
        f"WHEN {n} % {profile.FAILED_EVERY} = 7 THEN 'failed'",
        f"WHEN {n} % {profile.ABANDONED_EVERY} = 5 THEN 'abandoned'",
    ]
    edge = 0.0
    for name, share in steps:
        edge += share
        parts.append(f"WHEN s_rnd({n}, 29) < {edge:.6f} THEN '{name}'")
    return f"CASE {' '.join(parts)} ELSE 'paid' END"


# Purchases: KST-rhythmic request times, then each one's whole life, cut at as_of.
# Times: PG decision 5-60 s after the request; the webhook 1-13 s after it; the handler marks the
# purchase paid and credits the DT within 20 s of the PG approval. Whatever would finish after
# as_of has not happened yet: such a purchase is still pending (in flight).
_PURCHASE_LIFE = f"""
numbered AS (
  SELECT __N0__ + row_number() OVER (ORDER BY requested_at) AS n, requested_at, provider FROM raw
),
planned AS (
  SELECT q.n, q.requested_at, q.provider, __PLAN__ AS plan FROM numbered q
),
base AS MATERIALIZED (
  SELECT q.n, q.requested_at,
         coalesce(q.provider, CASE WHEN s_rnd(q.n, 21) < {profile.PORTONE_SHARE} THEN 'portone'
                                   ELSE 'tosspayments' END) AS provider,
         p.fan0 + floor(p.n_pre * s_rnd(q.n, 22) ^ 1.7)::int AS user_n,
         {_package_case("q.n")} AS pkg,
         4 + floor(p.n_creators * s_rnd(q.n, 24) ^ 2)::int AS creator_n,
         -- an abandoned checkout is only recognisable as such after an hour
         CASE WHEN q.plan = 'abandoned' AND q.requested_at > p.as_of - interval '1 hour' THEN 'paid'
              ELSE q.plan END AS plan,
         q.requested_at + (5 + 55 * s_rnd(q.n, 25) ^ 2) * interval '1 second' AS pg_at,
         (1 + 12 * s_rnd(q.n, 26)) AS hook_delay_s
  FROM planned q, s_params p
),
timed AS (
  SELECT b.*,
         CASE WHEN b.provider <> 'portone' OR b.plan = 'abandoned' THEN 'none'
              WHEN s_rnd(b.n, 27) < {profile.TIMEOUT_RETRY} AND b.pg_at < p.quiet_from THEN 'timeout'
              WHEN s_rnd(b.n, 27) < {profile.TIMEOUT_RETRY + profile.DUPLICATE_RETRY} THEN 'duplicate'
              ELSE 'none' END AS retry,
         b.pg_at + b.hook_delay_s * interval '1 second' AS recv_at
  FROM base b, s_params p
),
processed AS (
  SELECT t.*,
         t.recv_at + CASE WHEN t.retry = 'timeout' THEN 60 + 20 * s_rnd(t.n, 28) ELSE 0 END
                   * interval '1 second' AS proc_at
  FROM timed t
),
lived AS MATERIALIZED (
  SELECT x.*,
         x.proc_at + (0.2 + (19.8 - x.hook_delay_s) * s_rnd(x.n, 30)) * interval '1 second' AS credit_at
  FROM processed x
),
decided AS (
  SELECT l.*,
         l.plan <> 'abandoned'
           AND CASE WHEN l.plan = 'failed' THEN l.proc_at ELSE l.credit_at END > p.as_of AS inflight,
         CASE WHEN l.plan IN ('refunded', 'partially_refunded', 'chargeback')
                THEN l.credit_at + (1 + 71 * s_rnd(l.n, 31)) * interval '1 hour'
              -- A healthy refund-process keeps up: open refunds are hours old, never a day.
              WHEN l.plan = 'open_refund'
                THEN p.as_of - (0.25 + 20 * s_rnd(l.n, 31) ^ 2) * interval '1 hour' END AS refund_req_at
  FROM lived l, s_params p
),
refunding AS MATERIALIZED (
  SELECT d.*,
         d.refund_req_at + (60 + 540 * s_rnd(d.n, 32)) * interval '1 second' AS refund_done_at,
         CASE WHEN d.inflight OR d.refund_req_at IS NULL OR d.refund_req_at < d.credit_at + interval '10 minutes'
                   OR d.refund_req_at > p.as_of THEN NULL
              WHEN d.plan = 'open_refund' THEN CASE WHEN s_rnd(d.n, 33) < 0.5 THEN 'requested' ELSE 'processing' END
              WHEN d.refund_req_at + (60 + 540 * s_rnd(d.n, 32)) * interval '1 second' > p.as_of THEN 'processing'
              ELSE 'succeeded' END AS refund_state
  FROM decided d, s_params p
),
statused AS MATERIALIZED (
  SELECT r.*,
         CASE WHEN r.plan = 'abandoned' OR r.inflight THEN 'pending'
              WHEN r.plan = 'failed' THEN 'failed'
              WHEN r.refund_state = 'succeeded' THEN r.plan
              ELSE 'paid' END AS status,
         CASE r.plan WHEN 'partially_refunded' THEN 'partial_refund' WHEN 'chargeback' THEN 'chargeback'
                     ELSE 'refund' END AS refund_kind,
         row_number() OVER (PARTITION BY r.user_n, r.creator_n ORDER BY r.n) = 1 AS first_with_creator
  FROM refunding r
)
SELECT s.n, s_uuid7(s.requested_at, s.n, 41) AS id, s.requested_at, s.provider, s.plan, s.status, s.retry, s.inflight,
       s.user_n, u.id AS user_id, u.account_id AS user_account,
       s.creator_n, c.id AS creator_id, c.account_id AS creator_account, c.unlock_price,
       k.id AS package_id, k.sku, k.dt_amount, k.bonus_dt, k.price_krw,
       s.pg_at, s.recv_at, s.proc_at, s.credit_at,
       'ord_' || to_char(s.requested_at AT TIME ZONE 'Asia/Seoul', 'YYYYMMDD') || '_'
         || lpad(s.n::text, greatest(7, length(s.n::text)), '0') AS order_id,
       'chk_' || replace(s_uuid4(s.n, 43)::text, '-', '') AS idempotency_key,
       CASE WHEN s.provider = 'portone' THEN s_uuid7(s.requested_at, s.n, 45)::text
            WHEN s.plan = 'abandoned' THEN NULL
            ELSE 'tviva' || to_char(s.requested_at AT TIME ZONE 'Asia/Seoul', 'YYYYMMDDHH24MISS')
                 || substr(md5(s.n::text), 1, 5) END AS payment_key,
       CASE WHEN s.provider = 'portone'
            THEN 'INIpayCARD' || to_char(s.pg_at AT TIME ZONE 'Asia/Seoul', 'YYYYMMDDHH24MISS')
                 || lpad((s.n % 100000)::text, 5, '0')
            ELSE 'txrd_' || substr(md5(s.n::text || 't'), 1, 22) END AS pg_tx_id,
       CASE WHEN s.provider = 'portone' THEN CASE WHEN s_rnd(s.n, 47) < 0.7 THEN 'CARD' ELSE 'EASY_PAY' END
            ELSE CASE WHEN s_rnd(s.n, 47) < 0.7 THEN '카드' ELSE '간편결제' END END AS method,
       1 + floor(s_rnd(s.n, 48) * 5)::int AS failure_pick,
       CASE WHEN s.status IN ('paid', 'refunded', 'partially_refunded', 'chargeback')
            THEN s_uuid7(s.credit_at, s.n, 51) END AS credit_tx_id,
       s.refund_state,
       CASE WHEN s.refund_state IS NOT NULL THEN s.refund_kind END AS refund_kind,
       CASE WHEN s.refund_state IS NOT NULL THEN s_uuid4(s.n, 53) END AS refund_id,
       s.refund_req_at, s.refund_done_at,
       CASE WHEN s.refund_state = 'succeeded' THEN s_uuid7(s.refund_done_at, s.n, 55) END AS clawback_tx_id,
       CASE WHEN s.refund_kind = 'partial_refund' THEN k.price_krw / 2 ELSE k.price_krw END AS refund_krw,
       CASE WHEN s.refund_kind = 'partial_refund' THEN k.dt_amount / 2 ELSE k.dt_amount END AS clawback_issued,
       CASE WHEN s.refund_kind = 'partial_refund' THEN 0 ELSE k.bonus_dt END AS clawback_bonus,
       CASE WHEN s.refund_state IS NULL THEN NULL
            WHEN s.provider = 'portone' THEN s_uuid7(s.refund_done_at, s.n, 57)::text
            ELSE 'txrd_' || substr(md5(s.n::text || 'c'), 1, 22) END AS cancellation_id,
       -- spending: k unlocks at the creator's price, never more than a share of the credited DT
       CASE WHEN s.status = 'paid' AND s.refund_state IS NULL
              THEN least(floor(s_rnd(s.n, 61) * ({profile.MAX_SPENDS_PER_PURCHASE} + 1)),
                         floor((k.dt_amount + k.bonus_dt) * {profile.SPEND_SHARE_OF_CREDIT} / c.unlock_price))
            WHEN s.status = 'partially_refunded'
              THEN least(floor(s_rnd(s.n, 61) * ({profile.MAX_SPENDS_PER_PURCHASE} + 1)),
                         floor((k.dt_amount + k.bonus_dt) * 0.3 / c.unlock_price))
            ELSE 0 END::int AS spends,
       CASE WHEN s_rnd(s.n, 62) < {profile.SUBSCRIPTION_SHARE} AND s.first_with_creator THEN 'subscription'
            WHEN s_rnd(s.n, 62) >= {profile.SUBSCRIPTION_SHARE}
                 AND s_rnd(s.n, 62) < {profile.SUBSCRIPTION_SHARE + profile.PLEDGE_SHARE}
                 AND s.creator_n % 5 = 0 THEN 'pledge'
            ELSE 'unlock' END AS last_spend_kind,
       NULL::text AS failure_code, NULL::text AS failure_message  -- a drill's own PG failure, if any
FROM statused s
JOIN s_users u ON u.n = s.user_n
JOIN s_users c ON c.n = s.creator_n
JOIN s_packages k ON k.k = s.pkg
"""

# Baseline request times: hourly buckets over the whole history, sized by the KST profile.
BASELINE_TIMES = """
  SELECT b.hs + random() * interval '1 hour' AS requested_at, NULL::text AS provider
  FROM s_params p
  CROSS JOIN LATERAL (SELECT p.t0 + h * interval '1 hour' AS hs
                      FROM generate_series(0, 24 * p.days - 1) h) b
  CROSS JOIN LATERAL generate_series(1, round(p.per_hour
      * p.weights[1 + extract(hour FROM (b.hs + interval '30 minutes') AT TIME ZONE 'Asia/Seoul')::int]
      * (0.85 + 0.3 * random()))::int) k
"""


def purchases_sql(target: str, times: str, *, plan: str | None = None, first_n: int = 0) -> str:
    """CREATE TABLE AS for staged purchases: `times` yields (requested_at, provider or NULL);
    `plan` overrides the planned outcome (a SQL expression on q.n), e.g. "'paid'" for a drill's burst."""
    return (
        f"CREATE UNLOGGED TABLE {target} AS\nWITH raw AS ({times}),"
        + _PURCHASE_LIFE.replace("__N0__", str(first_n)).replace("__PLAN__", plan or _outcome_case("q.n"))
        + f";\nALTER TABLE {target} ADD PRIMARY KEY (n);"
    )


# setseed: the baseline's request times are the only non-hash randomness; same inputs, same data.
STAGE_PURCHASES = "SELECT setseed(0.4242);\n" + purchases_sql("s_purchases", BASELINE_TIMES)


def create(conn: psycopg.Connection, plan: Plan) -> None:
    """Create the scratch schema and its parameters row (the contract must already be loaded)."""
    ipad, opad = hmac_pads(DEMO_PORTONE_WEBHOOK_SECRET)
    conn.execute(CREATE_SCHEMA)
    conn.execute(
        INSERT_PARAMS,
        {
            "as_of": plan.as_of,
            "t0": plan.start,
            "quiet_from": plan.as_of - timedelta(hours=profile.QUIET_TAIL_HOURS),
            "incident_start": plan.incident_start,
            "deployed_days": profile.WEBHOOK_DEPLOYED_DAYS_AGO,
            "scale": plan.scale,
            "n_creators": plan.creators,
            "n_fans": plan.fans,
            "n_pre": plan.fans_before_window,
            "fan0": plan.first_fan,
            "per_hour": plan.purchases_per_hour,
            "weights": plan.weights,
            "store_id": profile.PORTONE_STORE_ID,
            "toss_mid": profile.TOSS_MID,
            "project_url": profile.PROJECT_URL,
            "ipad": ipad,
            "opad": opad,
            "toss_fail": [c for c, _ in profile.TOSS_FAILURES],
            "toss_fail_msg": [m for _, m in profile.TOSS_FAILURES],
            "po_fail": [c for c, _ in profile.PORTONE_FAILURES],
            "po_fail_msg": [m for _, m in profile.PORTONE_FAILURES],
            "days": plan.days,
        },
    )


def drop(conn: psycopg.Connection) -> None:
    conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
