"""What fans spend DT on and what admins do: messages and their delivery, subscriptions,
funding campaigns and pledges, banners, and the ops/admin audit trails.

Rows here are derived from the staged wallet transactions (s_tx), so every unlock, charge and
pledge points at the ledger transaction that paid for it.
"""

from __future__ import annotations

from opslib.seed import profile

# Each creator posts every 6 h from a week before the window; every 4th post is free. Posts are
# scheduled ahead and sent by scheduled-dispatcher within a minute. A few creators have posts
# scheduled for the next 12 hours (pending, not yet due).
MESSAGES = f"""
INSERT INTO public.messages
  (id, sender_id, audience, recipient_id, body, media_paths, price_dt, scheduled_at, scheduled_status, sent_at,
   dispatch_attempts, locked_by, locked_at, created_at, updated_at)
SELECT s_uuid4(c.n * 1000 + m.j, 95), c.id, 'subscribers', NULL,
       (ARRAY['오늘 촬영 비하인드 📸', '새 음성 메시지가 도착했어요 🎧', '이번 주 라이브 일정 공지',
              '팬미팅 미공개 사진', '굿나잇 인사 🌙', '연습실 브이로그 일부'])[1 + (m.j + c.n) % 6],
       CASE WHEN m.j % 4 = 0 THEN '{{}}'::text[]
            ELSE ARRAY[c.id || '/' || s_uuid4(c.n * 1000 + m.j, 95) || '.jpg'] END,
       CASE WHEN m.j % 4 = 0 THEN 0 ELSE c.unlock_price END,
       m.at,
       CASE WHEN m.at <= p.as_of THEN 'sent' ELSE 'pending' END,
       CASE WHEN m.at <= p.as_of THEN x.sent_at END,
       CASE WHEN m.at <= p.as_of THEN 1 ELSE 0 END,
       CASE WHEN m.at <= p.as_of THEN 'scheduled-dispatcher' END,
       CASE WHEN m.at <= p.as_of THEN x.sent_at - interval '1 second' END,
       x.created_at,
       CASE WHEN m.at <= p.as_of THEN x.sent_at ELSE x.created_at END
FROM s_users c
CROSS JOIN s_params p
CROSS JOIN LATERAL (
  SELECT j, p.t0 - interval '7 days' + ((c.n * 37) % 360) * interval '1 minute'
            + j * interval '{profile.MESSAGE_EVERY_HOURS} hours' AS at
  FROM generate_series(0, ((SELECT days FROM s_params) + 8) * 24 / {profile.MESSAGE_EVERY_HOURS}) j
) m
CROSS JOIN LATERAL (
  SELECT least(p.as_of, m.at + (2 + 40 * s_rnd(c.n * 1000 + m.j, 96)) * interval '1 second') AS sent_at,
         m.at - (1 + 23 * s_rnd(c.n * 1000 + m.j, 97)) * interval '1 hour' AS created_at
) x
WHERE c.kind = 'creator'
  AND m.at <= p.as_of + CASE WHEN c.n % 4 = 0 THEN interval '12 hours' ELSE interval '0' END
  AND x.created_at <= p.as_of
"""

# Inbox rows: every unlock of the last 2 days (with the transaction that paid for it), and the
# free posts of the last day delivered to a handful of fans each.
DELIVERIES = """
INSERT INTO public.message_delivery
  (message_id, recipient_id, channel, status, attempt_count, delivered_at, read_at, unlocked_at, unlock_wallet_tx_id,
   created_at, updated_at)
SELECT t.reference_id, t.u1, 'inbox', 'read', 1, m.sent_at + interval '400 milliseconds',
       m.sent_at + (t.created_at - m.sent_at) / 2, t.created_at, t.tx_id, m.sent_at, t.created_at
FROM s_tx t
JOIN public.messages m ON m.id = t.reference_id
CROSS JOIN s_params p
WHERE t.tx_type = 'spend' AND t.created_at >= p.as_of - interval '2 days' AND m.sent_at < t.created_at
UNION ALL
SELECT m.id, f.id, 'inbox', CASE WHEN i % 3 = 0 THEN 'delivered' ELSE 'read' END, 1,
       m.sent_at + interval '600 milliseconds',
       CASE WHEN i % 3 <> 0 THEN least(p.as_of, m.sent_at + (5 + 300 * s_rnd(i, 261)) * interval '1 minute') END,
       NULL, NULL, m.sent_at, m.sent_at
FROM public.messages m
CROSS JOIN s_params p
CROSS JOIN LATERAL generate_series(1, 10) i
JOIN s_users f ON f.n = p.fan0 + floor(p.n_pre * s_rnd(hashtext(m.id::text) + i, 262))::int
WHERE m.price_dt = 0 AND m.scheduled_status = 'sent' AND m.sent_at >= p.as_of - interval '1 day'
ON CONFLICT (message_id, recipient_id, channel) DO NOTHING
"""

