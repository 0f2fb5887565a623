"""Building blocks of the drills, on top of a finished baseline.

A drill changes the last INCIDENT_MINUTES of history. Its purchases are staged exactly like the
baseline's (same table shape as s_purchases) and written by the same statements, so an
incident's rows differ from normal ones only in what the incident changes:

  burst()      stage extra purchases over the incident window (all would be paid normally);
  rewind()     take baseline purchases back out of the tables (credit, the unlocks paid after it,
               their 'paid' webhook deliveries, the dt_purchases row), to be rewritten changed;
  write()      write staged purchases: dt_purchases, refunds, PG imports, deliveries, DT credits;
  failing_deliveries() / replace_deliveries()  webhook attempts that failed, with PG retries;
  credit()     post purchase_credit transactions (late, or twice);
  release()    a new payment-webhook deployment from the incident start on.

Conditions and expressions are SQL over the staged purchase `s` and the run parameters `p`
(p.incident_start, p.as_of). Every helper keeps the ledger balanced and balances consistent.
"""

from __future__ import annotations

import psycopg

from opslib.seed import commerce, profile, staging, wallet, webhooks
from opslib.seed.scenarios.base import ScenarioContext

BURST_FIRST_N = 90_000_000  # staged purchase numbers of drills (order ids ord_<date>_9xxxxxxx)
PORTONE_RETRY_S = (0, 60, 180, 420, 900)  # a first attempt and 4 retries
TOSS_RETRY_S = (0, 60, 240, 960, 3840, 15360, 61440)  # 1, 4, 16, 64 ... minutes: up to 7 attempts


def _from(sql: str, table: str) -> str:
    """A baseline statement reading s_purchases, reading `table` instead."""
    if "FROM s_purchases s" not in sql:
        raise ValueError("statement does not read s_purchases")
    return sql.replace("FROM s_purchases s", f"FROM {table} s")


def _literal(value: object) -> str:
    """A SQL literal for the drills' own constants (never user input)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def burst(
    conn: psycopg.Connection, ctx: ScenarioContext, count: int, *, tag: str, providers: tuple[str, ...] | None = None
) -> str:
    """Stage `count` purchases requested evenly over [incident_start, as_of), with normal paid lives."""
    table = f"s_burst_{tag}"
    used = conn.execute("SELECT count(*) FROM pg_tables WHERE tablename LIKE 's\\_burst\\_%'").fetchone()
    first_n = BURST_FIRST_N + 1_000_000 * int(used[0] if used else 0)
    provider = "NULL::text" if providers is None else f"(ARRAY{list(providers)!r})[1 + i % {len(providers)}]"
    times = (
        f"SELECT p.incident_start + (i - 0.5) / {count} * (p.as_of - p.incident_start) AS requested_at,"
        f" {provider} AS provider FROM s_params p, generate_series(1, {count}) i"
    )
    conn.execute(staging.purchases_sql(table, times, plan="'paid'", first_n=first_n))  # type: ignore[arg-type]
    return table


def write(
    conn: psycopg.Connection, table: str, *, pg: bool = True, deliveries: bool = True, credits: bool = True
) -> None:
    """Write staged purchases as the baseline writes them (credits: those with a credit_tx_id)."""
    conn.execute(_from(commerce.PURCHASES, table))  # type: ignore[arg-type]
    conn.execute(_from(commerce.REFUNDS, table))  # type: ignore[arg-type]
    if pg:
        conn.execute(_from(commerce.PG_TRANSACTIONS, table))  # type: ignore[arg-type]
    if deliveries:
        stage = f"{table}_deliveries"
        conn.execute(f"DROP TABLE IF EXISTS {stage}")  # type: ignore[arg-type]
        create = _from(webhooks.STAGE_BASELINE, table).replace(
            "CREATE UNLOGGED TABLE s_deliveries", f"CREATE UNLOGGED TABLE {stage}"
        )
        conn.execute(create)  # type: ignore[arg-type]
        webhooks.insert(conn, stage)
    if credits:
        credit(conn, table, "s.credit_tx_id IS NOT NULL")


CREDITS = """
CREATE UNLOGGED TABLE s_credits AS
SELECT {tx_id} AS tx_id, {at} AS created_at, 'purchase_credit'::text AS tx_type, {key} AS idempotency_key,
       'dt_purchase'::text AS reference_type, s.id AS reference_id, 'DT purchase ' || s.order_id AS memo,
       NULL::uuid AS created_by, s.user_account AS a1, s.user_id AS u1, (s.dt_amount + s.bonus_dt)::bigint AS d1,
       p.iss AS a2, NULL::uuid AS u2, (-s.dt_amount)::bigint AS d2,
       CASE WHEN s.bonus_dt > 0 THEN p.promo END AS a3, CASE WHEN s.bonus_dt > 0 THEN -s.bonus_dt END::bigint AS d3
