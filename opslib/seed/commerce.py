"""Purchases and everything money-side around them: the catalogue, dt_purchases, refunds,
PG imports (pg_transactions), nightly reconciliation runs and API idempotency keys.

PG imports run every 5 minutes ("near real time"): a transaction is fetched by the first
import after it, so everything older than the last import is imported, which is what the
runbook's reconciliation assumes when it judges "missing at the PG".
"""

from __future__ import annotations

import psycopg

from opslib.seed import profile

PAID_STATES = "('paid', 'refunded', 'partially_refunded', 'chargeback')"
IMPORT_EVERY = "interval '5 minutes'"


def insert_packages(conn: psycopg.Connection) -> None:
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO public.dt_packages (sku, name, dt_amount, bonus_dt, price_krw, is_active, sort_order,"
            " created_at, updated_at) VALUES (%s, %s, %s, %s, %s, true, %s, now() - interval '400 days',"
            " now() - interval '30 days')",
            [(p.sku, p.name, p.dt_amount, p.bonus_dt, p.price_krw, k) for k, p in enumerate(profile.PACKAGES, 1)],
        )


# The PG status the handler last fetched, per DB status (PortOne V2 / TossPayments vocabularies).
PORTONE_STATUS = """CASE s.status WHEN 'pending' THEN 'READY' WHEN 'failed' THEN 'FAILED'
  WHEN 'refunded' THEN 'CANCELLED' WHEN 'partially_refunded' THEN 'PARTIAL_CANCELLED' ELSE 'PAID' END"""
TOSS_STATUS = """CASE s.status WHEN 'pending' THEN 'READY' WHEN 'failed' THEN 'ABORTED' WHEN 'refunded' THEN 'CANCELED'
  WHEN 'partially_refunded' THEN 'PARTIAL_CANCELED' ELSE 'DONE' END"""

