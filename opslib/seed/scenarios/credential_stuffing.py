"""credential_stuffing: a credential-stuffing run against email logins (§3-B 트리아지 2).

Injected, from 40 minutes before as_of: three addresses (45.133.1.10/11, 185.220.101.7) send a
password login every few seconds with leaked email/password pairs: 400 invalid_credentials, no
user id (GoTrue resolves no account), a scripting user agent, none succeeding. Users' own logins
are untouched. This is a security incident (block / rate-limit the sources), not a login outage.

Ground truth: auth.credential_stuffing P1; no P0 on the login failure rate and no server errors.
"""

from __future__ import annotations

import psycopg

from opslib.results import Severity
from opslib.seed.scenarios import auth_drills
from opslib.seed.scenarios.base import Expected, Scenario, ScenarioContext, register

SOURCES = ("45.133.1.10", "45.133.1.11", "185.220.101.7")


def inject(conn: psycopg.Connection, ctx: ScenarioContext) -> None:
    ips = "ARRAY[" + ", ".join(f"'{ip}'" for ip in SOURCES) + "]"
    auth_drills.burst(
        conn,
        tag="credential_stuffing",
        count=round(600 * ctx.scale**0.3),
        path="/token",
        grant="password",
        status=400,
        error_code="invalid_credentials",
        msg="Invalid login credentials",
        provider="email",
        known_user=False,
        ip=f"({ips})[1 + i % {len(SOURCES)}]",
        user_agent="python-requests/2.31.0",
        duration_ms=90,
    )


SCENARIO = register(
    Scenario(
        name="credential_stuffing",
        title="크리덴셜 스터핑 (credential stuffing from three sources)",
        description=__doc__ or "",
        expected=(Expected("auth.credential_stuffing", Severity.P1),),
        stage=None,
        inject=inject,
        runbook="auth",
    )
)
