"""Platform telemetry: the other Edge Functions, Auth/API/Realtime logs, pg_cron history and pg_net responses.

Request logs cover the last 3 days only (what an on-call page looks at) and grow with the
square root of the scale: the pages read rates from them, and a sample that size keeps every
hour's rate meaningful without making logs the bulk of a big seed. Error rates in them are
evenly spaced by row number (every Nth request), so a quiet night hour reads as healthy as a
busy evening one.
"""

from __future__ import annotations

LOG_DAYS = 3
AUTH_REQUESTS_PER_DAY_PER_SCALE = 6_000
API_REQUESTS_PER_DAY_PER_SCALE = 5_000
REALTIME_EVENTS_PER_DAY_PER_SCALE = 800
OPS_MANAGE_PER_DAY = 60

OTHER_FUNCTIONS = f"""
INSERT INTO logs.function_edge_logs
  (id, "timestamp", function_name, method, status_code, execution_time_ms, boot_time_ms, execution_id,
   deployment_version, event_message, metadata)
SELECT s_uuid4(f.k, f.salt), f.ts, f.fn, f.method, f.status, f.exec_ms + coalesce(f.boot, 0), f.boot,
       s_uuid4(f.k, f.salt + 1)::text, f.version,
       f.method || ' | ' || f.status || ' | ' || p.project_url || '/functions/v1/' || f.fn,
       jsonb_build_object('region', 'ap-northeast-2')
FROM s_params p
CROSS JOIN LATERAL (
  -- scheduled-dispatcher: called by pg_cron every minute (through pg_net)
  SELECT m AS k, 171 AS salt, date_trunc('minute', p.t0) + m * interval '1 minute'
           + (200 + 700 * s_rnd(m, 173)) * interval '1 millisecond' AS ts,
         'scheduled-dispatcher' AS fn, 'POST' AS method, 200 AS status,
         40 + floor(260 * s_rnd(m, 174) ^ 2)::int AS exec_ms,
         CASE WHEN s_rnd(m, 175) < 0.05 THEN 150 + floor(900 * s_rnd(m, 176))::int END AS boot,
         'scheduled-dispatcher@v17' AS version
  FROM generate_series(1, (SELECT days FROM s_params) * 1440) m
  UNION ALL
  -- payment-reconcile: 03:30 KST (18:30 UTC) every night
  SELECT d, 181, date_trunc('day', p.t0) + d * interval '1 day' + interval '18 hours 30 minutes 400 milliseconds',
         'payment-reconcile', 'POST', 200, 20000 + floor(25000 * s_rnd(d, 182))::int,  -- within 60 s timeout
         300 + floor(600 * s_rnd(d, 183))::int, 'payment-reconcile@v12'
  FROM generate_series(0, (SELECT days FROM s_params)) d
  UNION ALL
  -- refund-process: the approval call, and the PG cancel for completed refunds
  SELECT r.k, 191, r.ts, 'refund-process', 'POST', 200, 150 + floor(900 * s_rnd(r.k, 192))::int,
         CASE WHEN s_rnd(r.k, 193) < 0.1 THEN 200 + floor(800 * s_rnd(r.k, 194))::int END, 'refund-process@v9'
  FROM (SELECT s.n * 2 AS k, s.refund_req_at + interval '30 seconds' AS ts FROM s_purchases s
        WHERE s.refund_state IN ('processing', 'succeeded')
        UNION ALL
        SELECT s.n * 2 + 1, s.refund_done_at - interval '2 seconds' FROM s_purchases s
        WHERE s.refund_state = 'succeeded') r
  UNION ALL
  -- ops-manage: the admin console, KST office hours
  SELECT o.k, 201, o.ts, 'ops-manage', CASE WHEN o.k % 3 = 0 THEN 'POST' ELSE 'GET' END,
         CASE WHEN o.k % 97 = 13 THEN 403 ELSE 200 END, 60 + floor(400 * s_rnd(o.k, 202))::int,
         CASE WHEN s_rnd(o.k, 203) < 0.08 THEN 300 + floor(900 * s_rnd(o.k, 204))::int END, 'ops-manage@v23'
  FROM (SELECT row_number() OVER () AS k,
               (date_trunc('day', p.t0 AT TIME ZONE 'Asia/Seoul') + d * interval '1 day' + interval '10 hours'
                + s_rnd(d * 100 + i, 205) * interval '9 hours') AT TIME ZONE 'Asia/Seoul' AS ts
        FROM generate_series(0, (SELECT days FROM s_params)) d, generate_series(1, {OPS_MANAGE_PER_DAY}) i) o
) f
WHERE f.ts <= p.as_of AND f.ts >= p.t0
"""

