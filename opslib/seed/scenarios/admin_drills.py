"""Building blocks of the §3-E (admin) drills, on top of a finished baseline.

The baseline calls ops-manage in KST office hours only, so a drill adds its own calls over the
incident window (an incident at 03:00 KST has admins awake because of it) and changes the
baseline's calls that fall in it. Every helper writes through the same columns the log drain fills.
"""

from __future__ import annotations

import psycopg

from opslib.seed.scenarios.base import ScenarioContext

VERSION = "ops-manage@v23"  # the baseline's deployment (telemetry.OTHER_FUNCTIONS)
ADMIN_NUMBERS = (1, 2, 3)  # staged users 1..3 are the admins


def ops_manage_calls(
    conn: psycopg.Connection,
    ctx: ScenarioContext,
    *,
    tag: str,
    count: int,
    status_get: int,
    status_write: int,
    version: str = VERSION,
    message: str | None = None,
    level: str = "error",
) -> None:
    """`count` ops-manage calls evenly over the incident (every third a write), and the baseline's
    calls in the incident answered the same way; each with a console line when `message` is given."""
    params = {
        "tag": tag,
        "count": count,
        "get": status_get,
        "write": status_write,
        "version": version,
    }
    conn.execute(
        "UPDATE logs.function_edge_logs SET"
        " status_code = CASE WHEN method = 'GET' THEN %(get)s ELSE %(write)s END,"
        " deployment_version = %(version)s"
        " WHERE function_name = 'ops-manage' AND \"timestamp\" >= (SELECT incident_start FROM s_params)",
        params,
    )
    conn.execute(
        'INSERT INTO logs.function_edge_logs (id, "timestamp", function_name, method, status_code,'
        " execution_time_ms, boot_time_ms, execution_id, deployment_version, event_message, metadata)"
        " SELECT md5(%(tag)s::text || ':edge:' || i)::uuid, t.ts, 'ops-manage', m.method,"
        "        CASE m.method WHEN 'GET' THEN %(get)s ELSE %(write)s END, 40 + i %% 200, NULL,"
        "        md5(%(tag)s::text || ':exec:' || i), %(version)s::text,"
        "        m.method || ' | ' || CASE m.method WHEN 'GET' THEN %(get)s ELSE %(write)s END"
        "          || ' | https://demo.supabase.co/functions/v1/ops-manage', '{\"region\": \"ap-northeast-2\"}'::jsonb"
        " FROM s_params p, generate_series(1, %(count)s) i"
        " CROSS JOIN LATERAL (SELECT p.incident_start + (i - 0.5) / %(count)s * (p.as_of - p.incident_start) AS ts) t"
        " CROSS JOIN LATERAL (SELECT CASE WHEN i %% 3 = 0 THEN 'POST' ELSE 'GET' END AS method) m",
        params,
    )
    if message is None:
        return
    conn.execute(
        'INSERT INTO logs.function_logs (id, "timestamp", function_name, level, execution_id, event_message, metadata)'
        " SELECT md5(e.id::text || ':console:' || %(tag)s::text)::uuid, e.\"timestamp\" + interval '3 milliseconds',"
        "        'ops-manage', %(level)s::text, e.execution_id, %(message)s::text, '{}'::jsonb"
        " FROM logs.function_edge_logs e, s_params p"
        " WHERE e.function_name = 'ops-manage' AND e.\"timestamp\" >= p.incident_start",
        {"tag": tag, "level": level, "message": message},
    )


def deploy(
    conn: psycopg.Connection, *, action: str, target: str, details: dict[str, str], seconds_before: int = 45
) -> None:
    """What CI recorded in ops_audit_log shortly before the incident: a deploy or a migration."""
    import json

    conn.execute(
        "INSERT INTO public.ops_audit_log (occurred_at, source, actor, action, severity, target_type, target_id,"
        " request_id, details)"
        " SELECT incident_start - %(s)s * interval '1 second', 'ci', 'ci:github-actions', %(action)s, 'info',"
        " CASE WHEN %(action)s LIKE 'migration%%' THEN 'database' ELSE 'edge_function' END, %(target)s,"
        " md5(%(target)s), CAST(%(details)s AS jsonb) FROM s_params",
        {"s": seconds_before, "action": action, "target": target, "details": json.dumps(details)},
    )


def admins_worked_today(conn: psycopg.Connection) -> None:
    """Each admin reviewed the live banner this morning (admin_audit_log rows by them, before the incident)."""
    conn.execute(
        "INSERT INTO public.admin_audit_log (admin_id, action, target_type, target_id, before, after, reason, ip,"
        " user_agent, created_at)"
        " SELECT u.id, 'banner.update', 'banner', b.id::text, jsonb_build_object('priority', b.priority),"
        "        jsonb_build_object('priority', b.priority), '노출 순서 확인', '121.134.52.17'::inet,"
        "        'Mozilla/5.0 (Macintosh) Chrome/131.0',"
        "        p.incident_start - interval '2 hours' - u.n * interval '10 minutes'"
        " FROM s_params p, s_users u, (SELECT id, priority FROM public.banners WHERE is_active LIMIT 1) b"
        " WHERE u.n = ANY(%(admins)s)",
        {"admins": list(ADMIN_NUMBERS)},
    )
