"""push_provider_failures: push deliveries fail at the providers while the inbox works.

Injected, over the last 40 minutes: creators keep sending (a burst of messages sent on time,
fanned out normally: inbox rows delivered within a second), but push rows of the messages sent
since the incident started fail: the APNs auth key expired (403 InvalidProviderToken for every
iOS token) and FCM throttles (messaging/quota-exceeded), 45 % of push rows in all. Inbox delivery
and Realtime are unaffected.

Ground truth: messaging.push_failure_rate P1.
"""

from __future__ import annotations

import psycopg

from opslib.results import Severity
from opslib.seed.scenarios import message_drills
from opslib.seed.scenarios.base import Expected, Scenario, ScenarioContext, register


def inject(conn: psycopg.Connection, ctx: ScenarioContext) -> None:
    message_drills.burst(conn, ctx, message_drills.scaled(30, ctx), salt=4, status="sent")
    message_drills.fan_out(conn)
    conn.execute(
        """
        UPDATE public.message_delivery d
           SET status = 'failed', delivered_at = NULL, attempt_count = 3,
               error = CASE WHEN abs(hashtext(d.recipient_id::text)) % 2 = 0
                            THEN 'APNs 403 InvalidProviderToken'
                            ELSE 'messaging/quota-exceeded' END
          FROM public.messages m, s_params p
         WHERE d.message_id = m.id AND d.channel = 'push' AND m.sent_at >= p.incident_start
           AND abs(hashtext(d.id::text)) % 20 < 9
        """
    )


SCENARIO = register(
    Scenario(
        name="push_provider_failures",
        title="푸시 발송 실패 (APNs key expired, FCM quota)",
        description=__doc__ or "",
        expected=(Expected("messaging.push_failure_rate", Severity.P1),),
        stage=None,
        inject=inject,
        runbook="messaging",
    )
)
