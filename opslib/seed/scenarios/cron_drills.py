"""Building blocks of the cron drills (§3-F), on top of a finished baseline.

The baseline writes pg_cron history for the contract's five jobs and pg_net responses for the
Edge jobs' runs of the last 6 hours (request id = the runs' order, as pg_net's sequence would
give them). A drill changes runs, then rebuilds the responses the same way with its own outcome
per run (s_net_override), and changes the functions' own logs to match.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import psycopg

OVERRIDES = """
CREATE TABLE IF NOT EXISTS s_net_override (
  runid       bigint PRIMARY KEY,
  status_code int,
  timed_out   bool NOT NULL DEFAULT false,
  error_msg   text,
  delay_ms    int NOT NULL DEFAULT 450,
  content     text
)
"""

REBUILD = """
DELETE FROM net._http_response;
WITH calls AS (
  SELECT d.runid, d.status, d.start_time, coalesce(d.end_time, d.start_time) AS committed_at,
         d.command LIKE '%payment-reconcile%' AS reconcile,
         row_number() OVER (ORDER BY d.start_time, d.runid) AS request_id
  FROM cron.job_run_details d
  WHERE d.command LIKE '%invoke_edge_function%'
), answered AS (
  SELECT c.*, o.runid IS NOT NULL AS overridden, o.status_code, o.timed_out, o.error_msg, o.content,
         c.committed_at + coalesce(o.delay_ms, 450) * interval '1 millisecond' AS created
  FROM calls c LEFT JOIN s_net_override o ON o.runid = c.runid
  WHERE c.status = 'succeeded'
)
INSERT INTO net._http_response (id, status_code, content_type, headers, content, timed_out, error_msg, created)
SELECT a.request_id,
       CASE WHEN a.overridden THEN a.status_code ELSE 200 END,
       CASE WHEN a.overridden AND a.status_code IS NULL THEN NULL ELSE 'application/json' END,
       CASE WHEN a.overridden AND a.status_code IS NULL THEN NULL
            ELSE '{"content-type": "application/json"}'::jsonb END,
       CASE WHEN a.overridden THEN a.content
            WHEN a.reconcile THEN '{"ok":true,"runs":2,"mismatches":0}'
            ELSE '{"ok":true,"claimed":' || (a.request_id % 4) || ',"sent":' || (a.request_id % 4) || '}' END,
       coalesce(a.timed_out, false), a.error_msg, a.created
FROM answered a, s_params p
WHERE a.created >= p.as_of - interval '6 hours' AND a.created <= p.as_of;
SELECT setval('net.http_request_queue_id_seq',
              greatest(1, (SELECT count(*) FROM cron.job_run_details d WHERE d.command LIKE '%invoke_edge_function%')))
"""


def rebuild_responses(conn: psycopg.Connection) -> None:
    """net._http_response as pg_net would hold it after the drill's runs and outcomes."""
    conn.execute(OVERRIDES)
    for statement in REBUILD.split(";\n"):
        if statement.strip():
            conn.execute(statement)


def override_runs(
    conn: psycopg.Connection,
    job: str,
    since: datetime,
    until: datetime,
    *,
    status_code: int | None,
    timed_out: bool = False,
    error_msg: str | None = None,
    delay_ms: int = 450,
    content: str | None = None,
) -> int:
    """The pg_net outcome of the job's runs started in [since, until). Returns how many."""
    conn.execute(OVERRIDES)
    cur = conn.execute(
        """
        INSERT INTO s_net_override (runid, status_code, timed_out, error_msg, delay_ms, content)
        SELECT d.runid, %(code)s, %(timed_out)s, %(error)s, %(delay)s, %(content)s
        FROM cron.job_run_details d JOIN cron.job j ON j.jobid = d.jobid
        WHERE j.jobname = %(job)s AND d.start_time >= %(since)s AND d.start_time < %(until)s
        ON CONFLICT (runid) DO UPDATE SET status_code = EXCLUDED.status_code, timed_out = EXCLUDED.timed_out,
          error_msg = EXCLUDED.error_msg, delay_ms = EXCLUDED.delay_ms, content = EXCLUDED.content
        """,
        {
            "code": status_code,
            "timed_out": timed_out,
            "error": error_msg,
            "delay": delay_ms,
            "content": content,
            "job": job,
            "since": since,
            "until": until,
        },
    )
    return cur.rowcount


def function_status(
    conn: psycopg.Connection,
    function: str,
    since: datetime,
    until: datetime,
    *,
    status_code: int,
    execution_ms: int | None = None,
) -> int:
    """The function's own invocation log over [since, until): the status it answered (and how long it took)."""
    cur = conn.execute(
        """
        UPDATE logs.function_edge_logs f
           SET status_code = %(code)s,
               execution_time_ms = coalesce(%(ms)s, f.execution_time_ms),
               event_message = 'POST | ' || %(code)s || ' | ' || split_part(f.event_message, ' | ', 3)
         WHERE f.function_name = %(fn)s AND f."timestamp" >= %(since)s AND f."timestamp" < %(until)s
        """,
        {"code": status_code, "ms": execution_ms, "fn": function, "since": since, "until": until},
    )
    return cur.rowcount


def function_errors(
    conn: psycopg.Connection, function: str, since: datetime, until: datetime, message: str, *, salt: int
) -> None:
    """One console error per invocation of the function in [since, until), with its execution id."""
    conn.execute(
        """
        INSERT INTO logs.function_logs (id, "timestamp", function_name, level, execution_id, event_message, metadata)
        SELECT s_uuid4(row_number() OVER (ORDER BY f."timestamp")::bigint, %(salt)s), f."timestamp", f.function_name,
               'error', f.execution_id, %(msg)s, '{}'::jsonb
        FROM logs.function_edge_logs f
        WHERE f.function_name = %(fn)s AND f."timestamp" >= %(since)s AND f."timestamp" < %(until)s
        """,
        {"fn": function, "since": since, "until": until, "msg": message, "salt": salt},
    )


def last_due_daily(as_of: datetime, hour: int, minute: int) -> datetime:
    """The latest daily UTC due time hh:mm at or before as_of."""
    at = as_of.replace(hour=hour, minute=minute, second=0, microsecond=0)
    return at if at <= as_of else at - timedelta(days=1)
