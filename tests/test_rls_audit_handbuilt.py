"""Hand-built databases for the rls-audit page: DDL written by hand on the exact contract (no seeder),
the expected findings written from the rules BEFORE the audit runs. Mostly the step functions on real
databases (fast); one round goes through the whole notebook.

Also: the contract's posture snapshot (contract_posture.json) is regenerated from a database holding
exactly the contract and must match the shipped file, and posture.yaml names only real tables/columns.
"""

from __future__ import annotations

import uuid

import psycopg
import pytest

from opslib import db, runner
from opslib.results import Outcome, Verdict
from opslib.rls_audit import baseline, exit_condition, fix_plan, functions, grants, policies, roles, scope
from opslib.rls_audit import buckets as bucket_step
from opslib.rls_audit import coverage as coverage_step
from opslib.rls_audit.settings import settings

# Roles are cluster-wide: the modules that create BYPASSRLS roles and the ones that audit them share
# one xdist worker, so an audit never sees another worker's role appear mid-run.
pytestmark = pytest.mark.xdist_group("cluster_roles")


def audit(url: str, exposed: str = ""):
    with db.read_only(url, "rls-audit") as conn:
        sc = scope(conn, exposed)
        steps = [
            coverage_step(conn, sc),
            policies(conn, sc),
            functions(conn, sc),
            grants(conn, sc),
            bucket_step(conn),
            roles(conn),
        ]
    found = [f for s in steps for f in s.findings]
    return steps, found


def problems(found) -> dict[tuple[str, str | None], str]:
    return {(f.check, f.subject): f.severity.value for f in found if f.outcome.is_problem and f.severity}


def stray_roles(admin_url: str) -> dict[tuple[str, str | None], str]:
    """Roles are cluster-wide: one another test module left with BYPASSRLS is a real P1 on every database of
    the session's server. The exact expectation includes them (none when this module runs alone)."""
    with psycopg.connect(admin_url) as conn:
        names = [r for (r,) in conn.execute("SELECT rolname FROM pg_roles WHERE rolbypassrls OR rolsuper")]
    return {("rls-audit.bypassrls_role", n): "P1" for n in names if settings().expected_bypass(n) is None}


def write(db_: object, *statements: str) -> None:
    with psycopg.connect(db_.admin, autocommit=True) as conn:  # type: ignore[attr-defined]
        for sql in statements:
            conn.execute(sql)  # type: ignore[arg-type]


def test_the_shipped_contract_posture_is_the_contracts(contract_db):
    """Fails when the contract (or roles.sql) changed and contract_posture.json was not regenerated."""
    with db.read_only(contract_db.reader, "rls-audit") as conn:
        now = baseline.dumps(baseline.read(conn))
    from importlib import resources

    text = (resources.files("opslib.rls_audit") / baseline.FILE).read_text(encoding="utf-8")
    assert now == text, "contract_posture.json is out of date: run python -m opslib.rls_audit"


def test_posture_yaml_names_real_tables_and_columns(contract_db):
    with psycopg.connect(contract_db.admin) as conn:
        have = {
            (f"{s}.{t}", c)
            for s, t, c in conn.execute("SELECT table_schema, table_name, column_name FROM information_schema.columns")
        }
    missing = [(t, c) for t, cols in settings().personal_data.items() for c in cols if (t, c) not in have]
    assert not missing, missing


