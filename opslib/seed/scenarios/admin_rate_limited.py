"""admin_rate_limited: every admin is locked out by ops-manage's rate limit.

Injected, over the incident: a console bug retries every request in a loop, so each admin's
`ops_manage:user:<id>` key counts 70 to 120 hits in every 60-second window (the limit is 60;
rate_limit_hit() counts refused calls too). ops-manage answers 429 to the admins' calls
("rate limit exceeded for ops_manage", level warn): 24 calls.

Ground truth: admin.rate_limited_admins P1 (all three active admins at the limit),
admin.publish_failures P1 (every publish refused). ops-manage itself answers (no 5xx).
"""

from __future__ import annotations

import psycopg

from opslib.results import Severity
from opslib.seed.scenarios import admin_drills
from opslib.seed.scenarios.base import Expected, Scenario, ScenarioContext, register


def inject(conn: psycopg.Connection, ctx: ScenarioContext) -> None:
    conn.execute(
        "INSERT INTO public.rate_limits (key, window_start, window_seconds, hits, updated_at)"
        " SELECT 'ops_manage:user:' || u.id, w.start, 60, 70 + ((u.n * 7 + g) %% 51), w.start + interval '59 seconds'"
        " FROM s_params p, s_users u,"
        "      generate_series(0, floor(extract(epoch FROM p.as_of - p.incident_start) / 60)::int - 1) g"
        " CROSS JOIN LATERAL (SELECT date_trunc('minute', p.incident_start) + g * interval '1 minute' AS start) w"
        " WHERE u.n = ANY(%(admins)s) AND w.start + interval '59 seconds' <= p.as_of",
        {"admins": list(admin_drills.ADMIN_NUMBERS)},
    )
    admin_drills.ops_manage_calls(
        conn,
        ctx,
        tag="limited",
        count=24,
        status_get=429,
        status_write=429,
        message="rate limit exceeded for ops_manage",
        level="warn",
    )


SCENARIO = register(
    Scenario(
        name="admin_rate_limited",
        title="관리자 rate limit (admins locked out by ops-manage's rate limit)",
        description=__doc__ or "",
        expected=(
            Expected("admin.rate_limited_admins", Severity.P1),
            Expected("admin.publish_failures", Severity.P1),
        ),
        stage=None,
        inject=inject,
        runbook="admin",
    )
)
