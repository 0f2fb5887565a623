"""auth_rate_limited: an Android release loops on token refresh and GoTrue rate-limits it (§3-B 트리아지 4).

Injected, from 40 minutes before as_of: Android users' app refreshes its session in a tight loop;
GoTrue answers 429 over_request_rate_limit to most of those refreshes and to the Android users'
password logins in the window, including the re-logins of the users the loop signed out.

Ground truth: auth.rate_limited P1; not stuffing.
"""

from __future__ import annotations

import psycopg

from opslib.results import Severity
from opslib.seed.scenarios import auth_drills
from opslib.seed.scenarios.base import Expected, Scenario, ScenarioContext, register

ANDROID = auth_drills.USER_AGENTS["android"]


def inject(conn: psycopg.Connection, ctx: ScenarioContext) -> None:
    auth_drills.answer(
        conn,
        f"a.path = '/token' AND a.metadata->>'user_agent' = '{ANDROID}'",
        "status = 429, error_code = 'over_request_rate_limit', level = 'warning', msg = 'Request rate limit reached'",
    )
    auth_drills.burst(
        conn,
        tag="android_refresh_loop",
        count=round(400 * ctx.scale**0.3),
        path="/token",
        grant="refresh_token",
        status=429,
        error_code="over_request_rate_limit",
        msg="Request rate limit reached",
        users_where="u.n % 3 = 1",
        user_pool=120,
        user_agent=ANDROID,
        with_provider=False,
    )
    # Signed out by the failed refreshes, the same users log in again and are limited too: enough
    # attempts that the login rate is judged (and the exit condition not met) at any hour of the day,
    # not only when the baseline's own Android logins are many.
    auth_drills.burst(
        conn,
        tag="android_relogin_limited",
        count=round(90 * ctx.scale**0.3),
        path="/token",
        grant="password",
        status=429,
        error_code="over_request_rate_limit",
        msg="Request rate limit reached",
        users_where="u.n % 3 = 1 AND u.provider = 'email'",
        user_pool=120,
        user_agent=ANDROID,
    )


SCENARIO = register(
    Scenario(
        name="auth_rate_limited",
        title="Auth rate limit (429 over_request_rate_limit)",
        description=__doc__ or "",
        expected=(Expected("auth.rate_limited", Severity.P1),),
        stage=None,
        inject=inject,
        runbook="auth",
    )
)