# One console line per invocation in the runbook's §4-B field standard, with event names in its
# normalized `domain.noun.verb` form. refund-process acts on one payment, so its line carries §4-C's
# payment fields too (payer_id masked as `user_<8 hex>`); a reconcile run covers many payments at
# once (domain settlement): no single payer, order or amount to log.
OTHER_CONSOLE = """
INSERT INTO logs.function_logs (id, "timestamp", function_name, level, execution_id, event_message, metadata)
SELECT md5(f.id::text || ':console')::uuid, f."timestamp" + interval '5 milliseconds', f.function_name, 'info',
       f.execution_id,
       (jsonb_build_object('env', 'production', 'release', f.deployment_version, 'platform', 'edge',
                           'request_id', f.execution_id, 'severity', 'info',
                           'event', CASE f.function_name WHEN 'scheduled-dispatcher' THEN 'chat.dispatch.completed'
                                                         WHEN 'payment-reconcile' THEN 'settlement.reconcile.completed'
                                                         WHEN 'refund-process' THEN 'payment.refund.executed'
                                                         ELSE 'admin.request.handled' END,
                           'domain', CASE f.function_name WHEN 'scheduled-dispatcher' THEN 'chat'
                                                          WHEN 'ops-manage' THEN 'admin'
                                                          WHEN 'payment-reconcile' THEN 'settlement'
                                                          ELSE 'payment' END)
        || CASE WHEN r.n IS NULL THEN '{}'::jsonb ELSE jsonb_build_object(
             'payer_id', 'user_' || left(md5(r.user_id::text), 8), 'amount', r.refund_krw, 'currency', 'KRW',
             'provider', r.provider, 'order_id', r.order_id,
             'idempotency_key', 'rfd_' || replace(r.refund_id::text, '-', ''),
             'status', CASE WHEN r.k % 2 = 0 THEN 'approved' ELSE 'succeeded' END,
             'timestamp', to_char(f."timestamp" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')) END)::text,
       '{}'::jsonb
FROM logs.function_edge_logs f
CROSS JOIN s_params p
LEFT JOIN (SELECT s.n, s.n * 2 + b.b AS k, s.user_id, s.refund_krw, s.provider, s.order_id, s.refund_id
           FROM s_purchases s CROSS JOIN (VALUES (0), (1)) b(b)
           WHERE s.refund_state IN ('processing', 'succeeded')) r
  ON f.function_name = 'refund-process' AND f.id = s_uuid4(r.k, 191)
WHERE f.function_name <> 'payment-webhook' AND f."timestamp" >= p.as_of - interval '3 days'
"""

