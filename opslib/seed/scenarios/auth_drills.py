"""Building blocks of the auth drills (§3-B), on top of a finished baseline.

  burst()       extra GoTrue requests spread evenly over [incident_start, as_of), by chosen users;
  answer()      baseline auth_logs rows of the incident window answered differently (and their audit
                'login' rows removed when a success becomes a failure: GoTrue audits successes only);
  edge()        extra API gateway requests (logs.edge_logs) over the incident window.

Values are the drills' own constants (never user input); conditions are SQL over the auth_logs row
`a` (answer) or the picked user `u` and the run parameters `p`.
"""

from __future__ import annotations

import psycopg

from opslib.seed.scenarios.drills import _literal

USER_AGENTS = {
    "ios": "FanApp/3.4.1 (iPhone; iOS 18.1; Scale/3.00)",
    "android": "FanApp/3.4.1 (Android 15; SM-S928N)",
    "web": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) Safari/605.1.15",
}

BURST = """
WITH pool AS (
  SELECT u.*, row_number() OVER (ORDER BY u.n) AS rn, count(*) OVER () AS size
  FROM s_users u CROSS JOIN s_params p WHERE u.kind = 'fan' AND ({users_where})
)
INSERT INTO logs.auth_logs
  (id, "timestamp", level, method, path, grant_type, status, error_code, provider, user_id, request_id, msg, metadata)
SELECT md5({tag} || ':' || i)::uuid,
       p.incident_start + (i - 0.5) / {count} * (p.as_of - p.incident_start),
       CASE WHEN coalesce({status}, 500) >= 500 THEN 'error' WHEN {status} >= 400 OR {error_code} IS NOT NULL
            THEN 'warning' ELSE 'info' END,
       'POST', {path}, {grant}, {status}, {error_code},
       coalesce({provider}, CASE WHEN {with_provider} THEN u.provider END),
       CASE WHEN {known_user} THEN u.id END, substr(md5({tag} || ':rq:' || i), 1, 16), {msg},
       jsonb_build_object('referer', 'fanapp://callback',
                          'remote_addr', coalesce({ip}, '211.' || (36 + u.n % 200) || '.' || (u.n / 200) % 250
                                                         || '.' || 1 + u.n % 250),
                          'user_agent', coalesce({user_agent},
                                                 (ARRAY[{ios}, {android}, {web}])[1 + u.n % 3]),
                          'duration', ({duration_ms} + i % 37)::bigint * 1000000)
FROM s_params p
CROSS JOIN generate_series(1, {count}) i
JOIN pool u ON u.rn = 1 + ((i * {stride}) % u.size)
"""


def burst(
    conn: psycopg.Connection,
    *,
    tag: str,
    count: int,
    path: str,
    grant: str | None,
    status: int | None,
    error_code: str | None = None,
    msg: str = "Login",
    users_where: str = "true",
    user_pool: int | None = None,
    provider: str | None = None,
    with_provider: bool = True,
    known_user: bool = True,
    ip: str | None = None,
    user_agent: str | None = None,
    duration_ms: int = 60,
) -> None:
    """`count` GoTrue requests over the incident window; users picked from s_users fans matching users_where.

    user_pool limits how many distinct users make them (stride over the first user_pool of the pool).
    ip: a SQL expression for the source address (default: the user's own).
    """
    where = users_where if user_pool is None else f"({users_where}) AND u.n % 1000 < {max(1, user_pool)}"
    sql = BURST.format(
        users_where=where,
        tag=_literal(tag),
        count=count,
        path=_literal(path),
        grant=_literal(grant),
        status=f"{_literal(status)}::int",
        error_code=f"{_literal(error_code)}::text",
        provider=f"{_literal(provider)}::text",
        with_provider=_literal(with_provider),
        known_user=_literal(known_user),
        msg=_literal(msg),
        ip=ip or "NULL::text",
        user_agent=f"{_literal(user_agent)}::text",
        ios=_literal(USER_AGENTS["ios"]),
        android=_literal(USER_AGENTS["android"]),
        web=_literal(USER_AGENTS["web"]),
        duration_ms=duration_ms,
        stride=7919,
    )
    conn.execute(sql)  # type: ignore[arg-type]


def answer(conn: psycopg.Connection, condition: str, assignments: str) -> int:
    """Baseline auth_logs rows of the incident window matching `condition` (on a) answered differently.

    A success turned into a failure loses its audit 'login' row (GoTrue audits successes only).
    """
    conn.execute(  # type: ignore[arg-type]
        "DELETE FROM auth.audit_log_entries e USING logs.auth_logs a, s_params p"
        " WHERE e.id = md5(a.id::text || ':audit')::uuid"
        f' AND a."timestamp" >= p.incident_start AND ({condition})'
    )
    cur = conn.execute(  # type: ignore[arg-type]
        f"UPDATE logs.auth_logs a SET {assignments} FROM s_params p"
        f' WHERE a."timestamp" >= p.incident_start AND ({condition})'
    )
    return cur.rowcount


EDGE = """
INSERT INTO logs.edge_logs
  (id, "timestamp", method, path, status_code, user_id, client_platform, request_id, event_message, metadata)
SELECT md5({tag} || ':' || x.i)::uuid, x.ts, {method}, {path}, {status}, x.user_id, x.platform,
       substr(md5({tag} || ':ray:' || x.i), 1, 16) || '-ICN',
       {method} || ' | ' || {status} || ' | ' || {path},
       jsonb_build_object('request', jsonb_build_object('method', {method}, 'path', {path}),
                          'response', jsonb_build_object('status_code', {status}))
FROM ({source}) x
"""


def edge(conn: psycopg.Connection, *, tag: str, source: str, method: str, path: str, status: int) -> None:
    """API gateway requests, one per row of `source` (columns i, ts, user_id, platform)."""
    conn.execute(  # type: ignore[arg-type]
        EDGE.format(
            tag=_literal(tag), source=source, method=_literal(method), path=_literal(path), status=_literal(status)
        )
    )


def migration(conn: psycopg.Connection, name: str) -> None:
    """The deploy an on-call checks first: a migration applied a moment before the incident."""
    conn.execute(
        "INSERT INTO public.ops_audit_log (occurred_at, source, actor, action, severity, target_type, target_id,"
        " request_id, details)"
        " SELECT incident_start - interval '90 seconds', 'ci', 'ci:github-actions', 'db.migrate', 'info',"
        " 'migration', %(n)s, md5(%(n)s), jsonb_build_object('migration', %(n)s) FROM s_params",
        {"n": name},
    )
