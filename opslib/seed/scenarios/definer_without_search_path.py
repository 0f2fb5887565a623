"""definer_without_search_path: a SECURITY DEFINER helper without SET search_path, callable by anon.

Injected: public.profile_contact(uuid), SECURITY DEFINER (to read auth.users, which clients cannot)
and no `SET search_path`; Supabase's default privileges in public give EXECUTE to anon and
authenticated (and PostgreSQL's to PUBLIC). Any caller that can create an object earlier on the
search_path (a temp table or function: pg_temp comes first unless pinned) runs it with the owner's
rights: the classic definer hijack (CVE-2018-1058 class).

Ground truth: rls-audit.definer_search_path P1 for public.profile_contact(p_user uuid).
"""

from __future__ import annotations

import psycopg

from opslib.results import Severity
from opslib.seed.scenarios.base import Expected, Scenario, ScenarioContext, register

FUNCTION = "public.profile_contact(p_user uuid)"


def inject(conn: psycopg.Connection, ctx: ScenarioContext) -> None:
    del ctx
    conn.execute(
        """
        CREATE FUNCTION public.profile_contact(p_user uuid) RETURNS text
        LANGUAGE sql STABLE SECURITY DEFINER AS $$
          SELECT u.email FROM auth.users u WHERE u.id = p_user
        $$
        """
    )


SCENARIO = register(
    Scenario(
        name="definer_without_search_path",
        title="search_path 없는 SECURITY DEFINER 함수 (a definer function callable by anon, path not pinned)",
        description=__doc__ or "",
        expected=(Expected("rls-audit.definer_search_path", Severity.P1, FUNCTION),),
        stage=None,
        inject=inject,
        runbook="rls-audit",
    )
)
