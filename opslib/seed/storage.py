"""Storage: the objects the app's tables point at, and the Storage API traffic of the last 3 days.

storage.objects holds what the app references (the media of every message with media_paths, in
the private bucket 'message-media'; an avatar for about a third of the users; the banners'
images), with the metadata the Storage API writes (size, mimetype, ...). logs.edge_logs gets
the uploads (POST, PUT for an upsert), the CORS preflight (OPTIONS) a web upload sends first,
and reads of private media through the authenticated endpoint. Public avatar reads and signed
URL requests are already in the API sample (telemetry.API_LOGS).

Uploads grow with the square root of the scale, like the other request logs. The baseline's
few failures (an oversized file now and then, a rare 503) are evenly spaced by row number, far
below the page's 1 % exit line, and none falls in the last 3 hours (the page's window).
"""

from __future__ import annotations

from opslib.seed import telemetry

UPLOADS_PER_DAY_PER_SCALE = 3_000
AUTHENTICATED_READS_PER_DAY_PER_SCALE = 1_500
WEB_ORIGIN = "https://fanapp.kr"

OBJECTS = """
INSERT INTO storage.objects (id, bucket_id, name, owner, owner_id, created_at, updated_at, last_accessed_at,
                             metadata, version)
SELECT s_uuid4(x.k, x.salt), x.bucket, x.name, x.owner, x.owner::text, x.at, x.at, x.at,
       jsonb_build_object('eTag', '"' || md5(x.name) || '"', 'size', x.size, 'mimetype', x.mime,
                          'cacheControl', 'max-age=3600', 'lastModified', to_char(x.at AT TIME ZONE 'UTC',
                          'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'contentLength', x.size, 'httpStatusCode', 200),
       s_uuid4(x.k, x.salt + 1)::text
FROM (
  -- the media of every posted message (paths '<creator uid>/<message id>.jpg')
  SELECT row_number() OVER () AS k, 301 AS salt, 'message-media' AS bucket, m.media_paths[1] AS name,
         m.sender_id AS owner, m.created_at - interval '2 minutes' AS at,
         (150000 + floor(3800000 * s_rnd(hashtext(m.media_paths[1]), 302)))::bigint AS size, 'image/jpeg' AS mime
  FROM public.messages m
  WHERE cardinality(m.media_paths) > 0
  UNION ALL
  -- avatars: about a third of the users
  SELECT u.n, 311, 'avatars', u.id || '/avatar.webp', u.id, greatest(u.created_at, p.t0 - interval '30 days')
           + interval '10 minutes', (20000 + floor(180000 * s_rnd(u.n, 312)))::bigint, 'image/webp'
  FROM s_users u, s_params p
  WHERE u.n % 3 = 0 AND u.created_at + interval '10 minutes' <= p.as_of
  UNION ALL
  SELECT row_number() OVER (), 321, 'banners', b.image_path, NULL::uuid, b.created_at,
         (300000 + floor(500000 * s_rnd(hashtext(b.image_path), 322)))::bigint, 'image/webp'
  FROM public.banners b
) x
"""

# Uploads: 6 in 10 are a creator's message media, the rest a user's avatar; 1 in 5 is an upsert
# (PUT). A web upload is preceded by its CORS preflight.
UPLOADS = f"""
INSERT INTO logs.edge_logs
  (id, "timestamp", method, path, status_code, user_id, client_platform, request_id, event_message, metadata)
SELECT s_uuid4(r.k * 2 + y.preflight::int, 331), r.ts - y.preflight::int * interval '80 milliseconds',
       y.method, x.path, y.status, x.uid, x.platform, x.ray || y.suffix,
       y.method || ' | ' || y.status || ' | ' || x.ray || ' | ' || p.project_url || x.path
         || CASE WHEN y.status = 413 THEN ' | The object exceeded the maximum allowed size'
                 WHEN y.status = 503 THEN ' | Service Unavailable' ELSE '' END,
       jsonb_build_object(
         'request', jsonb_build_object('method', y.method, 'path', x.path,
                                       'headers', CASE WHEN x.platform = 'web'
                                                       THEN jsonb_build_object('origin', '{WEB_ORIGIN}')
                                                       ELSE '{{}}'::jsonb END),
         'response', jsonb_build_object('status_code', y.status))
FROM (SELECT ts, row_number() OVER (ORDER BY ts) AS k
      FROM s_rhythm({UPLOADS_PER_DAY_PER_SCALE} * sqrt((SELECT scale FROM s_params)), 24 * {telemetry.LOG_DAYS}, 901)) r
CROSS JOIN s_params p
CROSS JOIN LATERAL (SELECT r.k % 10 < 6 AS media) c
JOIN s_users u ON u.n = CASE WHEN c.media THEN 4 + floor(p.n_creators * s_rnd(r.k, 332))::int
                             ELSE p.fan0 + floor(p.n_fans * s_rnd(r.k, 332))::int END
CROSS JOIN LATERAL (
  SELECT u.id AS uid,
         CASE WHEN c.media THEN '/storage/v1/object/message-media/' || u.id || '/' || s_uuid4(r.k, 333) || '.jpg'
              ELSE '/storage/v1/object/avatars/' || u.id || '/avatar.webp' END AS path,
         (ARRAY['ios', 'android', 'web'])[1 + r.k % 3] AS platform,
         substr(md5(r.k::text || 'storage'), 1, 16) || '-ICN' AS ray
) x
CROSS JOIN LATERAL (
  SELECT false AS preflight, CASE WHEN r.k % 5 = 0 THEN 'PUT' ELSE 'POST' END AS method,
         CASE WHEN r.ts >= p.as_of - interval '3 hours' THEN 200
              WHEN r.k % 500 = 7 THEN 413 WHEN r.k % 1500 = 11 THEN 503 ELSE 200 END AS status, '' AS suffix
  UNION ALL
  SELECT true, 'OPTIONS', 200, '-pre' WHERE x.platform = 'web'
) y
WHERE r.ts - y.preflight::int * interval '80 milliseconds' >= p.t0
"""

# Fans opening paid or free message media through the authenticated endpoint (RLS decides).
AUTHENTICATED_READS = f"""
INSERT INTO logs.edge_logs
  (id, "timestamp", method, path, status_code, user_id, client_platform, request_id, event_message, metadata)
SELECT s_uuid4(r.k, 341), r.ts, 'GET', x.path, 200, f.id, (ARRAY['ios', 'android', 'web'])[1 + r.k % 3], x.ray,
       'GET | 200 | ' || x.ray || ' | ' || p.project_url || x.path,
       jsonb_build_object('request', jsonb_build_object('method', 'GET', 'path', x.path),
                          'response', jsonb_build_object('status_code', 200))
FROM (SELECT ts, row_number() OVER (ORDER BY ts) AS k
      FROM s_rhythm({AUTHENTICATED_READS_PER_DAY_PER_SCALE} * sqrt((SELECT scale FROM s_params)),
                    24 * {telemetry.LOG_DAYS}, 903)) r
CROSS JOIN s_params p
JOIN s_users f ON f.n = p.fan0 + floor(p.n_fans * s_rnd(r.k, 342))::int
JOIN s_users c ON c.n = 4 + floor(p.n_creators * s_rnd(r.k, 343))::int
CROSS JOIN LATERAL (
  SELECT '/storage/v1/object/authenticated/message-media/' || c.id || '/' || s_uuid4(r.k, 344) || '.jpg' AS path,
         substr(md5(r.k::text || 'read'), 1, 16) || '-ICN' AS ray
) x
"""
