-- name: ledger_uncredited
-- section: §3-A 트리아지 1 (Ledger 단계: 원장 미반영)
-- Purchases paid from open_since on (dt_purchases_paid_at_idx), status paid or
-- partially_refunded, older than the grace period, with no purchase_credit (by reference
-- dt_purchase/id, the idempotent credit_dt_purchase() form, or by dt_purchases.wallet_tx_id).
-- open_since reaches before the window: a purchase left uncredited earlier is still owed now.
-- param: since timestamptz start of the window (inclusive, UTC)
-- param: until timestamptz end of the window (exclusive, UTC); "now" for ages
-- param: grace interval a paid purchase younger than this is in flight, not uncredited
-- param: open_since timestamptz oldest paid_at considered (the page: a day before until)
SELECT p.provider,
       p.order_id,
       p.id AS purchase_id,
       p.user_id,
       p.status AS db_status,
       p.amount_krw,
       (p.dt_amount + p.bonus_dt)::bigint AS expected_dt,
       p.paid_at,
       extract(epoch FROM :until - p.paid_at)::float8 AS age_s
FROM public.dt_purchases p
WHERE p.paid_at >= least(:open_since, :since)
  AND p.paid_at < :until - :grace
  AND p.status IN ('paid', 'partially_refunded')
  AND p.wallet_tx_id IS NULL
  AND NOT EXISTS (
    SELECT 1
    FROM public.wallet_transactions t
    WHERE t.reference_type = 'dt_purchase'
      AND t.reference_id = p.id
      AND t.tx_type = 'purchase_credit'
  )
ORDER BY p.paid_at, p.provider, p.order_id