PURCHASES = f"""
INSERT INTO public.dt_purchases
  (id, user_id, package_id, provider, order_id, provider_payment_key, pg_tx_id, store_or_mid, method,
   amount_krw, currency, dt_amount, bonus_dt, status, provider_status, refunded_amount_krw, idempotency_key,
   wallet_tx_id, failure_code, failure_message, requested_at, paid_at, cancelled_at, raw_last_payment,
   created_at, updated_at)
SELECT s.id, s.user_id, s.package_id, s.provider, s.order_id, s.payment_key,
       CASE WHEN s.status IN {PAID_STATES} THEN s.pg_tx_id END,
       CASE s.provider WHEN 'portone' THEN p.store_id ELSE p.toss_mid END,
       CASE WHEN s.status <> 'pending' THEN s.method END,
       s.price_krw, 'KRW', s.dt_amount, s.bonus_dt, s.status, x.pg_status,
       CASE WHEN s.status IN ('refunded', 'partially_refunded', 'chargeback') THEN s.refund_krw ELSE 0 END,
       s.idempotency_key, s.credit_tx_id,
       CASE WHEN s.status = 'failed' THEN coalesce(s.failure_code, f.code) END,
       CASE WHEN s.status = 'failed' THEN coalesce(s.failure_message, f.message) END,
       s.requested_at,
       CASE WHEN s.status IN {PAID_STATES} THEN s.pg_at END,
       CASE WHEN s.status IN ('refunded', 'partially_refunded', 'chargeback') THEN s.refund_done_at END,
       -- built as text and parsed once: several times cheaper than nested jsonb_build_object
       CASE WHEN s.status = 'pending' THEN NULL
            WHEN s.provider = 'portone' THEN ('{{"id":"' || s.order_id || '","transactionId":"' || s.payment_key
              || '","storeId":"' || p.store_id || '","status":"' || x.pg_status || '","orderName":"' || s.sku
              || '","currency":"KRW","method":{{"type":"' || s.method || '"}},"amount":{{"total":' || s.price_krw
              || ',"paid":' || CASE WHEN s.status = 'failed' THEN 0 ELSE s.price_krw END
              || ',"cancelled":'
              || CASE WHEN s.status IN ('refunded', 'partially_refunded') THEN s.refund_krw ELSE 0 END
              || '}},"requestedAt":"'
              || to_char(s.requested_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') || '"'
              || CASE WHEN s.status = 'failed'
                      THEN ',"failure":{{"pgCode":"' || coalesce(s.failure_code, f.code)
                           || '","pgMessage":"' || coalesce(s.failure_message, f.message) || '"}}'
                      ELSE ',"paidAt":"' || to_char(s.pg_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
                           || '","pgTxId":"' || s.pg_tx_id || '"' END || '}}')::jsonb
            ELSE ('{{"mId":"' || p.toss_mid || '","version":"2022-11-16","paymentKey":"' || s.payment_key
              || '","orderId":"' || s.order_id || '","orderName":"' || s.sku || '","status":"' || x.pg_status
              || '","method":"' || s.method || '","currency":"KRW","totalAmount":' || s.price_krw
              || ',"balanceAmount":' || CASE WHEN s.status = 'failed' THEN 0
                                             WHEN s.status IN ('refunded', 'partially_refunded')
                                               THEN s.price_krw - s.refund_krw
                                             ELSE s.price_krw END
              || ',"requestedAt":"'
              || to_char(s.requested_at AT TIME ZONE 'Asia/Seoul', 'YYYY-MM-DD"T"HH24:MI:SS"+09:00"') || '"'
              || CASE WHEN s.status = 'failed'
                      THEN ',"failure":{{"code":"' || coalesce(s.failure_code, f.code)
                           || '","message":"' || coalesce(s.failure_message, f.message) || '"}}'
                      ELSE ',"approvedAt":"'
                           || to_char(s.pg_at AT TIME ZONE 'Asia/Seoul', 'YYYY-MM-DD"T"HH24:MI:SS"+09:00"')
                           || '","lastTransactionKey":"' || s.pg_tx_id || '"' END || '}}')::jsonb
       END,
       s.requested_at,
       CASE WHEN s.status IN ('refunded', 'partially_refunded', 'chargeback') THEN s.refund_done_at
            WHEN s.status IN {PAID_STATES} THEN s.credit_at
            WHEN s.status = 'failed' THEN s.proc_at
            ELSE s.requested_at END
FROM s_purchases s
CROSS JOIN s_params p
CROSS JOIN LATERAL (SELECT CASE s.provider WHEN 'portone' THEN {PORTONE_STATUS} ELSE {TOSS_STATUS} END AS pg_status) x
CROSS JOIN LATERAL (
  SELECT CASE s.provider WHEN 'portone' THEN p.po_fail[1 + floor(s_rnd(s.n, 48) * cardinality(p.po_fail))::int]
                         ELSE p.toss_fail[1 + floor(s_rnd(s.n, 48) * cardinality(p.toss_fail))::int] END AS code,
         CASE s.provider WHEN 'portone' THEN p.po_fail_msg[1 + floor(s_rnd(s.n, 48) * cardinality(p.po_fail))::int]
                         ELSE p.toss_fail_msg[1 + floor(s_rnd(s.n, 48) * cardinality(p.toss_fail))::int] END AS message
) f
"""