# GoTrue request log: logins and refresh_token grants. Email users log in with /token password,
# kakao users through the social /callback (a 302 back to the app), apple and google users with a
# native /token id_token; a wrong password is HTTP 400 invalid_credentials (email users only, one
# in 210 password attempts). The metadata carries what GoTrue's request logger drains: the client
# address (remote_addr), the user agent and the duration (nanoseconds).
AUTH_LOGS = f"""
INSERT INTO logs.auth_logs
  (id, "timestamp", level, method, path, grant_type, status, error_code, provider, user_id, request_id, msg, metadata)
SELECT s_uuid4(r.k, 221), r.ts, CASE WHEN x.status >= 400 THEN 'warning' ELSE 'info' END, x.method, x.path, x.grant,
       x.status, x.error_code, x.provider, u.id,
       substr(md5(r.k::text || 'auth'), 1, 16), x.msg,
       jsonb_build_object('referer', 'fanapp://callback',
                          'remote_addr', '211.' || (36 + u.n % 200) || '.' || (u.n / 200) % 250 || '.' || 1 + u.n % 250,
                          'user_agent', (ARRAY['FanApp/3.4.1 (iPhone; iOS 18.1; Scale/3.00)',
                                               'FanApp/3.4.1 (Android 15; SM-S928N)',
                                               'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) Safari/605.1.15'
                                               ])[1 + u.n % 3],
                          'duration', (20 + floor(180 * s_rnd(r.k, 223)))::bigint * 1000000)
FROM (SELECT ts, row_number() OVER (ORDER BY ts) AS k
      FROM s_rhythm({AUTH_REQUESTS_PER_DAY_PER_SCALE} * sqrt((SELECT scale FROM s_params)), 24 * {LOG_DAYS}, 905)) r
CROSS JOIN s_params p
JOIN s_users u ON u.n = p.fan0 + floor(p.n_fans * s_rnd(r.k, 222))::int
CROSS JOIN LATERAL (SELECT r.k % 20 < 6 AS login, r.k % 700 = 0 AND u.provider = 'email' AS wrong) l
CROSS JOIN LATERAL (
  SELECT CASE WHEN r.k % 20 IN (17, 19) THEN 'GET' ELSE 'POST' END AS method,
         CASE WHEN l.login AND u.provider = 'kakao' THEN '/callback'
              WHEN r.k % 20 < 17 THEN '/token' WHEN r.k % 20 = 18 THEN '/logout' ELSE '/user' END AS path,
         CASE WHEN l.login AND u.provider = 'email' THEN 'password'
              WHEN l.login AND u.provider = 'kakao' THEN NULL
              WHEN l.login THEN 'id_token'
              WHEN r.k % 20 < 17 THEN 'refresh_token' END AS grant,
         CASE WHEN l.login THEN u.provider END AS provider,
         CASE WHEN l.wrong THEN 400 WHEN l.login AND u.provider = 'kakao' THEN 302
              WHEN r.k % 20 = 18 THEN 204 ELSE 200 END AS status,
         CASE WHEN l.wrong THEN 'invalid_credentials' END AS error_code,
         CASE WHEN l.wrong THEN 'Invalid login credentials'
              WHEN r.k % 20 < 17 THEN 'Login' ELSE 'request completed' END AS msg
) x
"""

# GoTrue's audit trail writes a 'login' row for every successful login, none for a failed one.
AUDIT_LOGINS = """
INSERT INTO auth.audit_log_entries (instance_id, id, payload, created_at, ip_address)
SELECT '00000000-0000-0000-0000-000000000000'::uuid, md5(a.id::text || ':audit')::uuid,
       json_build_object('action', 'login', 'actor_id', a.user_id, 'actor_username', u.email, 'actor_via_sso', false,
                         'log_type', 'account', 'traits', json_build_object('provider', a.provider)),
       a."timestamp", coalesce(a.metadata->>'remote_addr', '')
FROM logs.auth_logs a
JOIN auth.users u ON u.id = a.user_id
WHERE a.provider IS NOT NULL AND a.error_code IS NULL AND a.status < 400
"""

