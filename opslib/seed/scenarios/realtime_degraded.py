"""realtime_degraded: Supabase Realtime drops connections and delivers late.

Injected, over the last 40 minutes: a storm of reconnects (channel joins) with channel and
connection errors (a quarter of the events), and broadcast / postgres_changes deliveries taking
3-9 s instead of well under half a second (the baseline's own deliveries of the incident too).
Scheduled sending and the database are fine.

Ground truth: messaging.realtime_latency_p95 P0, messaging.realtime_error_rate P1.
"""

from __future__ import annotations

import psycopg

from opslib.results import Severity
from opslib.seed.scenarios import message_drills
from opslib.seed.scenarios.base import Expected, Scenario, ScenarioContext, register


def inject(conn: psycopg.Connection, ctx: ScenarioContext) -> None:
    conn.execute(
        """
        UPDATE logs.realtime_logs r SET latency_ms = 3000 + (r.latency_ms * 13) % 6000
          FROM s_params p
         WHERE r."timestamp" >= p.incident_start AND r.latency_ms IS NOT NULL
        """
    )
    conn.execute(
        """
        INSERT INTO logs.realtime_logs
          (id, "timestamp", level, event_type, channel, latency_ms, event_message, metadata)
        SELECT s_uuid4(i, 601), p.incident_start + (i - 0.5) / %(n)s * (p.as_of - p.incident_start),
               CASE WHEN x.kind IN ('channel_error', 'connection_error') THEN 'error' ELSE 'info' END,
               x.kind, 'room:' || c.handle,
               CASE WHEN x.kind IN ('broadcast', 'postgres_changes') THEN 3000 + (i * 37) %% 6000 END,
               CASE x.kind WHEN 'channel_error' THEN 'ChannelRateLimitReached: too many joins'
                           WHEN 'connection_error' THEN 'UnableToConnectToProject: connection timeout'
                           ELSE x.kind || ' ' || c.handle END,
               '{}'::jsonb
        FROM s_params p
        CROSS JOIN generate_series(1, %(n)s) i
        JOIN s_users c ON c.n = 4 + (i * 3) %% p.n_creators
        CROSS JOIN LATERAL (
          SELECT CASE WHEN i %% 8 IN (0, 1) THEN 'connection_error' WHEN i %% 8 = 2 THEN 'channel_error'
                      WHEN i %% 8 IN (3, 4, 5) THEN 'channel_join'
                      WHEN i %% 8 = 6 THEN 'broadcast' ELSE 'postgres_changes' END AS kind
        ) x
        """,
        {"n": message_drills.scaled(200, ctx)},
    )


SCENARIO = register(
    Scenario(
        name="realtime_degraded",
        title="Realtime 장애 (connection errors, delivery latency 3-9 s)",
        description=__doc__ or "",
        expected=(
            Expected("messaging.realtime_latency_p95", Severity.P0),
            Expected("messaging.realtime_error_rate", Severity.P1),
        ),
        stage=None,
        inject=inject,
        runbook="messaging",
    )
)