FROM {source} s CROSS JOIN s_params p
WHERE {condition}
"""


def credit(
    conn: psycopg.Connection,
    table: str,
    condition: str,
    *,
    tx_id: str = "s.credit_tx_id",
    at: str = "s.credit_at",
    key: str = "'dt_purchase:' || s.id || ':credit'",
    link: bool = True,
) -> None:
    """Post one purchase_credit per staged purchase matching `condition` (and link it from the purchase)."""
    conn.execute("DROP TABLE IF EXISTS s_credits")
    conn.execute(CREDITS.format(tx_id=tx_id, at=at, key=key, source=table, condition=condition))  # type: ignore[arg-type]
    wallet.post(conn, "s_credits")
    if link:
        conn.execute(
            "UPDATE public.dt_purchases d SET wallet_tx_id = c.tx_id FROM s_credits c"
            " WHERE d.id = c.reference_id AND d.wallet_tx_id IS NULL"
        )
    conn.execute("DROP TABLE s_credits")


# Deliveries in which the PG said "paid" (PortOne Transaction.Paid, Toss DONE).
PAID_DELIVERY = (
    "(w.event_type = 'Transaction.Paid' OR (w.provider = 'tosspayments' AND w.payload #>> '{data,status}' = 'DONE'))"
)

DELETE_DELIVERIES = """
WITH gone AS (
  DELETE FROM public.payment_webhook_logs w WHERE {condition}
  RETURNING w.id, w.provider, w.webhook_id, w.provider_payment_key
), edge AS (
  DELETE FROM logs.function_edge_logs WHERE id IN (SELECT s_uuid4(id, 141) FROM gone)
), console AS (
  DELETE FROM logs.function_logs WHERE id IN (SELECT s_uuid4(id, 151) FROM gone)
)
DELETE FROM public.idempotency_keys k
USING gone g
WHERE k.scope = 'webhook:' || g.provider
  AND k.key IN (g.webhook_id, 'toss:' || g.provider_payment_key || ':paid')
"""


def delete_deliveries(conn: psycopg.Connection, condition: str) -> None:
    """Delete webhook deliveries (a condition on w = payment_webhook_logs) with their function logs."""
    conn.execute(DELETE_DELIVERIES.format(condition=condition))  # type: ignore[arg-type]


def rewind(conn: psycopg.Connection, condition: str, *, tag: str, keep_webhooks: bool = False) -> str:
    """Take credited baseline purchases matching `condition` (on s, p) back out; return their staged copy.

    Removed: the purchase_credit, the user's unlocks after it (their DT came from it: a purchase
    pays its unlocks after its credit and never more than 90 % of it, so every remaining debit
    stays covered) with the deliveries they paid for, the dt_purchases row, and (unless
    keep_webhooks) the 'paid' webhook deliveries. The caller changes the staged copy and writes
    it back with write().
    """
    table = f"s_rewound_{tag}"
    conn.execute(f"DROP TABLE IF EXISTS {table}")  # type: ignore[arg-type]
    conn.execute(  # type: ignore[arg-type]
        f"CREATE UNLOGGED TABLE {table} AS SELECT s.* FROM s_purchases s CROSS JOIN s_params p"
        f" WHERE s.status = 'paid' AND s.credit_tx_id IS NOT NULL AND ({condition})"
    )
    wallet.remove(
        conn,
        f"SELECT credit_tx_id AS tx_id FROM {table} UNION ALL"
        f" SELECT t.tx_id FROM s_tx t JOIN {table} r ON t.u1 = r.user_id"
        f" WHERE t.tx_type = 'spend' AND t.created_at >= r.credit_at",
    )
    if not keep_webhooks:
        delete_deliveries(conn, f"w.purchase_id IN (SELECT id FROM {table}) AND {PAID_DELIVERY}")
    conn.execute(f"DELETE FROM public.dt_purchases WHERE id IN (SELECT id FROM {table})")  # type: ignore[arg-type]
    return table


FAILING = """
CREATE UNLOGGED TABLE {stage} AS
SELECT s.provider, s.id AS purchase_id, s.order_id, s.payment_key, 'paid'::text AS event, s.pg_at AS event_at,
       s.recv_at + r.delay * interval '1 second' AS attempt_at,
       CASE WHEN s.provider = 'portone' THEN 'whk_' || s_uuid7(s.pg_at, s.n, 131) END AS webhook_id,
       {http}::int AS http_status, 'failed'::text AS processing, {error}::text AS error,
       CASE WHEN s.provider = 'portone' THEN {sig_valid}::boolean END AS sig_valid,
       CASE WHEN s.provider = 'portone' THEN {sig_error}::text END AS sig_error,
       NULL::timestamptz AS processed_at, NULL::text AS cancellation_id, s.price_krw AS amount, s.method,
       s.pg_at AS approved_at, s.pg_tx_id AS last_tx_key, s.sku
