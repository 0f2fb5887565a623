"""PG webhook deliveries (payment_webhook_logs) and the payment-webhook function's own logs.

Deliveries are staged first (one row per attempt, table shape `DELIVERY_COLUMNS`) and then
written by one statement that builds PortOne's exact body, its Standard Webhooks signature
(HMAC-SHA256 from sha256(), see signing.py) and Toss's unsigned payload. Scenario drills stage
their own deliveries in the same shape and go through the same statement, so an incident's
rows look exactly like the baseline's apart from what the incident changes.
"""

from __future__ import annotations

import psycopg

from opslib.seed import profile

# The staged delivery shape (all columns, in order).
DELIVERY_COLUMNS = """
  provider text, purchase_id uuid, order_id text, payment_key text, event text, event_at timestamptz,
  attempt_at timestamptz, webhook_id text, http_status int, processing text, error text, sig_valid boolean,
  sig_error text, processed_at timestamptz, cancellation_id text, amount bigint, method text,
  approved_at timestamptz, last_tx_key text, sku text
"""

PAID_STATES = "('paid', 'refunded', 'partially_refunded', 'chargeback')"

# Baseline deliveries. Payment outcome: one delivery (PortOne may retry: a first attempt that
# timed out, or a redelivery after success answered 'duplicate'). Refunds and chargebacks:
# PortOne Transaction.Cancelled / PartialCancelled / DisputeCreated, Toss CANCELED / PARTIAL_CANCELED.
STAGE_BASELINE = f"""
CREATE UNLOGGED TABLE s_deliveries AS
SELECT s.provider, s.id AS purchase_id, s.order_id, s.payment_key,
       CASE WHEN s.status = 'failed' THEN 'failed' ELSE 'paid' END AS event,
       s.pg_at AS event_at, a.attempt_at,
       CASE WHEN s.provider = 'portone' THEN 'whk_' || s_uuid7(s.pg_at, s.n, 131) END AS webhook_id,
       a.http_status, a.processing, a.error,
       CASE WHEN s.provider = 'portone' THEN true END AS sig_valid, NULL::text AS sig_error,
       a.processed_at, NULL::text AS cancellation_id, s.price_krw AS amount, s.method,
       s.pg_at AS approved_at, s.pg_tx_id AS last_tx_key, s.sku
FROM s_purchases s
CROSS JOIN s_params p
CROSS JOIN LATERAL (VALUES
  (s.recv_at,
   CASE WHEN s.retry = 'timeout' THEN NULL ELSE 200 END,
   CASE WHEN s.retry = 'timeout' THEN 'failed' ELSE 'processed' END,
   CASE WHEN s.retry = 'timeout' THEN 'handler did not answer within 10 s: PortOne will retry' END,
   CASE WHEN s.retry = 'timeout' THEN NULL WHEN s.status = 'failed' THEN s.proc_at ELSE s.credit_at END),
  (CASE s.retry WHEN 'timeout' THEN s.proc_at
                WHEN 'duplicate' THEN s.credit_at + (30 + 270 * s_rnd(s.n, 133)) * interval '1 second' END,
   200,
   CASE s.retry WHEN 'timeout' THEN 'processed' ELSE 'duplicate' END,
   NULL,
   CASE WHEN s.retry = 'timeout' AND s.status = 'failed' THEN s.proc_at
        WHEN s.retry = 'timeout' THEN s.credit_at
        ELSE s.credit_at + (30.3 + 270 * s_rnd(s.n, 133)) * interval '1 second' END)
) AS a(attempt_at, http_status, processing, error, processed_at)
WHERE (s.status IN {PAID_STATES} OR s.status = 'failed')
  AND a.attempt_at IS NOT NULL AND a.attempt_at <= p.as_of
UNION ALL
SELECT s.provider, s.id, s.order_id, s.payment_key,
       CASE WHEN s.refund_kind = 'chargeback' THEN 'dispute'
            WHEN s.refund_kind = 'partial_refund' THEN 'partial_cancelled' ELSE 'cancelled' END,
       e.event_at, e.event_at + (1 + 12 * s_rnd(s.n, 135)) * interval '1 second',
       CASE WHEN s.provider = 'portone' THEN 'whk_' || s_uuid7(e.event_at, s.n, 137) END,
       200, 'processed', NULL,
       CASE WHEN s.provider = 'portone' THEN true END, NULL,
       e.event_at + (1.3 + 12 * s_rnd(s.n, 135)) * interval '1 second',
       CASE WHEN s.provider = 'portone' AND s.refund_kind <> 'chargeback' THEN s.cancellation_id END,
       s.refund_krw, s.method, s.pg_at, s.pg_tx_id, s.sku
FROM s_purchases s
CROSS JOIN s_params p
CROSS JOIN LATERAL (
  SELECT CASE WHEN s.refund_kind = 'chargeback' THEN s.refund_req_at ELSE s.refund_done_at END AS event_at
) e
WHERE (s.refund_state = 'succeeded' OR (s.refund_kind = 'chargeback' AND s.refund_state IS NOT NULL))
  AND (s.provider = 'portone' OR s.refund_kind <> 'chargeback')
  AND e.event_at + (1 + 12 * s_rnd(s.n, 135)) * interval '1 second' <= p.as_of
"""