def test_round1_exact_contract_then_every_hand_built_gap(contract_db):
    # written before running: the exact contract is clean; then each change is one finding at this severity
    stray = stray_roles(contract_db.admin)
    steps, found = audit(contract_db.reader)
    assert problems(found) == stray
    assert not [f for f in found if f.outcome is not Outcome.OK and f.check != "rls-audit.bypassrls_role"]
    assert steps[0].covered == steps[0].total == 24
    role = f"analytics_{uuid.uuid4().hex[:6]}"
    write(
        contract_db,
        # 1. a BI role given BYPASSRLS "to see everything"
        f"CREATE ROLE {role} LOGIN BYPASSRLS",
        # 2. personal media bucket made public, and a new public export bucket
        "UPDATE storage.buckets SET public = true WHERE id = 'message-media'",
        "INSERT INTO storage.buckets (id, name, public) VALUES ('exports', 'exports', true)",
        # 3. a new table, hardened by hand, then INSERT granted to anon by mistake
        "CREATE TABLE public.fan_letters (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
        " author_id uuid REFERENCES auth.users(id), body text NOT NULL)",
        "ALTER TABLE public.fan_letters ENABLE ROW LEVEL SECURITY",
        'CREATE POLICY "fan_letters: author reads own" ON public.fan_letters FOR SELECT TO authenticated'
        " USING (author_id = (select auth.uid()))",
        "REVOKE ALL ON public.fan_letters FROM anon, authenticated",
        "GRANT SELECT ON public.fan_letters TO authenticated",
        "GRANT INSERT ON public.fan_letters TO anon",
        # 4. the money function the contract locked down, callable by anon again
        "GRANT EXECUTE ON FUNCTION public.wallet_post(text, text, jsonb, text, uuid, text, uuid) TO anon",
        # 5. INSERT to anon on a contract table: Supabase's default ALL already has it (no drift)
        "GRANT INSERT ON public.dt_purchases TO anon",
    )
    try:
        steps, found = audit(contract_db.reader)
        assert problems(found) == {
            ("rls-audit.bypassrls_role", role): "P1",
            ("rls-audit.public_bucket", "message-media"): "P0",
            ("rls-audit.public_bucket", "exports"): "P1",
            ("rls-audit.wide_grants", "public.fan_letters → anon"): "P3",
            ("rls-audit.policy_drift", "public.fan_letters: fan_letters: author reads own"): "P3",
            (
                "rls-audit.definer_execute",
                "public.wallet_post(p_idempotency_key text, p_tx_type text, p_entries jsonb, "
                "p_reference_type text, p_reference_id uuid, p_memo text, p_created_by uuid)",
            ): "P1",
            **stray,
        }, problems(found)
        assert steps[0].covered == steps[0].total == 25
        plan = fix_plan(*steps)
        assert f"ALTER ROLE {role} NOBYPASSRLS;" in plan.migration
        assert "UPDATE storage.buckets SET public = false WHERE id = 'message-media';" in plan.migration
        assert "REVOKE INSERT ON public.fan_letters FROM anon;" in plan.migration
        assert plan.migration.index("message-media") < plan.migration.index("fan_letters")  # worst first
        assert exit_condition(found).met is False
        # the same database through the whole notebook (as the reader role)
        result = runner.run("rls-audit", {}, database_url=contract_db.reader, out_dir=contract_db_tmp(contract_db))
        assert result.error is None, result.error
        assert result.verdict is Verdict.FAIL
        assert {(f.check, f.subject) for f in result.findings if f.outcome.is_problem} == set(problems(found))
    finally:
        write(contract_db, f"DROP ROLE IF EXISTS {role}")


def contract_db_tmp(contract_db) -> object:
    import tempfile
    from pathlib import Path

    return Path(tempfile.mkdtemp(prefix=f"rls-{contract_db.name}-"))


