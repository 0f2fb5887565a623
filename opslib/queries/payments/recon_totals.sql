-- name: recon_totals
-- section: §3-A 복구 (payment-reconcile 합계: PG vs dt_purchases vs wallet_ledger)
-- Per provider totals of one period, the figures a reconciliation run records:
--   PG side   approvals and cancels with transaction_at in the period (pg_transactions, the same
--             PG transaction from several sources once; or the export arrays), net = approved − cancelled;
--   DB side   purchases paid in the period (dt_purchases_paid_at_idx) minus refunds that
--             succeeded in the period (refunds, sequential scan: no completed_at index, small table);
--   DT        expected (dt_amount + bonus_dt of those paid purchases that still owe a credit)
--             against credited (user-side DT of their purchase_credit transactions, duplicates included).
-- has_pg is false for a provider with no PG row in the period: its PG figures are unknown,
-- not zero.
-- A PG row without transaction_at (the contract allows it) is placed at its fetched_at: an
-- approval imported without a time is still an approval. The IS NULL branch is an index
-- search of pg_transactions_at_idx too, so the window stays index-bound.
-- param: since timestamptz start of the period (inclusive, UTC)
-- param: until timestamptz end of the period (exclusive, UTC)
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
pg_rows AS (
  SELECT provider, tx_kind, status, amount
  FROM (
    SELECT DISTINCT ON (t.provider, t.transaction_key, t.tx_kind) t.provider, t.tx_kind, t.status, t.amount
    FROM public.pg_transactions t
    WHERE NOT :use_export
      AND t.provider IN ('portone', 'tosspayments')
      AND ((t.transaction_at >= :since AND t.transaction_at < :until)
           OR (t.transaction_at IS NULL AND t.fetched_at >= :since AND t.fetched_at < :until))
    ORDER BY t.provider, t.transaction_key, t.tx_kind,
             CASE t.source WHEN 'portone_payments_api' THEN 1 WHEN 'toss_transactions_api' THEN 1
                           WHEN 'toss_settlements_api' THEN 2 ELSE 3 END,
             t.fetched_at DESC
  ) AS from_table
  UNION ALL
  SELECT e.provider, e.tx_kind, e.status, e.amount
  FROM export e
  WHERE e.transaction_at IS NULL OR (e.transaction_at >= :since AND e.transaction_at < :until)
),
pg AS (
  SELECT g.provider,
         count(*) FILTER (WHERE g.ok_approval)::bigint AS pg_approvals,
         coalesce(sum(g.amount) FILTER (WHERE g.ok_approval), 0)::bigint AS pg_approved_krw,
         count(*) FILTER (WHERE g.tx_kind IN ('cancel', 'partial_cancel'))::bigint AS pg_cancels,
         coalesce(sum(abs(g.amount)) FILTER (WHERE g.tx_kind IN ('cancel', 'partial_cancel')), 0)::bigint AS pg_cancelled_krw
  FROM (
    SELECT r.*,
           (r.tx_kind = 'approval'
            AND upper(coalesce(r.status, 'PAID')) NOT IN ('READY', 'PENDING', 'PAY_PENDING', 'IN_PROGRESS',
                  'VIRTUAL_ACCOUNT_ISSUED', 'WAITING_FOR_DEPOSIT', 'FAILED', 'ABORTED', 'EXPIRED')) AS ok_approval
    FROM pg_rows r
  ) AS g
  GROUP BY g.provider
),
paid AS (
  SELECT p.provider,
         count(*)::bigint AS db_paid,
         sum(p.amount_krw)::bigint AS db_paid_krw,
         coalesce(sum(p.dt_amount + p.bonus_dt) FILTER (
           WHERE cr.credits > 0 OR p.status IN ('paid', 'partially_refunded')), 0)::bigint AS expected_dt,
         coalesce(sum(cr.credited_dt), 0)::bigint AS credited_dt
  FROM public.dt_purchases p
  LEFT JOIN LATERAL (
    SELECT count(*)::bigint AS credits,
           sum((SELECT coalesce(sum(l.amount_dt), 0)
                  FROM public.wallet_ledger l
                 WHERE l.tx_id = t.tx_id
                   -- user-side entries: not on a system account (kind 'system' <=> code IS NOT NULL)
                   AND l.account_id <> ALL (ARRAY(SELECT s.id FROM public.wallet_accounts s WHERE s.code IS NOT NULL))
               ))::bigint AS credited_dt
    FROM public.wallet_transactions t
    WHERE t.tx_type = 'purchase_credit'
      AND ((t.reference_type = 'dt_purchase' AND t.reference_id = p.id) OR t.tx_id = p.wallet_tx_id)
  ) cr ON true
  WHERE p.paid_at >= :since
    AND p.paid_at < :until
    AND p.status IN ('paid', 'partially_refunded', 'refunded', 'chargeback')
  GROUP BY p.provider
),
refunded AS (
  SELECT r.provider,
         count(*)::bigint AS db_refunds,
         sum(r.amount_krw)::bigint AS db_refunded_krw,
         sum(r.dt_clawback)::bigint AS clawback_dt
  FROM public.refunds r
  WHERE r.status = 'succeeded'
    AND coalesce(r.completed_at, r.updated_at) >= :since
    AND coalesce(r.completed_at, r.updated_at) < :until
  GROUP BY r.provider
)
SELECT v.provider,
       (pg.provider IS NOT NULL) AS has_pg,
       pg.pg_approvals,
       pg.pg_approved_krw,
       pg.pg_cancels,
       pg.pg_cancelled_krw,
       (pg.pg_approved_krw - pg.pg_cancelled_krw)::bigint AS pg_net_krw,
       coalesce(paid.db_paid, 0)::bigint AS db_paid,
       coalesce(paid.db_paid_krw, 0)::bigint AS db_paid_krw,
       coalesce(refunded.db_refunds, 0)::bigint AS db_refunds,
       coalesce(refunded.db_refunded_krw, 0)::bigint AS db_refunded_krw,
       (coalesce(paid.db_paid_krw, 0) - coalesce(refunded.db_refunded_krw, 0))::bigint AS db_net_krw,
       ((pg.pg_approved_krw - pg.pg_cancelled_krw)
         - (coalesce(paid.db_paid_krw, 0) - coalesce(refunded.db_refunded_krw, 0)))::bigint AS difference_krw,
       coalesce(paid.expected_dt, 0)::bigint AS expected_dt,
       coalesce(paid.credited_dt, 0)::bigint AS credited_dt,
       coalesce(refunded.clawback_dt, 0)::bigint AS clawback_dt
FROM (VALUES ('portone'), ('tosspayments')) AS v(provider)
LEFT JOIN pg ON pg.provider = v.provider
LEFT JOIN paid ON paid.provider = v.provider
LEFT JOIN refunded ON refunded.provider = v.provider
ORDER BY v.provider
