"""fan_read_policy_dropped: a migration dropped the policy that lets fans read their messages.

Injected: DROP POLICY "messages: recipients read delivered" ON public.messages (a migration
meant to replace it and never did). RLS stays on, so every fan's read of /rest/v1/messages
answers 200 with no rows (Content-Range */0) from the incident's start: the baseline's reads and
a wave of retries from fans who have inbox rows (the app shows an empty inbox and they pull to
refresh). No error anywhere: only the policy list and the empty answers tell.

Ground truth: messaging.rls_policies P1, messaging.fan_reads_empty P1.
"""

from __future__ import annotations

import psycopg

from opslib.results import Severity
from opslib.seed.scenarios import message_drills
from opslib.seed.scenarios.base import Expected, Scenario, ScenarioContext, register


def inject(conn: psycopg.Connection, ctx: ScenarioContext) -> None:
    conn.execute('DROP POLICY "messages: recipients read delivered" ON public.messages')
    conn.execute(
        """
        UPDATE logs.edge_logs e
           SET metadata = jsonb_set(e.metadata, '{response,headers}', '{"content_range": "*/0"}'::jsonb)
          FROM s_params p
         WHERE e."timestamp" >= p.incident_start AND e.path = '/rest/v1/messages'
           AND e.method = 'GET' AND e.status_code = 200
        """
    )
    conn.execute(
        """
        INSERT INTO logs.edge_logs
          (id, "timestamp", method, path, status_code, user_id, client_platform, request_id, event_message, metadata)
        SELECT s_uuid4(i, 611), p.incident_start + (i - 0.5) / %(n)s * (p.as_of - p.incident_start),
               'GET', '/rest/v1/messages', 200, r.recipient_id, (ARRAY['ios', 'android', 'web'])[1 + i %% 3],
               substr(md5(i::text || 'rls'), 1, 16) || '-ICN',
               'GET | 200 | ' || p.project_url || '/rest/v1/messages',
               jsonb_build_object('request', jsonb_build_object('method', 'GET', 'path', '/rest/v1/messages'),
                                  'response', jsonb_build_object('status_code', 200,
                                                                 'headers', jsonb_build_object('content_range', '*/0')))
        FROM s_params p
        CROSS JOIN generate_series(1, %(n)s) i
        JOIN LATERAL (
          SELECT d.recipient_id FROM public.message_delivery d
          WHERE d.channel = 'inbox' AND d.created_at < p.incident_start
          ORDER BY d.id OFFSET (i * 17) %% 500 LIMIT 1
        ) r ON true
        """,
        {"n": message_drills.scaled(120, ctx)},
    )


SCENARIO = register(
    Scenario(
        name="fan_read_policy_dropped",
        title="팬 읽기 RLS 정책 삭제 (fan read policy dropped by a migration)",
        description=__doc__ or "",
        expected=(
            Expected("messaging.rls_policies", Severity.P1),
            Expected("messaging.fan_reads_empty", Severity.P1),
        ),
        stage=None,
        inject=inject,
        runbook="messaging",
    )
)