def test_round2_policies_views_and_exposed_config(contract_db):
    write(
        contract_db,
        # 1. RLS off on a non-personal table anon reaches: P1
        "ALTER TABLE public.dt_packages DISABLE ROW LEVEL SECURITY",
        # 2. a contract policy dropped by a migration: P2 (fans' ledger reads break); said once, not also as
        #    "RLS on, no policy" (regression: the first run reported the one cause twice)
        'DROP POLICY "wallet_ledger: read own" ON public.wallet_ledger',
        # 3. a contract policy rewritten to true for authenticated on personal data: P1, not also "changed"
        'ALTER POLICY "refunds: read own" ON public.refunds USING (true)',
        # 4. anyone may insert banners: a write opened with WITH CHECK (true): P1
        'CREATE POLICY "banners: anyone submits" ON public.banners FOR INSERT TO anon WITH CHECK (true)',
        # 5. a view over auth.users in public, readable by anon (a view runs as its owner: no RLS): P2
        "CREATE VIEW public.creator_directory AS SELECT id, email FROM auth.users",
        # 6. PostgREST told (in-database config) to expose a second schema; a table there without RLS
        "CREATE SCHEMA api",
        "CREATE TABLE api.fan_votes (id int PRIMARY KEY, voter uuid)",
        "GRANT USAGE ON SCHEMA api TO anon, authenticated",
        "GRANT SELECT, INSERT ON api.fan_votes TO anon",
        f"ALTER ROLE authenticator IN DATABASE {contract_db.name} SET pgrst.db_schemas = 'public, api'",
        # 7. a bucket whose public flag is NULL (the column allows it): not public
        "INSERT INTO storage.buckets (id, name, public) VALUES ('drafts', 'drafts', NULL)",
        # 8. a restrictive true policy opens nothing
        'CREATE POLICY "funding_pledges: restrictive" ON public.funding_pledges AS RESTRICTIVE FOR SELECT'
        " TO authenticated USING (true)",
    )
    steps, found = audit(contract_db.reader)
    sc_schemas = steps[0].headline
    assert "api" in sc_schemas
    assert problems(found) == {
        ("rls-audit.rls_disabled", "public.dt_packages"): "P1",
        ("rls-audit.rls_disabled", "api.fan_votes"): "P1",
        ("rls-audit.policy_drift", "public.wallet_ledger: wallet_ledger: read own"): "P2",
        ("rls-audit.permissive_policy", "public.refunds: refunds: read own"): "P1",
        ("rls-audit.permissive_policy", "public.banners: banners: anyone submits"): "P1",
        ("rls-audit.wide_grants", "public.creator_directory → anon"): "P2",
        ("rls-audit.wide_grants", "public.creator_directory → authenticated"): "P2",
        ("rls-audit.policy_drift", "public.funding_pledges: funding_pledges: restrictive"): "P3",
        **stray_roles(contract_db.admin),
    }, problems(found)
    assert steps[0].covered == 23 and steps[0].total == 25
    plan = fix_plan(*steps)
    assert 'CREATE POLICY "wallet_ledger: read own" ON public.wallet_ledger' in plan.migration


def test_a_check_that_cannot_read_is_error_never_ok(contract_db):
    write(contract_db, "REVOKE SELECT ON storage.buckets FROM opsbook_reader")
    _, found = audit(contract_db.reader)
    (bucket,) = [f for f in found if f.check == "rls-audit.public_bucket"]
    assert bucket.outcome is Outcome.ERROR
    assert exit_condition(found).met is None


def test_opsbook_roles_and_schemas_are_its_own(contract_db):
    """The demo's own objects (roles.sql, opsbook schema functions, the seeder's schemas) are not drift,
    even when someone lists opsbook's schema as exposed."""
    steps, found = audit(contract_db.reader, "public, storage, opsbook")
    assert problems(found) == stray_roles(contract_db.admin)
    assert "opsbook" not in steps[0].tables["table"].str.split(".").str[0].tolist()
    assert set(settings().opsbook_roles) <= set(steps[5].roles["role"])


def test_object_names_are_shown_as_text_never_as_html(contract_db):
    """Regression: the page's tables render cells as raw HTML; a name a migration chose is text."""
    write(contract_db, 'CREATE POLICY "<img src=x onerror=alert(1)>" ON public.banners FOR SELECT TO anon USING (true)')
    steps, found = audit(contract_db.reader)
    assert problems(found) == {
        ("rls-audit.permissive_policy", "public.banners: <img src=x onerror=alert(1)>"): "P3",
        **stray_roles(contract_db.admin),
    }
    cells = " ".join(str(v) for v in steps[1].drift.to_numpy().ravel())
    assert "&lt;img src=x onerror=alert(1)&gt;" in cells and "<img" not in cells
    assert '"<img src=x onerror=alert(1)>"' in fix_plan(*steps).migration  # the SQL itself stays SQL