# PortOne event types / statuses and Toss statuses per staged event.
_PORTONE_TYPE = """CASE d.event WHEN 'paid' THEN 'Transaction.Paid' WHEN 'failed' THEN 'Transaction.Failed'
  WHEN 'cancelled' THEN 'Transaction.Cancelled' WHEN 'partial_cancelled' THEN 'Transaction.PartialCancelled'
  WHEN 'dispute' THEN 'Transaction.DisputeCreated' ELSE 'Transaction.Ready' END"""
_PORTONE_STATUS = """CASE d.event WHEN 'failed' THEN 'FAILED' WHEN 'cancelled' THEN 'CANCELLED'
  WHEN 'partial_cancelled' THEN 'PARTIAL_CANCELLED' WHEN 'ready' THEN 'READY' ELSE 'PAID' END"""
_TOSS_STATUS = """CASE d.event WHEN 'failed' THEN 'ABORTED' WHEN 'cancelled' THEN 'CANCELED'
  WHEN 'partial_cancelled' THEN 'PARTIAL_CANCELED' WHEN 'ready' THEN 'READY' ELSE 'DONE' END"""

# The body PortOne signs is built as text in PortOne's key order (signing.portone_signed_body
# rebuilds the same string from the stored payload). All values are [A-Za-z0-9._:-]: no JSON
# escaping is needed, so concatenation is exact. Toss payloads are built as text too (cheaper
# than jsonb_build_object). Rows go in staging order, close to time order.
INSERT_TEMPLATE = f"""
INSERT INTO public.payment_webhook_logs
  (provider, webhook_id, event_type, webhook_timestamp, signature_valid, signature_error, order_id,
   provider_payment_key, provider_status, purchase_id, http_status, processing_status, error, headers, payload,
   source_ip, received_at, processed_at)
SELECT d.provider, d.webhook_id, b.event_type, b.hook_ts, d.sig_valid, d.sig_error, d.order_id, d.payment_key,
       CASE WHEN d.provider = 'tosspayments' OR d.processing IN ('processed', 'duplicate') THEN b.status END,
       d.purchase_id, d.http_status, d.processing, d.error,
       CASE WHEN d.provider = 'portone' THEN jsonb_build_object(
              'webhook-id', d.webhook_id, 'webhook-timestamp', b.unix,
              'webhook-signature', 'v1,' || encode(sha256(p.opad || sha256(p.ipad
                  || convert_to(d.webhook_id || '.' || b.unix || '.' || b.body, 'UTF8'))), 'base64'))
            ELSE jsonb_build_object('content-type', 'application/json') END,
       CASE WHEN d.provider = 'portone' THEN b.body::jsonb ELSE b.toss_payload END,
       CASE WHEN d.provider = 'portone' THEN '{profile.PORTONE_WEBHOOK_IP}'::inet
            ELSE (ARRAY{list(profile.TOSS_WEBHOOK_IPS)!r})
                   [1 + abs(hashtext(d.order_id)) % {len(profile.TOSS_WEBHOOK_IPS)}]::inet END,
       d.attempt_at, d.processed_at
FROM __SOURCE__ d
CROSS JOIN s_params p
CROSS JOIN LATERAL (
  SELECT CASE WHEN d.provider = 'portone' THEN {_PORTONE_TYPE} ELSE 'PAYMENT_STATUS_CHANGED' END AS event_type,
         CASE WHEN d.provider = 'portone' THEN {_PORTONE_STATUS} ELSE {_TOSS_STATUS} END AS status,
         floor(date_part('epoch', d.attempt_at))::bigint::text AS unix,
         CASE WHEN d.provider = 'portone' THEN to_timestamp(floor(date_part('epoch', d.attempt_at)))
              ELSE date_trunc('milliseconds', d.attempt_at) END AS hook_ts,
         CASE WHEN d.provider = 'portone' THEN
           '{{"type":"' || {_PORTONE_TYPE} || '","timestamp":"'
           || to_char(d.event_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
           || '","data":{{"storeId":"' || p.store_id || '","paymentId":"' || d.order_id
           || '","transactionId":"' || d.payment_key || '"'
           || CASE WHEN d.cancellation_id IS NOT NULL THEN ',"cancellationId":"' || d.cancellation_id || '"' ELSE '' END
           || '}}}}' END AS body,
         CASE WHEN d.provider = 'tosspayments' THEN (
           '{{"eventType":"PAYMENT_STATUS_CHANGED","createdAt":"'
           || to_char(d.attempt_at AT TIME ZONE 'Asia/Seoul', 'YYYY-MM-DD"T"HH24:MI:SS.US')
           || '","data":{{"mId":"' || p.toss_mid || '","version":"2022-11-16","paymentKey":"' || d.payment_key
           || '","orderId":"' || d.order_id || '","orderName":"' || d.sku || '","status":"' || {_TOSS_STATUS}
           || '","method":"' || d.method || '","currency":"KRW","totalAmount":' || d.amount
           || CASE WHEN d.event = 'failed' THEN ''
                   ELSE ',"lastTransactionKey":"' || d.last_tx_key || '","approvedAt":"'
                        || to_char(d.approved_at AT TIME ZONE 'Asia/Seoul', 'YYYY-MM-DD"T"HH24:MI:SS"+09:00"')
                        || '"' END
           || '}}}}')::jsonb
         END AS toss_payload
) b
"""