API_LOGS = f"""
INSERT INTO logs.edge_logs
  (id, "timestamp", method, path, status_code, user_id, client_platform, request_id, event_message, metadata)
SELECT s_uuid4(r.k, 231), r.ts, x.method, x.path, x.status, u.id, x.platform, x.ray,
       x.method || ' | ' || x.status || ' | ' || x.ray || ' | ' || p.project_url || x.path,
       jsonb_build_object('request', jsonb_build_object('method', x.method, 'path', x.path),
                          'response', jsonb_build_object('status_code', x.status)
                                      -- PostgREST's Content-Range on message reads (1..20 rows): the
                                      -- messaging page tells empty answers from full ones by it
                                      || CASE WHEN x.path = '/rest/v1/messages' AND x.status = 200
                                              THEN jsonb_build_object('headers', jsonb_build_object(
                                                     'content_range', '0-' || r.k % 20 || '/*'))
                                              ELSE '{{}}'::jsonb END)
FROM (SELECT ts, row_number() OVER (ORDER BY ts) AS k
      FROM s_rhythm({API_REQUESTS_PER_DAY_PER_SCALE} * sqrt((SELECT scale FROM s_params)), 24 * {LOG_DAYS}, 907)) r
CROSS JOIN s_params p
JOIN s_users u ON u.n = p.fan0 + floor(p.n_fans * s_rnd(r.k, 232))::int
CROSS JOIN LATERAL (SELECT r.k % 100 AS slot) s
CROSS JOIN LATERAL (
  SELECT CASE WHEN s.slot < 30 THEN '/rest/v1/messages'
              WHEN s.slot < 40 THEN '/rest/v1/dt_packages'
              WHEN s.slot < 55 THEN '/rest/v1/rpc/get_feed'
              WHEN s.slot < 65 THEN '/rest/v1/user_profiles'
              WHEN s.slot < 75 THEN '/storage/v1/object/public/avatars/' || u.id || '/avatar.webp'
              WHEN s.slot < 83 THEN '/storage/v1/object/sign/message-media/' || u.id || '/m' || r.k % 97 || '.jpg'
              WHEN s.slot < 85 THEN '/storage/v1/object/avatars/' || u.id || '/avatar.webp'
              WHEN s.slot < 93 THEN '/auth/v1/token'
              WHEN s.slot < 98 THEN '/auth/v1/user'
              ELSE '/realtime/v1/websocket' END AS path,
         CASE WHEN s.slot BETWEEN 40 AND 54 OR s.slot BETWEEN 75 AND 92 THEN 'POST' ELSE 'GET' END AS method,
         CASE WHEN r.k % 2000 = 99 THEN 500
              WHEN r.k % 400 = 13 THEN 401
              WHEN r.k % 500 = 17 THEN 404
              WHEN s.slot BETWEEN 83 AND 84 THEN 200
              WHEN s.slot = 98 OR s.slot = 99 THEN 101
              ELSE 200 END AS status,
         (ARRAY['ios', 'android', 'web'])[1 + r.k % 3] AS platform,
         substr(md5(r.k::text || 'ray'), 1, 16) || '-ICN' AS ray
) x
"""

REALTIME_LOGS = f"""
INSERT INTO logs.realtime_logs (id, "timestamp", level, event_type, channel, latency_ms, event_message, metadata)
SELECT s_uuid4(r.k, 241), r.ts, CASE WHEN x.event_type = 'channel_error' THEN 'error' ELSE 'info' END,
       x.event_type, 'room:' || c.handle, x.latency,
       CASE x.event_type WHEN 'channel_error' THEN 'UnableToConnectToProject: connection reset'
                         ELSE x.event_type || ' ' || c.handle END,
       '{{}}'::jsonb
FROM (SELECT ts, row_number() OVER (ORDER BY ts) AS k
      FROM s_rhythm({REALTIME_EVENTS_PER_DAY_PER_SCALE} * sqrt((SELECT scale FROM s_params)), 24 * {LOG_DAYS}, 909)) r
CROSS JOIN s_params p
JOIN s_users c ON c.n = 4 + floor(p.n_creators * s_rnd(r.k, 242))::int
CROSS JOIN LATERAL (
  SELECT CASE WHEN r.k % 500 = 3 THEN 'channel_error' WHEN r.k % 20 < 8 THEN 'channel_join'
              WHEN r.k % 20 < 17 THEN 'broadcast' ELSE 'postgres_changes' END AS event_type,
         CASE WHEN r.k % 20 >= 8 AND r.k % 500 <> 3 THEN 30 + floor(420 * s_rnd(r.k, 243) ^ 2)::int END AS latency
) x
"""

