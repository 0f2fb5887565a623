"""The rls-audit steps on PostgreSQL 15 (what Supabase runs): the exact contract reads the same posture as
the shipped snapshot (made on the embedded 18), and hand-built drift is found with the same severities.

Skipped, with the reason printed, when the PG15 binaries are not installed.
"""

from __future__ import annotations

import psycopg
import pytest
import sqlalchemy as sa
from pg15 import contract_cluster

from opslib import db
from opslib.rls_audit import baseline, buckets, coverage, functions, grants, policies, roles, scope

PORT = 55472


@pytest.fixture(scope="module")
def pg15():
    with contract_cluster(PORT, "rls") as root:
        yield root


def test_contract_then_drift_on_postgresql_15(pg15):
    reader = f"postgresql+psycopg://opsbook_reader@/app?host={pg15}&port={PORT}"
    with db.read_only(reader, "rls-audit") as conn:
        assert conn.execute(sa.text("SHOW server_version_num")).scalar().startswith("15")
        snap = baseline.read(conn)
    contract = baseline.contract()
    # PG15 deparses the contract's policies and functions exactly as 18 does; grants lack 18's MAINTAIN
    for part in ("tables", "policies", "functions", "buckets", "roles"):
        assert snap[part] == contract[part], part
    with psycopg.connect(f"postgresql://postgres@/app?host={pg15}&port={PORT}", autocommit=True) as conn:
        conn.execute("ALTER TABLE public.funding_pledges DISABLE ROW LEVEL SECURITY")
        conn.execute('CREATE POLICY "x: open" ON public.dt_purchases FOR SELECT TO anon USING (true)')
        conn.execute(
            "CREATE FUNCTION public.profile_contact(p_user uuid) RETURNS text LANGUAGE sql STABLE SECURITY DEFINER"
            " AS $$ SELECT u.email FROM auth.users u WHERE u.id = p_user $$"
        )
    with db.read_only(reader, "rls-audit") as conn:
        sc = scope(conn, "")
        steps = [coverage(conn, sc), policies(conn, sc), functions(conn, sc), grants(conn, sc)]
        steps += [buckets(conn), roles(conn)]
    found = {(f.check, f.subject): f.severity.value for s in steps for f in s.findings if f.outcome.is_problem}
    assert found == {
        ("rls-audit.rls_disabled", "public.funding_pledges"): "P0",
        ("rls-audit.permissive_policy", "public.dt_purchases: x: open"): "P0",
        ("rls-audit.definer_search_path", "public.profile_contact(p_user uuid)"): "P1",
    }
    assert all(f.outcome.value in ("OK", "WARN", "CRITICAL") for s in steps for f in s.findings)
