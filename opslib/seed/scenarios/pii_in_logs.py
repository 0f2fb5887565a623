"""pii_in_logs: ops-manage logs its callers' raw contact details and a card number.

Injected: from the incident's start a debugging change in ops-manage (the admin console's function)
writes one extra console line per invocation, a complete §4-B JSON line whose `message` quotes the
user record it handled: an unmasked email and Korean mobile number (010-xxxx-xxxx and the +82 form),
its `actor_id` a user's raw uuid instead of a masked id, and on one line in five a card number the
admin pasted (a Luhn-valid test Visa). Six extra lines spread over the incident carry each kind at
least once (one a card, one a raw uuid in actor_id), since a quiet hour may have no admin call at all.
Every other field follows the standard, so only the PII check fires.

Ground truth: logs.pii P1 (security: raw personal data in the logs).
"""

from __future__ import annotations

import psycopg

from opslib.results import Severity
from opslib.seed.scenarios.base import Expected, Scenario, ScenarioContext, register


def inject(conn: psycopg.Connection, ctx: ScenarioContext) -> None:
    conn.execute(
        """
        INSERT INTO logs.function_logs (id, "timestamp", function_name, level, execution_id, event_message, metadata)
        SELECT md5(e.id::text || ':pii')::uuid, e."timestamp" + interval '7 milliseconds', 'ops-manage', 'info',
               e.execution_id,
               jsonb_build_object(
                 'env', 'production', 'release', e.deployment_version, 'platform', 'edge',
                 'request_id', e.execution_id, 'severity', 'info', 'event', 'admin.user.viewed', 'domain', 'admin',
                 'actor_id', u.id::text,
                 'message', 'user record: ' || u.email || ' / '
                            || CASE WHEN x.n % 2 = 0 THEN '010-' || lpad((1000 + x.n % 9000)::text, 4, '0')
                                                          || '-' || lpad((x.n * 37 % 10000)::text, 4, '0')
                                    ELSE '+82 10-' || lpad((2000 + x.n % 7000)::text, 4, '0')
                                         || '-' || lpad((x.n * 53 % 10000)::text, 4, '0') END
                            || CASE WHEN x.n % 5 = 0 THEN ' card 4111 1111 1111 1111' ELSE '' END
               )::text,
               '{}'::jsonb
        FROM logs.function_edge_logs e
        CROSS JOIN s_params p
        CROSS JOIN LATERAL (SELECT hashtext(e.id::text) & 1048575 AS n) x
        JOIN LATERAL (SELECT id, email FROM auth.users WHERE email IS NOT NULL
                      ORDER BY id OFFSET x.n % 50 LIMIT 1) u ON true
        WHERE e.function_name = 'ops-manage' AND e."timestamp" >= p.incident_start
        """
    )
    # a quiet hour may have no admin call: six more lines whenever the incident falls, one with the card
    # number and one with a raw user uuid as actor_id
    conn.execute(
        """
        INSERT INTO logs.function_logs (id, "timestamp", function_name, level, execution_id, event_message, metadata)
        SELECT md5(i::text || ':pii-extra')::uuid, p.incident_start + (i - 0.5) / 6 * (p.as_of - p.incident_start),
               'ops-manage', 'info', md5(i::text || ':pii-exec'),
               jsonb_build_object(
                 'env', 'production', 'release', 'ops-manage@v23', 'platform', 'edge',
                 'request_id', md5(i::text || ':pii-exec'), 'severity', 'info', 'event', 'admin.user.viewed',
                 'domain', 'admin',
                 'actor_id', CASE WHEN i = 4 THEN (SELECT id::text FROM auth.users ORDER BY id LIMIT 1)
                                  ELSE 'user_' || left(md5(i::text), 8) END,
                 'message', 'contact fan' || i || '.kim@example.com, phone 0101234' || lpad(i::text, 4, '0')
                            || CASE WHEN i = 2 THEN ', card 4111-1111-1111-1111' ELSE '' END)::text,
               '{}'::jsonb
        FROM s_params p, generate_series(1, 6) i
        """
    )


SCENARIO = register(
    Scenario(
        name="pii_in_logs",
        title="로그에 원본 개인정보 (raw emails, phone numbers, a card number and user ids in ops-manage's logs)",
        description=__doc__ or "",
        expected=(Expected("logs.pii", Severity.P1, "ops-manage"),),
        stage=None,
        inject=inject,
        runbook="logs",
    )
)
