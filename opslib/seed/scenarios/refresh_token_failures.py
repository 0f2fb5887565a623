"""refresh_token_failures: sessions cannot come back (§3-B 증상 2).

Injected, from 40 minutes before as_of: a client release reuses refresh tokens: most refresh_token
grants are answered 400 refresh_token_already_used or refresh_token_not_found (and the app retries),
the access tokens then expire and the API answers 401 to them (bad_jwt on GoTrue's /user, 401 on
/rest/v1 without a user: the gateway could not read the token). New logins still work.

Ground truth: auth.refresh_failure_rate P0, auth.api_401_spike P2 or worse; logins within §4-E.
"""

from __future__ import annotations

import psycopg

from opslib.results import Severity
from opslib.seed.scenarios import auth_drills
from opslib.seed.scenarios.base import Expected, Scenario, ScenarioContext, register


def inject(conn: psycopg.Connection, ctx: ScenarioContext) -> None:
    auth_drills.answer(
        conn,
        "a.path = '/token' AND a.grant_type = 'refresh_token' AND abs(hashtext(a.id::text)) % 5 < 3",
        "status = 400, level = 'warning',"
        " error_code = CASE WHEN abs(hashtext(a.id::text)) % 2 = 0 THEN 'refresh_token_already_used'"
        " ELSE 'refresh_token_not_found' END, msg = 'Invalid Refresh Token: Already Used'",
    )
    n = round(120 * ctx.scale**0.3)
    auth_drills.burst(
        conn,
        tag="refresh_retry",
        count=n,
        path="/token",
        grant="refresh_token",
        status=400,
        error_code="refresh_token_not_found",
        msg="Invalid Refresh Token: Refresh Token Not Found",
        with_provider=False,
    )
    auth_drills.burst(
        conn,
        tag="bad_jwt",
        count=n // 2,
        path="/user",
        grant=None,
        status=401,
        error_code="bad_jwt",
        msg="invalid JWT: unable to parse or verify signature, token has invalid claims: token is expired",
        with_provider=False,
    )
    auth_drills.edge(
        conn,
        tag="expired_jwt_rest",
        source=(
            f"SELECT i, p.incident_start + (i - 0.5) / {n} * (p.as_of - p.incident_start) AS ts,"
            " NULL::uuid AS user_id, (ARRAY['ios', 'android', 'web'])[1 + i % 3] AS platform"
            f" FROM s_params p, generate_series(1, {n}) i"
        ),
        method="GET",
        path="/rest/v1/messages",
        status=401,
    )


SCENARIO = register(
    Scenario(
        name="refresh_token_failures",
        title="세션 갱신 실패 (refresh_token_already_used / not_found, bad_jwt)",
        description=__doc__ or "",
        expected=(
            Expected("auth.refresh_failure_rate", Severity.P0),
            Expected("auth.api_401_spike", Severity.P2),
        ),
        stage=None,
        inject=inject,
        runbook="auth",
    )
)
