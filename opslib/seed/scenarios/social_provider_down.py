"""social_provider_down: Kakao login fails, every other login works (§3-B 트리아지 5).

Injected, from 40 minutes before as_of: Kakao's client secret was rotated on Kakao's side and not in
Supabase: every kakao /callback ends in 400 bad_oauth_callback ("Unable to exchange external code:
KOE010"), and kakao users retry. Email, apple and google logins are untouched.

Ground truth: auth.social_provider_failure[kakao] P0, auth.social_provider_isolated[kakao] P1,
auth.login_failure_rate[social_callback] P0; no server errors, not stuffing.
"""

from __future__ import annotations

import psycopg

from opslib.results import Severity
from opslib.seed.scenarios import auth_drills
from opslib.seed.scenarios.base import Expected, Scenario, ScenarioContext, register

MSG = "Unable to exchange external code: KOE010 (Bad client credentials)"


def inject(conn: psycopg.Connection, ctx: ScenarioContext) -> None:
    auth_drills.answer(
        conn,
        "a.path = '/callback' AND a.provider = 'kakao'",
        f"status = 400, error_code = 'bad_oauth_callback', level = 'warning', msg = '{MSG}'",
    )
    auth_drills.burst(
        conn,
        tag="kakao_retry",
        count=round(60 * ctx.scale**0.3),
        path="/callback",
        grant=None,
        status=400,
        error_code="bad_oauth_callback",
        msg=MSG,
        users_where="u.provider = 'kakao'",
    )


SCENARIO = register(
    Scenario(
        name="social_provider_down",
        title="카카오 로그인 장애 (kakao only)",
        description=__doc__ or "",
        expected=(
            Expected("auth.social_provider_failure", Severity.P0, "kakao"),
            Expected("auth.social_provider_isolated", Severity.P1, "kakao"),
            Expected("auth.login_failure_rate", Severity.P0, "social_callback"),
        ),
        stage=None,
        inject=inject,
        runbook="auth",
    )
)
