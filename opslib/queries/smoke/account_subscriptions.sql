-- name: account_subscriptions
-- section: §6 Quick 7 T3 (로딩/에러가 빈상태로 위장되지 않는지)
-- Live subscriptions of the smoke test account: an empty /subscriptions page for an account that has rows here is an error in disguise.
-- param: email text  the smoke account's email (GoTrue stores emails lower-case)
SELECT count(DISTINCT u.id)::bigint AS accounts,
       count(s.id)::bigint AS live_subscriptions
FROM auth.users u
LEFT JOIN public.subscriptions s
       ON s.fan_id = u.id AND s.status IN ('active', 'past_due')
WHERE u.email = lower(:email) AND u.is_sso_user = false
