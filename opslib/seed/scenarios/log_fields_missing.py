"""log_fields_missing: a payment-webhook release dropped fields from its log lines.

Injected: from the incident's start payment-webhook runs a new release (payment-webhook@v42, in its
invocation log and in its console lines) whose logger no longer adds `request_id` and `event`, and whose
payment events lack §4-C's `idempotency_key` and `currency`. Nothing else changes: the payments still
go through, the lines are still JSON, nothing personal leaks. Only the log-field audit sees it.

Ground truth: logs.common_fields P2 (request_id and event below 95 % of payment-webhook's lines),
logs.payment_fields P2 (payment events without all eight §4-C fields).
"""

from __future__ import annotations

import psycopg

from opslib.results import Severity
from opslib.seed import profile
from opslib.seed.scenarios import drills
from opslib.seed.scenarios.base import Expected, Scenario, ScenarioContext, register

RELEASE = profile.WEBHOOK_VERSION_BAD  # payment-webhook@v42


def inject(conn: psycopg.Connection, ctx: ScenarioContext) -> None:
    drills.release(conn, RELEASE)
    conn.execute(
        """
        UPDATE logs.function_logs l
           SET event_message = (l.event_message::jsonb - 'request_id' - 'event' - 'idempotency_key' - 'currency')::text
          FROM s_params p
         WHERE l.function_name = 'payment-webhook' AND l."timestamp" >= p.incident_start
        """
    )


SCENARIO = register(
    Scenario(
        name="log_fields_missing",
        title="로그 필드 누락 (a release dropped request_id, event and §4-C fields from its log lines)",
        description=__doc__ or "",
        expected=(
            Expected("logs.common_fields", Severity.P2, "payment-webhook"),
            Expected("logs.payment_fields", Severity.P2, "payment-webhook"),
        ),
        stage=None,
        inject=inject,
        runbook="logs",
    )
)
