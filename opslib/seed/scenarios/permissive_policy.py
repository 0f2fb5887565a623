"""permissive_policy: a "temporary" support policy opens every purchase to anyone.

Injected: CREATE POLICY "dt_purchases: support lookup" ON public.dt_purchases FOR SELECT TO anon,
authenticated USING (true): added during a payment incident so support could look purchases up
from the app, and never dropped. Policies are OR-ed: the contract's "read own" no longer limits
anything, and every purchase (user id, order id, PG payment key) is readable with the anon key.

Ground truth: rls-audit.permissive_policy P0 for that policy (personal data open to anon).
"""

from __future__ import annotations

import psycopg

from opslib.results import Severity
from opslib.seed.scenarios.base import Expected, Scenario, ScenarioContext, register

POLICY = "dt_purchases: support lookup"


def inject(conn: psycopg.Connection, ctx: ScenarioContext) -> None:
    del ctx
    conn.execute(f'CREATE POLICY "{POLICY}" ON public.dt_purchases FOR SELECT TO anon, authenticated USING (true)')


SCENARIO = register(
    Scenario(
        name="permissive_policy",
        title="dt_purchases에 USING (true) 정책 (a support policy opens every purchase to anyone)",
        description=__doc__ or "",
        expected=(Expected("rls-audit.permissive_policy", Severity.P0, f"public.dt_purchases: {POLICY}"),),
        stage=None,
        inject=inject,
        runbook="rls-audit",
    )
)
