-- name: recon_items
-- section: §3-A 복구 (payment-reconcile: PG vs dt_purchases vs wallet_ledger 재대사)
-- Three-way reconciliation of one period, read-only, one row per (order, mismatch type), typed
-- exactly as reconciliation_items.mismatch_type. The PG side is pg_transactions, or, when
-- use_export is true, a PG export file sent as parallel arrays and unnest()ed (no temp table:
-- the session is READ ONLY).
-- Orders reconciled: every order with a PG row in the period, every purchase paid in the period
-- (dt_purchases_paid_at_idx) and every purchase with a refund completed in the period. For
-- those orders the state is compared as it is now: all PG rows of the order (approvals minus
-- cancels, the same PG transaction imported from several sources counted once), the purchase
-- row, and its purchase_credit transactions.
-- Period edges: nothing younger than the grace period is judged (a purchase paid 30 s ago may
-- not be credited yet); missing_in_pg is judged only for providers the PG side covers in the
-- period and only up to its last import (max fetched_at), so an import that has not run yet
-- does not turn every purchase into a mismatch.
-- Rules: missing_in_db = PG approved, no purchase row; missing_in_pg = purchase paid in the
-- period, no PG approval; amount_mismatch = PG approved amount <> amount_krw, or PG cancelled
-- amount <> refunded_amount_krw when both sides refunded; status_mismatch =
-- PG state (PAID / PARTIAL_CANCELLED / CANCELLED from approvals and cancels) not compatible with
-- the DB status (a DB refund newer than the last PG import is not judged yet); not_credited = paid/partially_refunded with no purchase_credit; 
-- credit_amount_mismatch = the one credit's user-side DT <> dt_amount + bonus_dt; double_credit
-- = more than one purchase_credit; refund_not_clawed_back = refund succeeded in the period,
-- the purchase was credited, and its clawbacks (refunds.wallet_tx_id; a refund_clawback,
-- chargeback_clawback or reversal referencing the refund; the contract's key for it, refund/<id>/
-- clawback joined by colons; a refund/chargeback clawback referencing the purchase) took no DT
-- back although some was due (dt_clawback, or, when nothing is recorded and no shortfall, the
-- refunded share of dt_amount + bonus_dt), or took less than the refund row's dt_clawback.
-- COST: window-bound through pg_transactions_at_idx, dt_purchases_paid_at_idx and per-order
-- index probes, plus one sequential scan of refunds (no index on completed_at; refunds is ~1 %
-- of purchases). Per order, only index probes and expressions compiled once per query: the
-- rules are an unnest() of ROWs (a LATERAL VALUES list of expressions is rebuilt for every
-- order, half of a business day's time), the PG rows are aggregated once for all orders, and
-- user accounts are told apart by excluding the few system accounts (wallet_accounts.code is
-- set exactly for them, by the contract's CHECK) instead of probing wallet_accounts per entry.
-- A PG row without transaction_at (the contract allows it) is placed at its fetched_at: an
-- approval imported without a time is still an approval. The IS NULL branch is an index
-- search of pg_transactions_at_idx too, so the window stays index-bound.
-- param: since timestamptz start of the period (inclusive, UTC)
-- param: until timestamptz end of the period (exclusive, UTC); "now" for ages and grace
-- param: grace interval nothing younger than this is judged (in flight)
-- param: use_export bool true: PG side from the x_* arrays; false: from pg_transactions
-- param: x_provider text[] export column: provider (portone / tosspayments)
-- param: x_order_id text[] export column: order id (PortOne paymentId / Toss orderId)
-- param: x_transaction_key text[] export column: PG transaction id / key
-- param: x_tx_kind text[] export column: approval / cancel / partial_cancel
-- param: x_status text[] export column: PG status as exported
-- param: x_amount bigint[] export column: amount in KRW (cancels as positive amounts)
-- param: x_transaction_at text[] export column: transaction time, ISO-8601 with offset (text: cast in SQL)
WITH export AS (
  SELECT x.provider, x.order_id, x.transaction_key, x.tx_kind, x.status, x.amount, x.transaction_at
  FROM unnest(CAST(:x_provider AS text[]), CAST(:x_order_id AS text[]), CAST(:x_transaction_key AS text[]),
              CAST(:x_tx_kind AS text[]), CAST(:x_status AS text[]), CAST(:x_amount AS bigint[]),
              CAST(CAST(:x_transaction_at AS text[]) AS timestamptz[]))
         AS x(provider, order_id, transaction_key, tx_kind, status, amount, transaction_at)
  WHERE :use_export
),
pg_period AS (
  SELECT t.provider, t.order_id, t.fetched_at
  FROM public.pg_transactions t
  WHERE NOT :use_export
    AND t.provider IN ('portone', 'tosspayments')
    AND ((t.transaction_at >= :since AND t.transaction_at < :until)
         OR (t.transaction_at IS NULL AND t.fetched_at >= :since AND t.fetched_at < :until))
    AND t.order_id IS NOT NULL
  UNION ALL
  SELECT e.provider, e.order_id, NULL::timestamptz
  FROM export e
  WHERE e.order_id IS NOT NULL
    AND (e.transaction_at IS NULL OR (e.transaction_at >= :since AND e.transaction_at < :until))
),
coverage AS (
  SELECT provider, CASE WHEN :use_export THEN :until ELSE max(fetched_at) END AS covered_until
  FROM pg_period
  GROUP BY provider
),
touched AS (
  SELECT provider, order_id FROM pg_period
  UNION
  SELECT p.provider, p.order_id
  FROM public.dt_purchases p
  WHERE p.paid_at >= :since AND p.paid_at < :until
  UNION
  SELECT p.provider, p.order_id
  FROM public.refunds r
  JOIN public.dt_purchases p ON p.id = r.purchase_id
  WHERE r.status = 'succeeded'
    AND coalesce(r.completed_at, r.updated_at) >= :since
    AND coalesce(r.completed_at, r.updated_at) < :until
),
-- The export side is small and arrives whole: aggregate it once and hash-join it.
export_state AS (
  SELECT e.provider, e.order_id,
         count(*) FILTER (WHERE e.ok_approval)::bigint AS approvals,
         sum(e.amount) FILTER (WHERE e.ok_approval)::bigint AS approved_krw,
         sum(abs(e.amount)) FILTER (WHERE e.tx_kind IN ('cancel', 'partial_cancel'))::bigint AS cancelled_krw,
         min(e.transaction_at) FILTER (WHERE e.ok_approval) AS approved_at,
         max(e.transaction_at) FILTER (WHERE e.tx_kind IN ('cancel', 'partial_cancel')) AS cancelled_at,
         (array_agg(e.status ORDER BY e.transaction_at DESC NULLS LAST))[1] AS last_status,
         (array_agg(e.transaction_key ORDER BY e.ok_approval DESC, e.transaction_at))[1] AS transaction_key
  FROM (
    SELECT x.*,
           (x.tx_kind = 'approval'
            AND upper(coalesce(x.status, 'PAID')) NOT IN ('READY', 'PENDING', 'PAY_PENDING', 'IN_PROGRESS',
                  'VIRTUAL_ACCOUNT_ISSUED', 'WAITING_FOR_DEPOSIT', 'FAILED', 'ABORTED', 'EXPIRED')) AS ok_approval
    FROM export x
  ) AS e
  GROUP BY e.provider, e.order_id
),
-- The touched orders' PG rows: all of each order's rows (not only the period's), found by index
-- probes per order (OFFSET 0 keeps the planner from hashing the whole table), the same PG
-- transaction imported from several sources counted once (API first); then one aggregate.
pg_rows AS (
  SELECT DISTINCT ON (o.provider, o.order_id, t.transaction_key, t.tx_kind)
         o.provider, o.order_id, t.transaction_key, t.tx_kind, t.status, t.amount, t.transaction_at,
         (t.tx_kind = 'approval'
          AND upper(coalesce(t.status, 'PAID')) NOT IN ('READY', 'PENDING', 'PAY_PENDING', 'IN_PROGRESS',
                'VIRTUAL_ACCOUNT_ISSUED', 'WAITING_FOR_DEPOSIT', 'FAILED', 'ABORTED', 'EXPIRED')) AS ok_approval
  FROM touched o
  CROSS JOIN LATERAL (
    SELECT t.transaction_key, t.tx_kind, t.status, t.amount, coalesce(t.transaction_at, t.fetched_at) AS transaction_at,
           CASE t.source WHEN 'portone_payments_api' THEN 1 WHEN 'toss_transactions_api' THEN 1
                         WHEN 'toss_settlements_api' THEN 2 ELSE 3 END AS source_rank,
           t.fetched_at
    FROM public.pg_transactions t
    WHERE NOT :use_export
      AND t.provider = o.provider
      AND t.order_id = o.order_id
    OFFSET 0
  ) t
  ORDER BY o.provider, o.order_id, t.transaction_key, t.tx_kind, t.source_rank, t.fetched_at DESC
),
pg_state AS (
  SELECT r.provider, r.order_id,
         count(*) FILTER (WHERE r.ok_approval)::bigint AS approvals,
         sum(r.amount) FILTER (WHERE r.ok_approval)::bigint AS approved_krw,
         sum(abs(r.amount)) FILTER (WHERE r.tx_kind IN ('cancel', 'partial_cancel'))::bigint AS cancelled_krw,
         min(r.transaction_at) FILTER (WHERE r.ok_approval) AS approved_at,
         max(r.transaction_at) FILTER (WHERE r.tx_kind IN ('cancel', 'partial_cancel')) AS cancelled_at,
         (array_agg(r.status ORDER BY r.transaction_at DESC NULLS LAST))[1] AS last_status,
         (array_agg(r.transaction_key ORDER BY r.ok_approval DESC, r.transaction_at))[1] AS transaction_key
  FROM pg_rows r
  GROUP BY r.provider, r.order_id
),
-- Everything else is looked up per touched order (LATERAL: index probes, never a hash of a
-- whole table), so the cost follows the number of orders in the period.
orders AS (
  SELECT o.provider, o.order_id,
         p.id AS purchase_id, p.user_id, p.status AS db_status, p.amount_krw AS db_amount_krw,
         p.refunded_amount_krw AS db_refunded_krw, (p.dt_amount + p.bonus_dt)::bigint AS expected_dt,
         p.paid_at, p.changed_at AS db_changed_at,
         coalesce(es.approvals, ts.approvals, 0) AS approvals,
         coalesce(es.approved_krw, ts.approved_krw, 0) AS approved_krw,
         coalesce(es.cancelled_krw, ts.cancelled_krw, 0) AS cancelled_krw,
         coalesce(es.approved_at, ts.approved_at) AS approved_at,
         coalesce(es.cancelled_at, ts.cancelled_at) AS cancelled_at,
         coalesce(es.last_status, ts.last_status) AS pg_status_raw,
         coalesce(es.transaction_key, ts.transaction_key) AS pg_transaction_key,
         cv.covered_until,
         coalesce(cr.credits, 0) AS credits, coalesce(cr.credited_dt, 0) AS credited_dt
  FROM touched o
  LEFT JOIN LATERAL (
    SELECT q.id, q.user_id, q.status, q.amount_krw, q.refunded_amount_krw, q.dt_amount, q.bonus_dt, q.paid_at,
           q.wallet_tx_id,
           -- when the DB left paid: its cancel or refund time; updated_at (bumped by any edit,
           -- through the trigger) only when neither is recorded
           coalesce(greatest(q.cancelled_at,
                             (SELECT max(coalesce(r.completed_at, r.updated_at))
                                FROM public.refunds r WHERE r.purchase_id = q.id)),
                    q.updated_at) AS changed_at
    FROM public.dt_purchases q
    WHERE q.provider = o.provider AND q.order_id = o.order_id
    LIMIT 1  -- unique anyway; also keeps the planner from flattening this into a hash join
  ) p ON true
  LEFT JOIN pg_state ts ON ts.provider = o.provider AND ts.order_id = o.order_id
  LEFT JOIN export_state es ON es.provider = o.provider AND es.order_id = o.order_id
  LEFT JOIN coverage cv ON cv.provider = o.provider
  LEFT JOIN LATERAL (
    SELECT count(*)::bigint AS credits, sum(c.user_dt)::bigint AS credited_dt
    FROM (
      SELECT (SELECT coalesce(sum(l.amount_dt), 0)
                FROM public.wallet_ledger l
               WHERE l.tx_id = t.tx_id
                 -- user-side entries: not on a system account (kind 'system' <=> code IS NOT NULL)
                 AND l.account_id <> ALL (ARRAY(SELECT s.id FROM public.wallet_accounts s WHERE s.code IS NOT NULL))) AS user_dt
      FROM public.wallet_transactions t
      WHERE t.tx_type = 'purchase_credit'
        AND ((t.reference_type = 'dt_purchase' AND t.reference_id = p.id) OR t.tx_id = p.wallet_tx_id)
    ) AS c
  ) cr ON p.id IS NOT NULL
),
classified AS (
  SELECT o.*,
         CASE WHEN o.approvals = 0 THEN NULL
              WHEN o.cancelled_krw >= o.approved_krw THEN 'CANCELLED'
              WHEN o.cancelled_krw > 0 THEN 'PARTIAL_CANCELLED'
              ELSE 'PAID' END AS pg_status
  FROM orders o
),
order_items AS (
  SELECT o.provider, o.order_id, o.purchase_id, NULL::uuid AS refund_id, o.user_id, m.mismatch_type,
         CASE WHEN o.approvals > 0 THEN o.approved_krw END AS pg_amount_krw,
         CASE WHEN o.approvals > 0 THEN o.cancelled_krw END AS pg_cancelled_krw,
         o.db_amount_krw, o.db_refunded_krw, o.expected_dt, o.credited_dt AS ledger_dt,
         o.pg_status, o.pg_status_raw, o.db_status, o.pg_transaction_key, m.event_at
  FROM classified o
  -- one ROW per rule: (mismatch type, does the order break it, when)
  CROSS JOIN LATERAL unnest(ARRAY[
    ROW('missing_in_db'::text,
       o.purchase_id IS NULL AND o.approvals > 0 AND o.approved_at < :until - :grace,
       o.approved_at),
    ROW('missing_in_pg'::text,
       o.db_status IN ('paid', 'partially_refunded', 'refunded', 'chargeback')
       AND o.paid_at >= :since AND o.paid_at < :until AND o.approvals = 0
       AND o.covered_until IS NOT NULL AND o.paid_at < least(o.covered_until, :until) - :grace,
       o.paid_at),
    ROW('amount_mismatch'::text,
       o.purchase_id IS NOT NULL AND o.approvals > 0
       AND (o.approved_krw <> o.db_amount_krw
            -- both sides refunded, by different amounts (one side only is a status mismatch);
            -- judged once the PG data was imported after the DB's refund
            OR (o.cancelled_krw > 0 AND o.db_refunded_krw > 0 AND o.cancelled_krw <> o.db_refunded_krw
                AND o.db_status <> 'chargeback'
                AND o.db_changed_at < least(coalesce(o.covered_until, :until), :until) - :grace)),
       coalesce(o.approved_at, o.paid_at)),
    ROW('status_mismatch'::text,
       o.purchase_id IS NOT NULL AND o.approvals > 0
       AND CASE
             -- the PG cancelled: the DB must follow within the grace period
             WHEN o.pg_status = 'CANCELLED'
               THEN o.db_status NOT IN ('refunded', 'cancelled', 'chargeback') AND o.cancelled_at < :until - :grace
             WHEN o.pg_status = 'PARTIAL_CANCELLED'
               THEN o.db_status NOT IN ('partially_refunded', 'chargeback') AND o.cancelled_at < :until - :grace
             WHEN o.db_status IN ('paid', 'chargeback') THEN false
             -- the DB says refunded/cancelled, the PG side does not (yet): judge only once the PG
             -- data was imported after the DB changed, else the cancel is merely not imported yet
             WHEN o.db_status IN ('partially_refunded', 'refunded', 'cancelled')
               THEN o.db_changed_at < least(coalesce(o.covered_until, :until), :until) - :grace
             -- the PG approved, the DB is still pending/failed after the grace period
             ELSE o.approved_at < :until - :grace
           END,
       coalesce(o.approved_at, o.paid_at)),
    ROW('not_credited'::text,
       o.db_status IN ('paid', 'partially_refunded') AND o.credits = 0 AND o.paid_at < :until - :grace,
       o.paid_at),
    ROW('credit_amount_mismatch'::text,
       o.credits = 1 AND o.credited_dt <> o.expected_dt,
       o.paid_at),
    ROW('double_credit'::text,
       o.credits > 1,
       o.paid_at)
  ]) AS m(mismatch_type text, hit boolean, event_at timestamptz)
  WHERE m.hit
),
refund_items AS (
  SELECT p.provider, p.order_id, p.id AS purchase_id, r.id AS refund_id, r.user_id,
         'refund_not_clawed_back' AS mismatch_type,
         NULL::bigint AS pg_amount_krw, NULL::bigint AS pg_cancelled_krw,
         p.amount_krw AS db_amount_krw, r.amount_krw AS db_refunded_krw,
         e.expected_dt,
         cb.clawed_dt AS ledger_dt,
         NULL::text AS pg_status, NULL::text AS pg_status_raw, p.status AS db_status,
         r.provider_cancellation_id AS pg_transaction_key,
         coalesce(r.completed_at, r.updated_at) AS event_at
  FROM public.refunds r
  JOIN public.dt_purchases p ON p.id = r.purchase_id
  -- DT due back: what the refund row says it removed, or, when it records nothing and no
  -- shortfall, the refunded share of the credit
  CROSS JOIN LATERAL (
    SELECT (CASE WHEN r.dt_clawback > 0 THEN r.dt_clawback
                 WHEN r.dt_shortfall = 0 THEN (p.dt_amount + p.bonus_dt) * r.amount_krw / p.amount_krw
                 ELSE 0 END)::bigint AS expected_dt
  ) e
  -- DT actually taken back from the user, over the clawbacks in any shape the contract allows:
  -- refunds.wallet_tx_id; a refund/chargeback clawback or reversal referencing the refund; the
  -- contract's documented key (refund/<id>/clawback joined by colons; unique index); a
  -- refund/chargeback clawback posted against the purchase itself
  CROSS JOIN LATERAL (
    SELECT coalesce(-sum(l.amount_dt), 0)::bigint AS clawed_dt
    FROM public.wallet_transactions t
    JOIN public.wallet_ledger l ON l.tx_id = t.tx_id
    JOIN public.wallet_accounts a ON a.id = l.account_id AND a.kind = 'user'
    WHERE t.tx_id = r.wallet_tx_id
       OR (t.reference_type = 'refund' AND t.reference_id = r.id
           AND t.tx_type IN ('refund_clawback', 'chargeback_clawback', 'reversal'))
       -- ':' and 'clawback' apart: a colon before a word is a bind parameter to SQLAlchemy's text()
       OR t.idempotency_key = 'refund:' || r.id::text || ':' || 'clawback'
       OR (t.reference_type = 'dt_purchase' AND t.reference_id = p.id
           AND t.tx_type IN ('refund_clawback', 'chargeback_clawback'))
  ) cb
  WHERE r.status = 'succeeded'
    AND coalesce(r.completed_at, r.updated_at) >= :since
    AND coalesce(r.completed_at, r.updated_at) < :until
    AND EXISTS (
      SELECT 1 FROM public.wallet_transactions t
      WHERE t.tx_type = 'purchase_credit'
        AND ((t.reference_type = 'dt_purchase' AND t.reference_id = p.id) OR t.tx_id = p.wallet_tx_id))
    AND e.expected_dt > 0
    -- nothing taken back, or less than the refund row itself says was taken
    AND (cb.clawed_dt <= 0 OR (r.dt_clawback > 0 AND cb.clawed_dt < r.dt_clawback))
)
SELECT i.*, extract(epoch FROM :until - i.event_at)::float8 AS age_s
FROM (SELECT * FROM order_items UNION ALL SELECT * FROM refund_items) AS i
ORDER BY i.mismatch_type, i.event_at, i.provider, i.order_id
