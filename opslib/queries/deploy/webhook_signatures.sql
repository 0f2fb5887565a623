-- name: webhook_signatures
-- section: §2 배포 후 관찰 (payments webhook 서명 실패: 배포 전 vs 후)
-- Webhook deliveries and signature failures (signature_valid = false) by provider and period.
-- Toss payment events are unsigned (signature_valid NULL): they count as deliveries, never as
-- failures. Window-bound (pwl_provider_received_idx, one range per provider).
-- param: since timestamptz start of the before window (inclusive, UTC)
-- param: deploy_at timestamptz the deploy time: before is [since, deploy_at), after is [deploy_at, until)
-- param: until timestamptz end of the after window (exclusive, UTC)
SELECT w.provider,
       CASE WHEN w.received_at < :deploy_at THEN 'before' ELSE 'after' END AS period,
       count(*)::bigint AS deliveries,
       count(*) FILTER (WHERE w.signature_valid = false)::bigint AS signature_failures,
       count(*) FILTER (WHERE w.signature_valid IS NULL)::bigint AS unsigned
FROM public.payment_webhook_logs w
WHERE w.provider IN ('portone', 'tosspayments')
  AND w.received_at >= :since
  AND w.received_at < :until
GROUP BY 1, 2
ORDER BY 1, 2 DESC