# The dispatcher's fan-out of the last day's sent messages to the sender's subscribers (active or
# past_due, subscribed before the send): an inbox row each, delivered within 0.3-1.5 s, and a push
# row (FCM/APNs); about 1 push in 150 fails on a stale device token. Runs after SUBSCRIPTIONS.
SUBSCRIBER_DELIVERIES = """
INSERT INTO public.message_delivery
  (message_id, recipient_id, channel, status, attempt_count, delivered_at, read_at, error, created_at, updated_at)
SELECT m.id, s.fan_id, c.channel,
       CASE WHEN c.channel = 'push' AND x.h % 150 = 0 THEN 'failed' ELSE 'delivered' END, 1,
       CASE WHEN c.channel = 'push' AND x.h % 150 = 0 THEN NULL ELSE x.delivered_at END, NULL,
       CASE WHEN c.channel = 'push' AND x.h % 150 = 0
            THEN (ARRAY['messaging/registration-token-not-registered', 'APNs 410 Unregistered'])[1 + x.h % 2] END,
       m.sent_at, least(p.as_of, x.delivered_at)
FROM public.messages m
CROSS JOIN s_params p
JOIN public.subscriptions s
  ON s.creator_id = m.sender_id AND s.status IN ('active', 'past_due') AND s.started_at <= m.sent_at
CROSS JOIN (VALUES ('inbox'), ('push')) AS c(channel)
CROSS JOIN LATERAL (
  SELECT abs(hashtext(m.id::text || s.fan_id::text || c.channel)) AS h,
         least(p.as_of, m.sent_at + (300 + 1200 * s_rnd(hashtext(m.id::text || s.fan_id::text), 263))
                                    * interval '1 millisecond'
                                  + CASE c.channel WHEN 'push' THEN interval '1 second' ELSE interval '0' END)
           AS delivered_at
) x
WHERE m.scheduled_status = 'sent' AND m.sent_at >= p.as_of - interval '1 day'
ON CONFLICT (message_id, recipient_id, channel) DO NOTHING
"""

SUBSCRIPTIONS = """
INSERT INTO public.subscriptions
  (id, fan_id, creator_id, tier, price_dt, status, auto_renew, cancel_at_period_end, current_period_start,
   current_period_end, last_charge_tx_id, renewal_failures, started_at, created_at, updated_at)
SELECT t.reference_id, t.u1, t.u2, 'basic', -t.d1, 'active', true, false, t.created_at,
       t.created_at + interval '1 month', t.tx_id, 0, x.started, x.started, t.created_at
FROM s_tx t
CROSS JOIN LATERAL (
  SELECT t.created_at - floor(6 * s_rnd(hashtext(t.tx_id::text), 271)) * interval '1 month' AS started
) x
WHERE t.tx_type = 'subscription_charge'
"""

CAMPAIGNS = """
INSERT INTO public.funding_campaigns
  (id, creator_id, title, description, cover_path, goal_dt, raised_dt, backer_count, status, starts_at, ends_at,
   created_at, updated_at)
SELECT s_uuid4(c.n, 281), c.id, c.display_name || ' 단독 콘서트 펀딩', '목표 달성 시 12월 단독 콘서트를 엽니다.',
       'campaigns/' || c.handle || '.jpg', 50000 * (1 + c.n % 10),
       coalesce(g.raised, 0), coalesce(g.backers, 0), 'active', p.t0 - interval '10 days', p.as_of + interval '20 days',
       p.t0 - interval '11 days', coalesce(g.last_at, p.t0 - interval '10 days')
FROM s_users c
CROSS JOIN s_params p
LEFT JOIN (
  SELECT t.u2 AS creator_id, sum(-t.d1) AS raised, count(DISTINCT t.u1) AS backers, max(t.created_at) AS last_at
  FROM s_tx t WHERE t.tx_type = 'funding_pledge' GROUP BY t.u2
) g ON g.creator_id = c.id
WHERE c.kind = 'creator' AND c.n % 5 = 0
"""