REFUNDS = """
INSERT INTO public.refunds
  (id, purchase_id, user_id, provider, kind, status, amount_krw, dt_clawback, dt_shortfall, reason, requester,
   idempotency_key, provider_cancellation_id, pg_dispute_id, dispute_status, wallet_tx_id, requested_by, approved_by,
   requested_at, completed_at, error, provider_response, created_at, updated_at)
SELECT s.refund_id, s.id, s.user_id, s.provider, s.refund_kind, s.refund_state, s.refund_krw,
       CASE WHEN s.refund_state = 'succeeded' THEN s.clawback_issued + s.clawback_bonus ELSE 0 END, 0,
       CASE WHEN s.refund_kind = 'chargeback' THEN '카드사 이의제기 (chargeback)'
            ELSE (ARRAY['단순 변심', '중복 결제', '미사용 DT 환불 요청', '결제 수단 변경'])
                   [1 + floor(s_rnd(s.n, 71) * 4)::int] END,
       x.requester,
       'refund_' || replace(s.refund_id::text, '-', ''),
       CASE WHEN s.refund_state = 'succeeded' THEN s.cancellation_id END,
       CASE WHEN s.refund_kind = 'chargeback'
            THEN 'DSP' || to_char(s.refund_req_at, 'YYYYMMDD') || lpad(s.n::text, 7, '0') END,
       CASE WHEN s.refund_kind = 'chargeback'
            THEN CASE WHEN s.refund_req_at < p.as_of - interval '3 days' THEN 'RESOLVED' ELSE 'UNRESOLVED' END END,
       s.clawback_tx_id,
       CASE x.requester WHEN 'CUSTOMER' THEN s.user_id WHEN 'ADMIN' THEN x.admin END,
       CASE WHEN s.refund_state IN ('processing', 'succeeded') THEN x.admin END,
       s.refund_req_at,
       CASE WHEN s.refund_state = 'succeeded' THEN s.refund_done_at END,
       NULL,
       CASE WHEN s.refund_state = 'succeeded' THEN jsonb_build_object(
              'status', CASE s.provider WHEN 'portone' THEN 'SUCCEEDED' ELSE 'DONE' END,
              'cancellationId', s.cancellation_id, 'cancelAmount', s.refund_krw,
              'cancelledAt', s.refund_done_at) END,
       s.refund_req_at,
       CASE WHEN s.refund_state = 'succeeded' THEN s.refund_done_at
            WHEN s.refund_state = 'processing' THEN s.refund_req_at + interval '40 seconds'
            ELSE s.refund_req_at END
FROM s_purchases s
CROSS JOIN s_params p
CROSS JOIN LATERAL (
  SELECT CASE WHEN s.refund_kind = 'chargeback' THEN 'PG'
              WHEN s_rnd(s.n, 72) < 0.7 THEN 'CUSTOMER' ELSE 'ADMIN' END AS requester,
         (SELECT id FROM s_users WHERE n = 1 + floor(s_rnd(s.n, 73) * 3)::int) AS admin
) x
WHERE s.refund_state IS NOT NULL
"""

# PG-side rows as the 5-minute import saw them: approvals (PortOne payment / Toss approval
# transaction) and cancels for completed refunds and chargebacks. Nothing imported after as_of.
PG_TRANSACTIONS = f"""
INSERT INTO public.pg_transactions
  (provider, source, mid, transaction_key, payment_key, order_id, pg_tx_id, tx_kind, status, method, currency,
   amount, transaction_at, raw, fetched_at)
SELECT t.provider, t.source, t.mid, t.transaction_key, t.payment_key, t.order_id, t.pg_tx_id, t.tx_kind, t.status,
       t.method, 'KRW', t.amount, t.transaction_at, t.raw, t.fetched_at
FROM (
  SELECT s.provider,
         CASE s.provider WHEN 'portone' THEN 'portone_payments_api' ELSE 'toss_transactions_api' END AS source,
         CASE s.provider WHEN 'portone' THEN p.store_id ELSE p.toss_mid END AS mid,
         CASE s.provider WHEN 'portone' THEN s.payment_key ELSE s.pg_tx_id END AS transaction_key,
         s.payment_key, s.order_id,
         CASE s.provider WHEN 'portone' THEN s.pg_tx_id END AS pg_tx_id,
         'approval' AS tx_kind,
         CASE s.provider WHEN 'portone' THEN 'PAID' ELSE 'DONE' END AS status,
         s.method, s.price_krw AS amount, s.pg_at AS transaction_at,
         ('{{"orderId":"' || s.order_id || '","paymentKey":"' || s.payment_key || '","transactionKey":"'
          || CASE s.provider WHEN 'portone' THEN s.payment_key ELSE s.pg_tx_id END || '","amount":' || s.price_krw
          || ',"status":"' || CASE s.provider WHEN 'portone' THEN 'PAID' ELSE 'DONE' END || '","transactionAt":"'
          || to_char(s.pg_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') || '"}}')::jsonb AS raw,
         date_bin({IMPORT_EVERY}, s.pg_at, p.t0) + {IMPORT_EVERY} + interval '7 seconds' AS fetched_at
  FROM s_purchases s, s_params p
  WHERE s.plan NOT IN ('failed', 'abandoned')
  UNION ALL
  SELECT s.provider,
         CASE s.provider WHEN 'portone' THEN 'portone_payments_api' ELSE 'toss_transactions_api' END,
         CASE s.provider WHEN 'portone' THEN p.store_id ELSE p.toss_mid END,
         s.cancellation_id, s.payment_key, s.order_id,
         CASE s.provider WHEN 'portone' THEN s.pg_tx_id END,
         CASE s.refund_kind WHEN 'partial_refund' THEN 'partial_cancel' ELSE 'cancel' END,
         CASE WHEN s.provider = 'portone' AND s.refund_kind = 'partial_refund' THEN 'PARTIAL_CANCELLED'
              WHEN s.provider = 'portone' THEN 'CANCELLED'
              WHEN s.refund_kind = 'partial_refund' THEN 'PARTIAL_CANCELED' ELSE 'CANCELED' END,
         s.method, s.refund_krw, s.refund_done_at,
         ('{{"orderId":"' || s.order_id || '","paymentKey":"' || s.payment_key || '","transactionKey":"'
          || s.cancellation_id || '","cancelAmount":' || s.refund_krw || ',"canceledAt":"'
          || to_char(s.refund_done_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') || '"}}')::jsonb,
         date_bin({IMPORT_EVERY}, s.refund_done_at, p.t0) + {IMPORT_EVERY} + interval '7 seconds'
  FROM s_purchases s, s_params p
  WHERE s.refund_state = 'succeeded'
) t, s_params p
WHERE t.fetched_at <= p.as_of AND t.transaction_at <= p.as_of
"""