# pg_cron history for the contract's jobs (the cleanup job keeps 14 days) and the pg_net
# responses of the function calls of the last 6 hours (pg_net's TTL). A cron run that called a
# function only did net.http_post: '1 row', succeeded.
CRON_RUNS = """
WITH runs AS (
  SELECT j.jobid, j.command, j.jobname, r.at
  FROM cron.job j, s_params p
  CROSS JOIN LATERAL (
    SELECT date_trunc('minute', p.t0) + g * CASE j.jobname WHEN 'scheduled-dispatcher' THEN interval '1 minute'
                                                           WHEN 'rate-limits-cleanup' THEN interval '1 hour'
                                                           ELSE interval '1 day' END AS at
    FROM generate_series(0, CASE j.jobname WHEN 'scheduled-dispatcher' THEN (SELECT days FROM s_params) * 1440
                                           WHEN 'rate-limits-cleanup' THEN (SELECT days FROM s_params) * 24
                                           ELSE (SELECT days FROM s_params) END) g
  ) r0
  CROSS JOIN LATERAL (
    SELECT CASE j.jobname
             WHEN 'scheduled-dispatcher' THEN r0.at
             WHEN 'rate-limits-cleanup' THEN date_trunc('hour', r0.at) + interval '17 minutes'
             WHEN 'payment-reconcile' THEN date_trunc('day', r0.at) + interval '18 hours 30 minutes'
             WHEN 'idempotency-keys-cleanup' THEN date_trunc('day', r0.at) + interval '19 hours 23 minutes'
             ELSE date_trunc('day', r0.at) + interval '19 hours 41 minutes' END AS at
  ) r
  WHERE r.at >= p.t0 AND r.at + interval '1 second' <= p.as_of
)
INSERT INTO cron.job_run_details
  (jobid, job_pid, database, username, command, status, return_message, start_time, end_time)
SELECT r.jobid, 20000 + floor(40000 * s_rnd(hashtext(r.jobname || r.at), 251))::int, current_database(), 'postgres',
       r.command, 'succeeded',
       CASE WHEN r.jobname IN ('scheduled-dispatcher', 'payment-reconcile') THEN '1 row'
            ELSE 'DELETE ' || floor(200 * s_rnd(hashtext(r.jobname || r.at), 252))::int END,
       r.at + (8 + 40 * s_rnd(hashtext(r.jobname || r.at), 253)) * interval '1 millisecond',
       r.at + (20 + 60 * s_rnd(hashtext(r.jobname || r.at), 253)) * interval '1 millisecond'
FROM runs r
ORDER BY r.at, r.jobid
"""

NET_RESPONSES = """
WITH calls AS (
  SELECT d.start_time, d.command LIKE '%payment-reconcile%' AS reconcile,
         row_number() OVER (ORDER BY d.start_time, d.runid) AS request_id
  FROM cron.job_run_details d
  JOIN cron.job j ON j.jobid = d.jobid
  WHERE j.jobname IN ('scheduled-dispatcher', 'payment-reconcile')
), kept AS (
  INSERT INTO net._http_response (id, status_code, content_type, headers, content, timed_out, error_msg, created)
  SELECT c.request_id, 200, 'application/json', '{"content-type": "application/json"}'::jsonb,
         CASE WHEN c.reconcile THEN '{"ok":true,"runs":2,"mismatches":0}'
              ELSE '{"ok":true,"claimed":' || (c.request_id % 4) || ',"sent":' || (c.request_id % 4) || '}' END,
         false, NULL, c.start_time + interval '450 milliseconds'
  FROM calls c, s_params p
  WHERE c.start_time >= p.as_of - interval '6 hours' AND c.start_time + interval '450 milliseconds' <= p.as_of
  RETURNING id
)
SELECT setval('net.http_request_queue_id_seq', (SELECT max(request_id) FROM calls))
"""
