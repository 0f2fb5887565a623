"""login_failure_spike: GoTrue is down (§3-B): /token answers 5xx or nothing, logins hang.

Injected, from 40 minutes before as_of: every /token request (password, id_token and refresh
grants) and every social /callback is answered 502/503/500 with unexpected_failure, or not at all
(status NULL after a 30 s wait); answers that do come are slow (8-30 s). Users retry: a burst of
extra password logins, all failing. Their audit 'login' rows disappear (GoTrue audits successes only),
so auth.audit_log_entries shows fewer successes and no failure at all.

Ground truth: auth.login_failure_rate[all] P0 and auth.token_server_errors P0; not credential stuffing.
"""

from __future__ import annotations

import psycopg

from opslib.results import Severity
from opslib.seed.scenarios import auth_drills
from opslib.seed.scenarios.base import Expected, Scenario, ScenarioContext, register


def inject(conn: psycopg.Connection, ctx: ScenarioContext) -> None:
    auth_drills.answer(
        conn,
        "a.path IN ('/token', '/callback')",
        "status = CASE abs(hashtext(a.id::text)) % 4 WHEN 0 THEN 502 WHEN 1 THEN 503 WHEN 2 THEN 500 END,"
        " error_code = CASE WHEN abs(hashtext(a.id::text)) % 4 = 2 THEN 'unexpected_failure' END,"
        " level = 'error', msg = 'upstream connect error or disconnect/reset before headers',"
        " metadata = a.metadata || jsonb_build_object('duration', (8000 + abs(hashtext(a.id::text)) % 22000)::bigint"
        " * 1000000)",
    )
    auth_drills.burst(
        conn,
        tag="login_failure_spike",
        count=round(90 * ctx.scale**0.3),
        path="/token",
        grant="password",
        status=503,
        msg="upstream connect error or disconnect/reset before headers",
        users_where="u.provider = 'email'",
        duration_ms=15000,
    )


SCENARIO = register(
    Scenario(
        name="login_failure_spike",
        title="GoTrue 장애: /token 5xx·무응답 (login failure spike)",
        description=__doc__ or "",
        expected=(
            Expected("auth.login_failure_rate", Severity.P0, "all"),
            Expected("auth.token_server_errors", Severity.P0),
        ),
        stage=None,
        inject=inject,
        runbook="auth",
    )
)
