"""Building blocks of the post-deploy drills (§2): an Edge Function release on top of the baseline.

The baseline's scheduled-dispatcher runs scheduled-dispatcher@v17 every minute (pg_cron → pg_net →
the function). A release switches the function's invocations from a moment on to a new version,
with CI's deploy record in ops_audit_log 45 seconds before its first invocation; a bad release
also answers 500 on some invocations (in the function's own log, its console, and in pg_net's
responses that pg_cron's 'succeeded' runs hide) and boots slowly.
"""

from __future__ import annotations

from datetime import datetime

import psycopg

from opslib.seed.scenarios import cron_drills

FUNCTION = "scheduled-dispatcher"
OLD = "scheduled-dispatcher@v17"  # telemetry.OTHER_FUNCTIONS
NEW = "scheduled-dispatcher@v18"
# every third minute (by the minute's epoch number): the same minutes in the function's log and pg_net
FAILING_MINUTE = "(extract(epoch FROM date_trunc('minute', {col}))::bigint / 60) %% 3 = 0"
SLOW_MINUTE = "(extract(epoch FROM date_trunc('minute', {col}))::bigint / 60) %% 2 = 0"
TS = '"timestamp"'


def release(conn: psycopg.Connection, at: datetime, version: str = NEW, previous: str = OLD) -> int:
    """The function's invocations from `at` on were served by `version`; CI recorded the deploy."""
    cur = conn.execute(
        "UPDATE logs.function_edge_logs SET deployment_version = %(v)s"
        ' WHERE function_name = %(fn)s AND "timestamp" >= %(at)s',
        {"v": version, "fn": FUNCTION, "at": at},
    )
    conn.execute(
        "UPDATE logs.function_logs SET event_message = replace(event_message, %(old)s, %(v)s)"
        ' WHERE function_name = %(fn)s AND "timestamp" >= %(at)s',
        {"old": previous, "v": version, "fn": FUNCTION, "at": at},
    )
    conn.execute(
        "INSERT INTO public.ops_audit_log (occurred_at, source, actor, action, severity, target_type, target_id,"
        " request_id, details)"
        " VALUES (%(at)s - interval '45 seconds', 'ci', 'ci:github-actions', 'function.deploy', 'info',"
        " 'edge_function', %(fn)s, md5(%(v)s), jsonb_build_object('version', %(v)s::text, 'previous', %(old)s::text))",
        {"at": at, "fn": FUNCTION, "v": version, "old": previous},
    )
    return cur.rowcount


def failing(conn: psycopg.Connection, at: datetime, message: str) -> int:
    """Every third minute from `at` on the function answers 500: its log, its console, pg_net's response."""
    cur = conn.execute(
        "UPDATE logs.function_edge_logs SET status_code = 500, execution_time_ms = 35,"
        " event_message = replace(event_message, 'POST | 200', 'POST | 500')"
        f' WHERE function_name = %(fn)s AND "timestamp" >= %(at)s AND {FAILING_MINUTE.format(col=TS)}',
        {"fn": FUNCTION, "at": at},
    )
    conn.execute(
        'INSERT INTO logs.function_logs (id, "timestamp", function_name, level, execution_id, event_message, metadata)'
        " SELECT md5(f.id::text || ':deploy-error')::uuid, f.\"timestamp\" + interval '4 milliseconds',"
        "        f.function_name, 'error', f.execution_id, %(msg)s, '{}'::jsonb"
        " FROM logs.function_edge_logs f"
        ' WHERE f.function_name = %(fn)s AND f."timestamp" >= %(at)s AND f.status_code = 500',
        {"fn": FUNCTION, "at": at, "msg": message},
    )
    conn.execute(cron_drills.OVERRIDES)
    conn.execute(
        "INSERT INTO s_net_override (runid, status_code, content)"
        ' SELECT d.runid, 500, \'{"error":"internal"}\''
        " FROM cron.job_run_details d JOIN cron.job j ON j.jobid = d.jobid"
        f" WHERE j.jobname = %(fn)s AND d.start_time >= %(at)s AND {FAILING_MINUTE.format(col='d.start_time')}"
        " ON CONFLICT (runid) DO UPDATE SET status_code = EXCLUDED.status_code, content = EXCLUDED.content",
        {"fn": FUNCTION, "at": at},
    )
    cron_drills.rebuild_responses(conn)
    return cur.rowcount


def slow_boots(conn: psycopg.Connection, at: datetime, boot_ms: int) -> int:
    """Every second minute from `at` on is a cold start of about boot_ms (the bundle grew)."""
    cur = conn.execute(
        "UPDATE logs.function_edge_logs"
        ' SET boot_time_ms = %(ms)s + (extract(second FROM "timestamp"))::int * 10,'
        "     execution_time_ms = execution_time_ms - coalesce(boot_time_ms, 0) + %(ms)s"
        '       + (extract(second FROM "timestamp"))::int * 10'
        f' WHERE function_name = %(fn)s AND "timestamp" >= %(at)s AND {SLOW_MINUTE.format(col=TS)}',
        {"fn": FUNCTION, "at": at, "ms": boot_ms},
    )
    return cur.rowcount
