-- name: open_refunds
-- section: §3-A 복구 (refund-process: 환불/차지백 처리)
-- Refunds not finished and chargebacks not resolved, with their age and where they are stuck:
-- requested = awaiting approval (admin), processing = the PG cancel was called and is pending
-- (PortOne may answer REQUESTED: an asynchronous cancel), dispute_unresolved = a card dispute
-- (PortOne DisputeStatus UNRESOLVED). A state, not a window.
-- COST: the open refunds come from refunds_open_idx, but disputes have no index, and the OR
-- makes it one sequential scan of refunds (about 1 % of purchases: small).
-- param: now timestamptz the instant ages are measured from (UTC)
SELECT r.id AS refund_id,
       r.provider,
       p.order_id,
       r.user_id,
       r.kind,
       r.status,
       r.dispute_status,
       -- an open card dispute is a dispute whatever its refund status says: it waits for the
       -- card company (weeks by design), not for us or the PG cancel
       CASE WHEN r.kind = 'chargeback' AND r.dispute_status = 'UNRESOLVED' THEN 'dispute_unresolved'
            WHEN r.status = 'requested' THEN 'awaiting_approval'
            ELSE 'pg_cancel_pending' END AS stuck_at,
       r.amount_krw,
       r.dt_clawback,
       r.requester,
       r.requested_at,
       r.updated_at,
       extract(epoch FROM :now - r.requested_at)::float8 AS age_s,
       r.error
FROM public.refunds r
JOIN public.dt_purchases p ON p.id = r.purchase_id
WHERE r.requested_at < :now
  AND (r.status IN ('requested', 'processing')
       OR (r.kind = 'chargeback' AND r.dispute_status = 'UNRESOLVED'))
ORDER BY r.requested_at