PLEDGES = """
INSERT INTO public.funding_pledges
  (id, campaign_id, user_id, amount_dt, status, wallet_tx_id, refund_tx_id, idempotency_key, created_at, updated_at)
SELECT t.reference_id, s_uuid4(c.n, 281), t.u1, -t.d1, 'pledged', t.tx_id, NULL,
       'pledge:' || t.reference_id, t.created_at, t.created_at
FROM s_tx t
JOIN s_users c ON c.id = t.u2
WHERE t.tx_type = 'funding_pledge'
"""

BANNERS = """
INSERT INTO public.banners
  (title, image_path, link_url, placement, platform, priority, is_active, starts_at, ends_at, created_by, created_at,
   updated_at)
SELECT b.title, b.image_path, b.link_url, b.placement, 'all', b.priority, b.active, b.starts_at, b.ends_at,
       (SELECT id FROM s_users WHERE n = 1), b.starts_at - interval '1 day', b.starts_at
FROM s_params p
CROSS JOIN LATERAL (VALUES
  ('DT 충전 보너스 이벤트: 3,000 DT 이상 +10 %', 'home/dt-bonus-event.webp', '/wallet/charge', 'home_top', 10, true,
   p.as_of - interval '3 days', p.as_of + interval '7 days'),
  ('가을 팬미팅 응모 (마감)', 'home/fall-fanmeeting.webp', '/events/fall-fanmeeting', 'home_middle', 5, false,
   p.t0 - interval '5 days', p.t0 + interval '2 days')
) AS b(title, image_path, link_url, placement, priority, active, starts_at, ends_at)
"""

OPS_AUDIT = """
INSERT INTO public.ops_audit_log
  (occurred_at, source, actor, action, severity, target_type, target_id, request_id, details)
SELECT x.at, 'edge_function', x.actor, x.action, 'info', x.target_type, x.target_id, x.request_id, x.details
FROM (
  SELECT r.finished_at AS at, 'edge:payment-reconcile' AS actor, 'reconcile.run' AS action,
         'reconciliation_run' AS target_type, r.id::text AS target_id, md5(r.id::text) AS request_id,
         jsonb_build_object('provider', r.provider, 'status', r.status, 'mismatches', r.mismatch_count) AS details
  FROM public.reconciliation_runs r
  UNION ALL
  SELECT f.completed_at, 'edge:refund-process', 'refund.execute', 'refund', f.id::text, md5(f.id::text),
         jsonb_build_object('provider', f.provider, 'kind', f.kind, 'amount_krw', f.amount_krw,
                            'dt_clawback', f.dt_clawback)
  FROM public.refunds f WHERE f.status = 'succeeded'
) x
ORDER BY x.at
"""

ADMIN_AUDIT = """
INSERT INTO public.admin_audit_log
  (admin_id, action, target_type, target_id, before, after, reason, ip, user_agent, created_at)
SELECT x.admin_id, x.action, x.target_type, x.target_id, x.before, x.after, x.reason, '121.134.52.17'::inet,
       'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) Chrome/131.0 Safari/537.36', x.at
FROM (
  SELECT f.approved_by AS admin_id, 'refund.approve' AS action, 'refund' AS target_type, f.id::text AS target_id,
         jsonb_build_object('status', 'requested') AS before, jsonb_build_object('status', 'processing') AS after,
         f.reason, f.requested_at + interval '30 seconds' AS at
  FROM public.refunds f WHERE f.approved_by IS NOT NULL
  UNION ALL
  SELECT b.created_by, 'banner.publish', 'banner', b.id::text, jsonb_build_object('is_active', false),
         jsonb_build_object('is_active', true), '이벤트 오픈', b.starts_at
  FROM public.banners b WHERE b.is_active
) x
ORDER BY x.at
"""