FROM {table} s
CROSS JOIN s_params p
CROSS JOIN LATERAL unnest(CASE WHEN s.provider = 'portone' THEN ARRAY{portone} ELSE ARRAY{toss} END) AS r(delay)
WHERE s.recv_at + r.delay * interval '1 second' <= p.as_of
"""


def failing_deliveries(
    conn: psycopg.Connection,
    table: str,
    *,
    http_status: int | None,
    error: str,
    sig_valid: bool | None = True,
    sig_error: str | None = None,
) -> None:
    """The PG's 'paid' webhook for each staged purchase, answered with an error and retried
    (PortOne up to 5 attempts, Toss up to 7), as far as as_of."""
    stage = f"{table}_failing"
    conn.execute(f"DROP TABLE IF EXISTS {stage}")  # type: ignore[arg-type]
    sql = FAILING.format(
        stage=stage,
        table=table,
        http=_literal(http_status),
        error=_literal(error),
        sig_valid=_literal(sig_valid),
        sig_error=_literal(sig_error),
        portone=list(PORTONE_RETRY_S),
        toss=list(TOSS_RETRY_S),
    )
    conn.execute(sql)  # type: ignore[arg-type]
    webhooks.insert(conn, stage)


def replace_deliveries(
    conn: psycopg.Connection,
    condition: str,
    *,
    tag: str,
    http_status: int | None,
    error: str,
    sig_valid: bool | None = True,
    sig_error: str | None = None,
) -> None:
    """Baseline deliveries matching `condition` (on d = s_deliveries, p) answered with an error instead."""
    stage = f"s_replaced_{tag}"
    conn.execute(f"DROP TABLE IF EXISTS {stage}")  # type: ignore[arg-type]
    conn.execute(  # type: ignore[arg-type]
        f"CREATE UNLOGGED TABLE {stage} AS SELECT d.* FROM s_deliveries d CROSS JOIN s_params p WHERE {condition}"
    )
    delete_deliveries(
        conn, f"(w.provider, w.order_id, w.received_at) IN (SELECT provider, order_id, attempt_at FROM {stage})"
    )
    conn.execute(  # type: ignore[arg-type]
        f"UPDATE {stage} SET http_status = {_literal(http_status)}, processing = 'failed', error = {_literal(error)},"
        f" processed_at = NULL,"
        f" sig_valid = CASE WHEN provider = 'portone' THEN {_literal(sig_valid)}::boolean END,"
        f" sig_error = CASE WHEN provider = 'portone' THEN {_literal(sig_error)}::text END"
    )
    # A PG retries whatever was not answered 2xx, these deliveries as much as the payments' own.
    conn.execute(  # type: ignore[arg-type]
        f"INSERT INTO {stage} SELECT d.provider, d.purchase_id, d.order_id, d.payment_key, d.event, d.event_at,"
        " d.attempt_at + r.delay * interval '1 second', d.webhook_id, d.http_status, d.processing, d.error,"
        " d.sig_valid, d.sig_error, d.processed_at, d.cancellation_id, d.amount, d.method, d.approved_at,"
        f" d.last_tx_key, d.sku FROM {stage} d CROSS JOIN s_params p"
        f" CROSS JOIN LATERAL unnest(CASE WHEN d.provider = 'portone' THEN ARRAY{list(PORTONE_RETRY_S)}"
        f" ELSE ARRAY{list(TOSS_RETRY_S)} END) AS r(delay)"
        " WHERE r.delay > 0 AND d.attempt_at + r.delay * interval '1 second' <= p.as_of"
    )
    webhooks.insert(conn, stage)


def webhook_outage(
    conn: psycopg.Connection,
    ctx: ScenarioContext,
    *,
    tag: str,
    providers: tuple[str, ...] | None,
    http_status: int | None,
    error: str,
    sig_valid: bool | None = True,
    sig_error: str | None = None,
) -> None:
    """A bad release answers every webhook of `providers` (None: all) with an error from incident start.

    The window's payments and a burst of extra ones are approved at the PG but stay pending in
    dt_purchases without a credit; every delivery (theirs and the PG's other webhooks) is
    answered with the error and retried; the new deployment is recorded.
    """
    answer = {"http_status": http_status, "error": error, "sig_valid": sig_valid, "sig_error": sig_error}
    listed = "" if providers is None else ", ".join(_literal(x) for x in providers)
    rewound = rewind(
        conn, (f"s.provider IN ({listed}) AND " if listed else "") + "s.proc_at >= p.incident_start", tag=tag
    )
    conn.execute(f"UPDATE {rewound} SET status = 'pending', credit_tx_id = NULL")  # type: ignore[arg-type]
    write(conn, rewound, pg=False, deliveries=False, credits=False)
    replace_deliveries(
        conn,
        (f"d.provider IN ({listed}) AND " if listed else "")
        + f"d.attempt_at >= p.incident_start AND d.purchase_id NOT IN (SELECT id FROM {rewound})",
        tag=tag,
        **answer,  # type: ignore[arg-type]
    )
    extra = burst(conn, ctx, ctx.burst_size, tag=tag, providers=providers)
    conn.execute(f"UPDATE {extra} SET status = 'pending', credit_tx_id = NULL")  # type: ignore[arg-type]
    write(conn, extra, deliveries=False, credits=False)
    for table in (rewound, extra):
        failing_deliveries(conn, table, **answer)  # type: ignore[arg-type]
    release(conn)


def release(conn: psycopg.Connection, version: str = profile.WEBHOOK_VERSION_BAD) -> None:
    """payment-webhook invocations from the incident start on were served by a new deployment."""
    conn.execute(
        "UPDATE logs.function_edge_logs SET deployment_version = %(v)s"
        " WHERE function_name = 'payment-webhook' AND \"timestamp\" >= (SELECT incident_start FROM s_params)",
        {"v": version},
    )
    conn.execute(
        "UPDATE logs.function_logs SET event_message = replace(event_message, %(old)s, %(v)s)"
        " WHERE function_name = 'payment-webhook' AND \"timestamp\" >= (SELECT incident_start FROM s_params)",
        {"old": profile.WEBHOOK_VERSION, "v": version},
    )
    # The CI run that shipped it, a moment before its first invocation: what an on-call checks first.
    conn.execute(
        "INSERT INTO public.ops_audit_log (occurred_at, source, actor, action, severity, target_type, target_id,"
        " request_id, details)"
        " SELECT incident_start - interval '45 seconds', 'ci', 'ci:github-actions', 'function.deploy', 'info',"
        " 'edge_function', 'payment-webhook', md5(%(v)s::text),"
        " jsonb_build_object('version', %(v)s::text, 'previous', %(old)s::text) FROM s_params",
        {"old": profile.WEBHOOK_VERSION, "v": version},
    )


def drop_pg_approvals(conn: psycopg.Connection, table: str) -> None:
    """The PG never approved these staged purchases: remove their approval imports."""
    conn.execute(  # type: ignore[arg-type]
        f"DELETE FROM public.pg_transactions t USING {table} s"
        " WHERE t.provider = s.provider AND t.order_id = s.order_id AND t.tx_kind = 'approval'"
    )
