"""Building blocks of the storage drills (§3-D), on top of a finished baseline.

A storage incident changes the Storage API requests of the last INCIDENT_MINUTES (the
gateway log, logs.edge_logs) and sometimes the storage schema itself (a policy, a bucket's
flag, the objects). `restatus()` rewrites what the baseline's requests were answered during
the incident; `requests()` adds requests evenly over the incident, so that the incident is
unmistakable at any hour (the 03:00 KST baseline has a handful of uploads per 5 minutes).
Conditions are SQL over edge_logs `e` (the drills' own constants, never user input).
"""

from __future__ import annotations

import psycopg

from opslib.seed.scenarios.drills import _literal

# The path areas that are endpoints, not storage buckets (as in opslib/queries/storage/*.sql).
AREAS = "('sign', 'public', 'authenticated', 'upload', 'list', 'info', 'move', 'copy')"
UPLOAD = f"e.method IN ('POST', 'PUT') AND split_part(e.path, '/', 5) NOT IN {AREAS}"
IN_INCIDENT = (
    'e."timestamp" >= (SELECT incident_start FROM s_params) AND e."timestamp" < (SELECT as_of FROM s_params)'
    " AND e.path LIKE '/storage/v1/object/%'"
)


def restatus(conn: psycopg.Connection, condition: str, status: int, message: str, *, share: float = 1.0) -> None:
    """Answer the incident's baseline requests matching `condition` with `status` (a share of them, by id hash)."""
    picked = "true" if share >= 1 else f"(abs(hashtext(e.id::text)) % 1000) < {int(share * 1000)}"
    conn.execute(
        f"""UPDATE logs.edge_logs e
            SET status_code = {status},
                event_message = e.method || ' | ' || {status} || ' | ' || e.request_id || ' | ' || e.path
                                || ' | ' || {_literal(message)},
                metadata = jsonb_set(e.metadata, '{{response,status_code}}', to_jsonb({status}))
            WHERE {IN_INCIDENT} AND ({condition}) AND {picked}"""  # type: ignore[arg-type]
    )


def requests(
    conn: psycopg.Connection,
    *,
    tag: int,
    count: int,
    method: str,
    path: str,
    status: int,
    message: str = "",
    users: str = "fans",
    platform: str | None = None,
    origin: str | None = None,
) -> None:
    """`count` requests evenly over [incident_start, as_of).

    path is a SQL expression over u.id (the caller) and i (1..count); users is 'fans',
    'creators' or 'none' (no user JWT: a service-role or anonymous call).
    """
    who = {
        "fans": "p.fan0 + floor(p.n_fans * s_rnd(i, {salt}))::int",
        "creators": "4 + floor(p.n_creators * s_rnd(i, {salt}))::int",
        "none": "4 + floor(p.n_creators * s_rnd(i, {salt}))::int",
    }[users].format(salt=900 + tag)
    user_id = "NULL::uuid" if users == "none" else "u.id"
    plat = _literal(platform) if platform else "(ARRAY['ios', 'android', 'web'])[1 + i % 3]"
    headers = f"jsonb_build_object('origin', {_literal(origin)})" if origin else "'{}'::jsonb"
    conn.execute(
        f"""INSERT INTO logs.edge_logs
              (id, "timestamp", method, path, status_code, user_id, client_platform, request_id, event_message,
               metadata)
            SELECT s_uuid4(i, 950 + {tag}), x.ts, {_literal(method)}, x.path, {status}, {user_id}, {plat}, x.ray,
                   {_literal(method)} || ' | ' || {status} || ' | ' || x.ray || ' | ' || p.project_url || x.path
                     || {_literal(" | " + message if message else "")},
                   jsonb_build_object('request', jsonb_build_object('method', {_literal(method)}, 'path', x.path,
                                                                    'headers', {headers}),
                                      'response', jsonb_build_object('status_code', {status}))
            FROM s_params p CROSS JOIN generate_series(1, {count}) i
            JOIN s_users u ON u.n = {who}
            CROSS JOIN LATERAL (
              SELECT p.incident_start + (i - 0.5) / {count} * (p.as_of - p.incident_start) AS ts,
                     {path} AS path,
                     substr(md5(i::text || 'drill{tag}'), 1, 16) || '-ICN' AS ray
            ) x"""  # type: ignore[arg-type]
    )


def console(conn: psycopg.Connection, *, tag: int, count: int, function: str, level: str, message: str) -> None:
    """`count` Edge Function console lines evenly over the incident (logs.function_logs)."""
    conn.execute(
        f"""INSERT INTO logs.function_logs (id, "timestamp", function_name, level, execution_id, event_message)
            SELECT s_uuid4(i, 970 + {tag}), p.incident_start + (i - 0.5) / {count} * (p.as_of - p.incident_start),
                   {_literal(function)}, {_literal(level)}, md5(i::text || 'exec{tag}'), {_literal(message)}
            FROM s_params p, generate_series(1, {count}) i"""  # type: ignore[arg-type]
    )