# One run per provider per finished KST business day, at 03:30 KST the next morning, with the
# figures the runbook's reconciliation recomputes (so every run matched). From the staged
# purchases: every PG approval of a past day belongs to a credited purchase, every PG cancel to
# a completed refund.
RECONCILIATION_RUNS = """
WITH paid AS (
  SELECT s.provider, date_trunc('day', s.pg_at AT TIME ZONE 'Asia/Seoul') AS day,
         count(*) AS n, sum(s.price_krw) AS krw, sum(s.dt_amount + s.bonus_dt) AS dt
  FROM s_purchases s WHERE s.credit_tx_id IS NOT NULL GROUP BY 1, 2
), refunded AS (
  SELECT s.provider, date_trunc('day', s.refund_done_at AT TIME ZONE 'Asia/Seoul') AS day,
         count(*) AS n, sum(s.refund_krw) AS krw
  FROM s_purchases s WHERE s.refund_state = 'succeeded' GROUP BY 1, 2
), days AS (
  SELECT k, date_trunc('day', p.t0 AT TIME ZONE 'Asia/Seoul') + k * interval '1 day' AS day
  FROM s_params p, generate_series(0, p.days) k
)
INSERT INTO public.reconciliation_runs
  (id, provider, period_start, period_end, trigger, status, pg_count, pg_amount_krw, purchase_count,
   purchase_amount_krw, ledger_tx_count, ledger_dt, mismatch_count, error, started_at, finished_at)
SELECT s_uuid4(d.k * 2 + CASE v.provider WHEN 'portone' THEN 0 ELSE 1 END, 121), v.provider,
       d.day AT TIME ZONE 'Asia/Seoul', (d.day + interval '1 day') AT TIME ZONE 'Asia/Seoul', 'cron', 'matched',
       coalesce(pd.n, 0) + coalesce(rf.n, 0), coalesce(pd.krw, 0) - coalesce(rf.krw, 0),
       coalesce(pd.n, 0), coalesce(pd.krw, 0) - coalesce(rf.krw, 0), coalesce(pd.n, 0), coalesce(pd.dt, 0), 0, NULL,
       (d.day + interval '1 day 3 hours 30 minutes') AT TIME ZONE 'Asia/Seoul' + (2 + d.k % 5) * interval '1 second',
       (d.day + interval '1 day 3 hours 30 minutes') AT TIME ZONE 'Asia/Seoul'
         + (25 + (d.k * 17) % 60) * interval '1 second'
FROM days d
CROSS JOIN (VALUES ('portone'), ('tosspayments')) v(provider)
CROSS JOIN s_params p
LEFT JOIN paid pd ON pd.provider = v.provider AND pd.day = d.day
LEFT JOIN refunded rf ON rf.provider = v.provider AND rf.day = d.day
WHERE (d.day + interval '1 day 3 hours 31 minutes 30 seconds') AT TIME ZONE 'Asia/Seoul' <= p.as_of
"""

