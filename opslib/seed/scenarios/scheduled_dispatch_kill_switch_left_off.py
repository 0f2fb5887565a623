"""scheduled_dispatch_kill_switch_left_off: the scheduled-dispatch kill switch was pulled and never released.

Injected: an admin pulled messages.scheduled_dispatch 45 minutes before as_of for a short
maintenance (admin_audit_log kill_switch.toggle with the reason) and forgot it. pg_cron and
scheduled-dispatcher run normally (200 every minute) but claim nothing
(claim_due_messages() checks the flag): the messages due since then stay pending, with a burst
of scheduled messages behind them, past the warning line (50).

Ground truth: messaging.scheduled_dispatch_kill_switch P1, messaging.scheduled_backlog P1.
"""

from __future__ import annotations

import psycopg

from opslib.results import Severity
from opslib.seed.scenarios import message_drills
from opslib.seed.scenarios.base import Expected, Scenario, ScenarioContext, register


def inject(conn: psycopg.Connection, ctx: ScenarioContext) -> None:
    conn.execute(
        """
        WITH before AS (
          SELECT to_jsonb(f) AS row FROM public.feature_flags f WHERE f.key = 'messages.scheduled_dispatch'
        ),
        flipped AS (
          UPDATE public.feature_flags f
             SET enabled = false, updated_at = p.incident_start - interval '5 minutes',
                 updated_by = (SELECT id FROM s_users WHERE n = 2),
                 metadata = f.metadata || '{"reason": "야간 점검 중 예약 발송 잠시 중지"}'::jsonb
            FROM s_params p
           WHERE f.key = 'messages.scheduled_dispatch'
          RETURNING to_jsonb(f) AS row
        )
        INSERT INTO public.admin_audit_log
          (admin_id, action, target_type, target_id, before, after, reason, created_at)
        SELECT (SELECT id FROM s_users WHERE n = 2), 'kill_switch.toggle', 'feature_flag',
               'messages.scheduled_dispatch',
               b.row, f.row, '야간 점검 중 예약 발송 잠시 중지', p.incident_start - interval '5 minutes'
        FROM before b, flipped f, s_params p
        """
    )
    message_drills.hold(conn)
    message_drills.burst(conn, ctx, message_drills.scaled(80, ctx), salt=5)
    message_drills.dispatcher_answers(conn, status=200, content='{"ok":true,"claimed":0,"sent":0}')


SCENARIO = register(
    Scenario(
        name="scheduled_dispatch_kill_switch_left_off",
        title="예약 발송 킬스위치 방치 (messages.scheduled_dispatch left off)",
        description=__doc__ or "",
        expected=(
            Expected("messaging.scheduled_dispatch_kill_switch", Severity.P1),
            Expected("messaging.scheduled_backlog", Severity.P1),
        ),
        stage=None,
        inject=inject,
        runbook="messaging",
    )
)
