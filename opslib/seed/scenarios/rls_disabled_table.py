"""rls_disabled_table: a backfill migration turned row-level security off on funding_pledges and never back on.

Injected: ALTER TABLE public.funding_pledges DISABLE ROW LEVEL SECURITY (the migration disabled it
to backfill pledges as the app's role, and its last line, ENABLE, was lost in review). Its policy
stays; it no longer applies. anon and authenticated hold Supabase's default grants (ALL) on it, so
every fan's pledge (user id, amount) is readable, and writable, with the public anon key. Nothing
fails anywhere: only the catalog tells.

Ground truth: rls-audit.rls_disabled P0 for public.funding_pledges (personal data reachable by anon).
"""

from __future__ import annotations

import psycopg

from opslib.results import Severity
from opslib.seed.scenarios.base import Expected, Scenario, ScenarioContext, register

TABLE = "public.funding_pledges"


def inject(conn: psycopg.Connection, ctx: ScenarioContext) -> None:
    del ctx  # a catalog change: it has no time of its own
    conn.execute(f"ALTER TABLE {TABLE} DISABLE ROW LEVEL SECURITY")


SCENARIO = register(
    Scenario(
        name="rls_disabled_table",
        title="funding_pledges RLS 꺼짐 (row-level security left off after a backfill)",
        description=__doc__ or "",
        expected=(Expected("rls-audit.rls_disabled", Severity.P0, TABLE),),
        stage=None,
        inject=inject,
        runbook="rls-audit",
    )
)