# One payment-webhook invocation per delivery of the last 3 days (the log drain's horizon, as for
# every logs.* source): what the handler answered (no answer = 504), how long it ran (cold starts
# on ~5 %), and which release served it.
INVOCATIONS = f"""
INSERT INTO logs.function_edge_logs
  (id, "timestamp", function_name, method, status_code, execution_time_ms, boot_time_ms, execution_id,
   deployment_version, event_message, metadata)
SELECT s_uuid4(w.id, 141), w.received_at, 'payment-webhook', 'POST', x.status,
       x.exec_ms + coalesce(x.boot, 0), x.boot, s_uuid4(w.id, 143)::text,
       CASE WHEN w.received_at < p.deploy_at THEN '{profile.WEBHOOK_VERSION_OLD}' ELSE '{profile.WEBHOOK_VERSION}' END,
       'POST | ' || x.status || ' | ' || p.project_url || '/functions/v1/payment-webhook/' || w.provider,
       jsonb_build_object('provider', w.provider, 'region', 'ap-northeast-2')
FROM public.payment_webhook_logs w
CROSS JOIN s_params p
CROSS JOIN LATERAL (
  SELECT coalesce(w.http_status, 504) AS status,
         CASE WHEN w.http_status IS NULL THEN 10000 + floor(s_rnd(w.id, 145) * 2500)::int
              WHEN w.http_status = 401 THEN 4 + floor(s_rnd(w.id, 145) * 9)::int
              WHEN w.http_status >= 500 THEN 30 + floor(s_rnd(w.id, 145) * 120)::int
              ELSE 90 + floor(s_rnd(w.id, 145) ^ 2 * 650)::int END AS exec_ms,
         CASE WHEN s_rnd(w.id, 147) < 0.05 THEN 200 + floor(s_rnd(w.id, 149) * 1300)::int END AS boot
) x
WHERE w.id > %(since)s AND w.received_at >= p.as_of - interval '3 days'
"""

