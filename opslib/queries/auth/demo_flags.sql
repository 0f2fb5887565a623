-- name: demo_flags
-- section: §3-B 최소 완화 (데모 모드 임시 활성화는 정책적으로 금지)
-- Feature flags that switch a demo mode (key containing 'demo'), and whether one is on.
-- feature_flags is a small configuration table.
SELECT f.key, f.enabled, f.is_kill_switch, f.description, f.updated_at
FROM public.feature_flags f
WHERE f.key ILIKE '%demo%'
ORDER BY f.key