# Two old findings, long resolved: their run is marked mismatched (it is older than the 3 days
# the runbook looks at).
RECONCILIATION_ITEMS = """
WITH old AS (
  SELECT r.id, r.provider, r.period_start, r.period_end, r.finished_at
  FROM public.reconciliation_runs r, s_params p
  WHERE r.provider = 'portone' AND r.started_at < p.as_of - interval '8 days'
  ORDER BY r.started_at DESC LIMIT 1
), marked AS (
  UPDATE public.reconciliation_runs r SET status = 'mismatched', mismatch_count = 2
  FROM old WHERE r.id = old.id RETURNING r.id
), picked AS (
  SELECT s.*, row_number() OVER (ORDER BY s.n) AS k
  FROM s_purchases s, old
  WHERE s.provider = 'portone' AND s.status = 'paid' AND s.pg_at >= old.period_start AND s.pg_at < old.period_end
  LIMIT 2
)
INSERT INTO public.reconciliation_items
  (run_id, provider, order_id, purchase_id, pg_transaction_key, wallet_tx_id, mismatch_type, pg_amount_krw,
   db_amount_krw, expected_dt, ledger_dt, pg_status, db_status, details, resolution, resolved_by, resolved_at, note,
   created_at)
SELECT old.id, 'portone', s.order_id, s.id, s.payment_key, s.credit_tx_id,
       CASE s.k WHEN 1 THEN 'missing_in_pg' ELSE 'not_credited' END,
       s.price_krw, s.price_krw, s.dt_amount + s.bonus_dt, s.dt_amount + s.bonus_dt, 'PAID', 'paid',
       jsonb_build_object('detected_by', 'payment-reconcile'),
       CASE s.k WHEN 1 THEN 'false_positive' ELSE 'auto_fixed' END,
       (SELECT id FROM s_users WHERE n = 1), old.finished_at + interval '3 hours',
       CASE s.k WHEN 1 THEN 'PG 거래대사 export가 늦게 올라옴 (import lag)'
                ELSE 'credit_dt_purchase() 재실행으로 적립 완료' END,
       old.finished_at
FROM picked s, old, (SELECT count(*) FROM marked) m
"""

# API idempotency keys of the last 3 days (the table keeps 15 days; 3 are enough for the pages).
IDEMPOTENCY_KEYS = """
INSERT INTO public.idempotency_keys
  (scope, key, user_id, request_hash, status, response_status, response_body, locked_until, created_at, completed_at,
   expires_at)
SELECT 'purchase.confirm', s.idempotency_key, s.user_id,
       md5(s.order_id || ':' || s.price_krw),
       CASE WHEN s.inflight THEN 'in_progress' ELSE 'completed' END,
       CASE WHEN s.inflight THEN NULL WHEN s.plan = 'failed' THEN 400 ELSE 200 END,
       CASE WHEN s.inflight THEN NULL
            WHEN s.plan = 'failed' THEN '{"ok": false, "status": "failed"}'::jsonb
            ELSE '{"ok": true, "status": "paid"}'::jsonb END,
       CASE WHEN s.inflight THEN p.as_of + interval '30 seconds' END,
       s.pg_at - interval '1 second', CASE WHEN NOT s.inflight THEN s.pg_at + interval '600 milliseconds' END,
       s.pg_at - interval '1 second' + interval '15 days'
FROM s_purchases s, s_params p
WHERE s.plan <> 'abandoned' AND s.pg_at - interval '1 second' <= p.as_of
  AND s.requested_at >= p.as_of - interval '3 days'
UNION ALL
SELECT 'webhook:' || d.provider,
       coalesce(d.webhook_id, 'toss:' || d.payment_key || ':' || d.event),
       NULL, md5(coalesce(d.webhook_id, d.payment_key || d.event)), 'completed', 200,
       '{"ok": true}'::jsonb, NULL, d.attempt_at, d.processed_at, d.attempt_at + interval '15 days'
FROM s_deliveries d, s_params p
WHERE d.processing = 'processed' AND d.attempt_at >= p.as_of - interval '3 days'
UNION ALL
SELECT 'refund-process', r.idempotency_key, r.user_id, md5(r.id::text),
       CASE r.status WHEN 'succeeded' THEN 'completed' ELSE 'in_progress' END,
       CASE r.status WHEN 'succeeded' THEN 200 END, NULL, NULL, r.requested_at, r.completed_at,
       r.requested_at + interval '15 days'
FROM public.refunds r, s_params p
WHERE r.requested_at >= p.as_of - interval '3 days' AND r.status IN ('processing', 'succeeded')
ON CONFLICT (scope, key) DO NOTHING
"""