# Console output of the handler (last 3 days), in the runbook's §4-B log field standard with §4-C's payment
# fields (payer_id masked as `user_<8 hex>`; PortOne's webhook-id, or Toss's payment key and status, as the
# idempotency key the handler dedupes on).
CONSOLE = """
INSERT INTO logs.function_logs (id, "timestamp", function_name, level, execution_id, event_message, metadata)
SELECT s_uuid4(w.id, 151), w.received_at + interval '40 milliseconds', 'payment-webhook', x.level,
       s_uuid4(w.id, 143)::text,
       json_build_object('env', 'production', 'release', f.deployment_version, 'platform', 'edge',
                         'request_id', s_uuid4(w.id, 143), 'event', x.event, 'severity', x.level,
                         'domain', 'payment', 'provider', w.provider, 'order_id', w.order_id,
                         'webhook_id', w.webhook_id, 'status', w.processing_status, 'http_status', x.status,
                         'error', w.error, 'payer_id', 'user_' || left(md5(coalesce(d.user_id, s.user_id)::text), 8),
                         'amount', coalesce(d.amount_krw, s.price_krw), 'currency', coalesce(d.currency, 'KRW'),
                         'idempotency_key', coalesce(w.webhook_id,
                                                    'toss_' || coalesce(w.provider_payment_key, w.order_id)
                                                    || '_' || coalesce(w.provider_status, 'none')),
                         'timestamp', to_char(w.received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))::text,
       jsonb_build_object('region', 'ap-northeast-2')
FROM public.payment_webhook_logs w
CROSS JOIN s_params p
JOIN logs.function_edge_logs f ON f.id = s_uuid4(w.id, 141)
-- the baseline writes its deliveries before its purchases: the staged purchase then
LEFT JOIN public.dt_purchases d ON d.id = w.purchase_id
LEFT JOIN s_purchases s ON s.id = w.purchase_id AND d.id IS NULL
CROSS JOIN LATERAL (
  SELECT coalesce(w.http_status, 504) AS status,
         CASE WHEN w.http_status >= 500 THEN 'error'
              WHEN w.http_status IS NULL OR w.http_status >= 400 THEN 'warn' ELSE 'info' END AS level,
         CASE WHEN w.signature_valid = false THEN 'payment.webhook.signature_invalid'
              WHEN w.http_status >= 500 THEN 'payment.webhook.handler_error'
              WHEN w.http_status IS NULL THEN 'payment.webhook.timeout'
              WHEN w.processing_status = 'duplicate' THEN 'payment.webhook.duplicate'
              ELSE 'payment.webhook.processed' END AS event
) x
WHERE w.id > %(since)s AND w.received_at >= p.as_of - interval '3 days'
"""


def insert(conn: psycopg.Connection, source: str) -> int:
    """Write staged deliveries (and their function logs); returns the id after which they start."""
    since = conn.execute("SELECT coalesce(max(id), 0) FROM public.payment_webhook_logs").fetchone()[0]  # type: ignore[index]
    conn.execute(INSERT_TEMPLATE.replace("__SOURCE__", source))
    conn.execute(INVOCATIONS, {"since": since})
    conn.execute(CONSOLE, {"since": since})
    return int(since)
