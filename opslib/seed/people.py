"""Users: auth.users with what GoTrue and the on_auth_user_created hook would have written.

With triggers off, handle_new_user() does not run, so the profile and the wallet account of
every user are inserted here, shaped as the hook makes them.
"""

from __future__ import annotations

USERS = """
INSERT INTO auth.users
  (instance_id, id, aud, role, email, encrypted_password, email_confirmed_at, confirmation_token,
   recovery_token, email_change_token_new, email_change, last_sign_in_at, raw_app_meta_data,
   raw_user_meta_data, is_super_admin, created_at, updated_at, phone, phone_confirmed_at, is_sso_user, is_anonymous)
SELECT '00000000-0000-0000-0000-000000000000', u.id, 'authenticated', 'authenticated', u.email,
       '$2a$10$' || substr(md5(u.n::text) || md5(u.email), 1, 53),
       u.created_at + interval '2 minutes', '', '', '', '', u.last_sign_in_at,
       jsonb_build_object('provider', u.provider, 'providers', jsonb_build_array(u.provider)),
       jsonb_build_object('display_name', u.display_name),
       false, u.created_at, coalesce(u.last_sign_in_at, u.created_at), u.phone,
       CASE WHEN u.phone IS NOT NULL THEN u.created_at + interval '3 minutes' END, false, false
FROM s_users u
"""

PROFILES = """
INSERT INTO public.user_profiles
  (id, handle, display_name, role, status, locale, marketing_opt_in, created_at, updated_at)
SELECT u.id, u.handle, u.display_name, u.kind, 'active', 'ko-KR', s_rnd(u.n, 7) < 0.35, u.created_at, u.created_at
FROM s_users u
"""

ACCOUNTS = """
INSERT INTO public.wallet_accounts (id, kind, user_id, balance_dt, allow_negative, created_at, updated_at)
SELECT u.account_id, 'user', u.id, 0, false, u.created_at, u.created_at
FROM s_users u
"""

IDENTITIES = """
INSERT INTO auth.identities (provider_id, user_id, identity_data, provider, last_sign_in_at, created_at, updated_at, id)
SELECT CASE u.provider WHEN 'email' THEN u.id::text
                       WHEN 'kakao' THEN (3000000000 + u.n::bigint * 7)::text
                       ELSE '00' || u.n || '.' || substr(md5(u.email), 1, 24) END,
       u.id,
       jsonb_build_object('sub', CASE u.provider WHEN 'email' THEN u.id::text ELSE u.n::text END,
                          'email', u.email, 'email_verified', true, 'phone_verified', false),
       u.provider, u.last_sign_in_at, u.created_at, coalesce(u.last_sign_in_at, u.created_at), s_uuid4(u.n, 15)
FROM s_users u
"""

SESSIONS = """
INSERT INTO auth.sessions (id, user_id, created_at, updated_at, aal, not_after, refreshed_at, user_agent, ip)
SELECT s_uuid4(u.n, 17), u.id, u.last_sign_in_at, x.refreshed, 'aal1', NULL,
       x.refreshed AT TIME ZONE 'UTC',
       (ARRAY['FanApp/3.4.1 (iPhone; iOS 18.1; Scale/3.00)', 'FanApp/3.4.1 (Android 15; SM-S928N)',
              'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 Safari/605.1.15',
              'Dart/3.5 (dart:io)'])[1 + u.n % 4],
       ('211.' || (36 + u.n % 200) || '.' || (u.n / 200) % 250 || '.' || 1 + u.n % 250)::inet
FROM s_users u, s_params p
CROSS JOIN LATERAL (SELECT least(p.as_of, u.last_sign_in_at + s_rnd(u.n, 8) * interval '20 hours') AS refreshed) x
WHERE u.last_sign_in_at IS NOT NULL
"""

# Only successful actions are written here (failed logins are in logs.auth_logs alone).
AUDIT = """
INSERT INTO auth.audit_log_entries (instance_id, id, payload, created_at, ip_address)
SELECT '00000000-0000-0000-0000-000000000000'::uuid, s_uuid4(u.n, 19),
       json_build_object('action', 'login', 'actor_id', u.id, 'actor_username', u.email, 'actor_via_sso', false,
                         'log_type', 'account', 'traits', json_build_object('provider', u.provider)),
       u.last_sign_in_at, ''
FROM s_users u, s_params p
-- the logins of the last 3 days are written from logs.auth_logs (telemetry.AUDIT_LOGINS), one per success
WHERE u.last_sign_in_at < p.as_of - interval '3 days'
UNION ALL
SELECT '00000000-0000-0000-0000-000000000000'::uuid, s_uuid4(u.n, 20),
       json_build_object('action', 'user_signedup', 'actor_id', u.id, 'actor_username', u.email,
                         'actor_via_sso', false, 'log_type', 'team',
                         'traits', json_build_object('provider', u.provider)),
       u.created_at, ''
FROM s_users u, s_params p
WHERE u.created_at >= p.t0
"""

# Refresh tokens of the sessions active in the last day: a client rotates its refresh token a
# little before its access token expires (3600 s by default), so a session's tokens are 55-59
# minutes apart; the latest is live, the earlier ones revoked when they were used.
REFRESH_TOKENS = """
INSERT INTO auth.refresh_tokens (instance_id, token, user_id, revoked, created_at, updated_at, parent, session_id)
SELECT '00000000-0000-0000-0000-000000000000'::uuid, substr(md5(u.n || ':rt:' || g), 1, 12), u.id::text, g > 0,
       x.refreshed - g * x.gap, x.refreshed - greatest(g - 1, 0) * x.gap,
       CASE WHEN g < 12 THEN substr(md5(u.n || ':rt:' || (g + 1)), 1, 12) END, s_uuid4(u.n, 17)
FROM s_users u, s_params p
CROSS JOIN LATERAL (SELECT least(p.as_of, u.last_sign_in_at + s_rnd(u.n, 8) * interval '20 hours') AS refreshed,
                           (3300 + 240 * s_rnd(u.n, 31)) * interval '1 second' AS gap) x
CROSS JOIN generate_series(0, 12) g
WHERE u.last_sign_in_at IS NOT NULL AND x.refreshed >= p.as_of - interval '1 day'
  AND x.refreshed - g * x.gap >= u.last_sign_in_at
"""

STEPS = (
    ("auth.users", USERS),
    ("user_profiles", PROFILES),
    ("auth.identities", IDENTITIES),
    ("auth.sessions", SESSIONS),
    ("auth.audit_log_entries", AUDIT),
    ("auth.refresh_tokens", REFRESH_TOKENS),
)
