"""rls_denials_after_migration: a migration drops the messages read policy (§3-B 증상 3).

Injected: a migration applied 90 seconds before the incident (ops_audit_log db.migrate) replaced
the "messages: read" policy without its `authenticated` grant; from then on PostgREST answers 403
(42501) to every signed-in caller reading /rest/v1/messages. Logins and refreshes keep working.
Users who logged in during the incident open their chats: three 403s each.

Ground truth: auth.rls_denials P1 or worse; logins and refreshes within §4-E.
"""

from __future__ import annotations

import psycopg

from opslib.results import Severity
from opslib.seed.scenarios import auth_drills
from opslib.seed.scenarios.base import Expected, Scenario, ScenarioContext, register


def inject(conn: psycopg.Connection, ctx: ScenarioContext) -> None:
    auth_drills.migration(conn, "20261201093000_messages_policy_refactor")
    conn.execute(
        "UPDATE logs.edge_logs e SET status_code = 403,"
        " event_message = replace(event_message, ' | 200 | ', ' | 403 | '),"
        " metadata = jsonb_set(e.metadata, '{response,status_code}', '403')"
        " FROM s_params p WHERE e.\"timestamp\" >= p.incident_start AND e.path LIKE '/rest/v1/messages%'"
        " AND e.user_id IS NOT NULL"
    )
    auth_drills.edge(
        conn,
        tag="rls_messages",
        source=(
            'SELECT row_number() OVER (ORDER BY a."timestamp", k) AS i,'
            " a.\"timestamp\" + k * interval '7 seconds' AS ts, a.user_id,"
            " (ARRAY['ios', 'android', 'web'])[1 + k] AS platform"
            " FROM logs.auth_logs a CROSS JOIN s_params p CROSS JOIN generate_series(0, 2) k"
            ' WHERE a."timestamp" >= p.incident_start AND a.user_id IS NOT NULL AND a.error_code IS NULL'
            " AND a.status < 400 AND a.\"timestamp\" + k * interval '7 seconds' < p.as_of"
        ),
        method="GET",
        path="/rest/v1/messages",
        status=403,
    )


SCENARIO = register(
    Scenario(
        name="rls_denials_after_migration",
        title="마이그레이션 후 RLS 거부 (403 on /rest/v1/messages)",
        description=__doc__ or "",
        expected=(Expected("auth.rls_denials", Severity.P1),),
        stage=None,
        inject=inject,
        runbook="auth",
    )
)
