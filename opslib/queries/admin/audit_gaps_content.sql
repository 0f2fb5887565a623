-- name: audit_gaps_content
-- section: §3-E 감지 (감사로그 누락: 배너/플래그)
-- Flags updated and banners created or updated in the window with no admin_audit_log row for
-- them within 10 minutes of the change. The contract's trigger writes a flag's row in the same
-- transaction (an insert is not an update: a flag never updated since it was created is left
-- out); banner rows are written by ops-manage. Both tables are small (admin_audit_log_target_idx).
-- param: since timestamptz start of the window (inclusive, UTC)
-- param: until timestamptz end of the window (exclusive, UTC)
SELECT 'feature_flag' AS target_type, f.key AS target_id, 'update' AS change, f.updated_at AS changed_at,
       f.enabled::text AS state
FROM public.feature_flags f
WHERE f.updated_at >= :since AND f.updated_at < :until
  AND f.updated_at > f.created_at
  AND NOT EXISTS (
    SELECT 1 FROM public.admin_audit_log a
    WHERE a.target_type = 'feature_flag' AND a.target_id = f.key
      AND a.created_at BETWEEN f.updated_at - interval '10 minutes' AND f.updated_at + interval '10 minutes')
UNION ALL
SELECT 'banner', b.id::text, c.change, c.at,
       CASE WHEN b.is_active THEN 'active' ELSE 'inactive' END
FROM public.banners b
CROSS JOIN LATERAL (
  SELECT 'create' AS change, b.created_at AS at
  UNION ALL
  SELECT 'update', b.updated_at WHERE b.updated_at > b.created_at + interval '1 second'
) c
WHERE c.at >= :since AND c.at < :until
  AND NOT EXISTS (
    SELECT 1 FROM public.admin_audit_log a
    WHERE a.target_type = 'banner' AND a.target_id = b.id::text
      AND a.created_at BETWEEN c.at - interval '10 minutes' AND c.at + interval '10 minutes')
ORDER BY 4
