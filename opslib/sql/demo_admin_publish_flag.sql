-- DEMO-ONLY MIGRATION (not part of the app contract): the publish-only kill switch of §3-E.
--
-- Runbook §3-E 최소 완화: "publish 기능만 임시 차단 (읽기는 유지)". The contract's feature_flags
-- seed rows have no flag for it (payments.*, messages.scheduled_dispatch, funding.pledge,
-- subscriptions.renewal), so the embedded demo database adds one here, after the baseline is
-- seeded. `opsbook action admin-publish-block` pulls it (enabled = false).
--
-- Production needs the same row, shipped as an app migration through the migration gate, AND
-- ops-manage checking public.is_feature_enabled('admin.publish') before every write (banner,
-- flag, asset publish) and never before a read. Without both, the action refuses.
INSERT INTO public.feature_flags (key, enabled, is_kill_switch, description)
VALUES ('admin.publish', true, true,
        'Kill switch: ops-manage publishing (banners, flags, assets); reads stay open (demo-only migration)')
ON CONFLICT (key) DO NOTHING;
