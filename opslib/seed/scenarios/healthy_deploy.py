"""healthy_deploy: a scheduled-dispatcher release that changes nothing but its version.

Injected, 65 minutes before as_of: scheduled-dispatcher@v18 replaces @v17 (CI's `function.deploy`
row 45 s before its first invocation); the function answers exactly as before (the baseline's
200s and its 5 % short cold starts). The 60-minute observation is over at as_of.

Ground truth (runbook deploy): nothing fires; PASS; the exit condition is met.
"""

from __future__ import annotations

from datetime import timedelta

import psycopg

from opslib.seed.scenarios import deploy_drills
from opslib.seed.scenarios.base import Scenario, ScenarioContext, register

DEPLOYED_MINUTES_AGO = 65


def inject(conn: psycopg.Connection, ctx: ScenarioContext) -> None:
    deploy_drills.release(conn, ctx.as_of - timedelta(minutes=DEPLOYED_MINUTES_AGO))


SCENARIO = register(
    Scenario(
        name="healthy_deploy",
        title="정상 배포: scheduled-dispatcher@v18 (no regression)",
        description=__doc__ or "",
        expected=(),
        stage=None,
        inject=inject,
        runbook="deploy",
    )
)
