"""The reader role's wall, tested on the contract with its PUBLIC grants as they are (issue 7, items 10-11).

Real roles on a real server: the page's role is created, over-granted or left without BYPASSRLS
with SQL, and the page (or its self-test) runs as that role. Nothing is mocked.
"""

from __future__ import annotations

import json
from importlib import resources

import psycopg
import pytest

from opslib import db, embedded, privileges, runner
from opslib.results import Outcome, Verdict, decide

# Roles are cluster-wide: the modules that create BYPASSRLS roles and the ones that audit them share
# one xdist worker, so an audit never sees another worker's role appear mid-run.
pytestmark = pytest.mark.xdist_group("cluster_roles")


def _admin(contract_db, *statements: str) -> None:
    with psycopg.connect(contract_db.admin, autocommit=True) as conn:
        for sql in statements:
            conn.execute(sql)  # type: ignore[arg-type]  # test fixtures: constant SQL


_MADE: list[str] = []


@pytest.fixture(autouse=True)
def _drop_roles_made(contract_db):
    """A role left behind is a BYPASSRLS login on the whole server: every later rls-audit run (and the
    contract posture test) in this session would report it. Dropped before the test's database goes."""
    yield
    for name in _MADE:
        _admin(contract_db, f"DROP OWNED BY {name}")
        with psycopg.connect(embedded.libpq_url("postgres"), autocommit=True) as conn:
            conn.execute(f"DROP ROLE IF EXISTS {name}")  # type: ignore[arg-type]  # test fixture names
    _MADE.clear()


def _role(contract_db, name: str, *grants: str) -> str:
    _MADE.append(name)
    _admin(
        contract_db,
        f"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{name}') "
        f"THEN CREATE ROLE {name} LOGIN BYPASSRLS; END IF; END $$",
        f"ALTER ROLE {name} SET default_transaction_read_only = on",
        f"GRANT USAGE ON SCHEMA public, auth, storage, cron, net, logs TO {name}",
        f"GRANT SELECT ON ALL TABLES IN SCHEMA public, auth, storage, cron, net, logs TO {name}",
        *grants,
    )
    return embedded.url(contract_db.name, user=name)


def _self_test(url: str):
    with db.read_only(url, "test") as conn:
        found = privileges.check(conn)
    return {f.subject: f for f in found}


def test_the_reader_has_no_write_of_its_own_and_publics_are_named(contract_db):
    found = _self_test(contract_db.reader)
    assert found["role"].outcome is Outcome.OK and found["role"].value == 0, found["role"].detail
    public = found["PUBLIC"]
    # the contract's PUBLIC grants, each named: none of them can be revoked for one role
    for named in (
        "INSERT",
        "on table net.http_request_queue",
        "DELETE on table cron.job_run_details",
        "TEMPORARY on database",
        "EXECUTE on function net.http_get(",
        "on sequence net.http_request_queue_id_seq",
    ):
        assert named in public.detail, f"{named!r} missing from: {public.detail}"
    assert public.outcome is Outcome.OK, "fenced by default_transaction_read_only, as roles.sql sets it"
    assert decide(found.values()) is Verdict.PASS


def test_an_over_granted_role_fails_the_self_test_naming_each_write(contract_db):
    url = _role(
        contract_db,
        "over_granted",
        "GRANT INSERT ON public.feature_flags TO over_granted",
        "GRANT UPDATE (is_active) ON public.banners TO over_granted",
        "GRANT CREATE ON SCHEMA logs TO over_granted",
        "GRANT EXECUTE ON FUNCTION public.wallet_post(text, text, jsonb, text, uuid, text, uuid) TO over_granted",
        "GRANT USAGE ON SEQUENCE public.payment_webhook_logs_id_seq TO over_granted",
    )
    own = _self_test(url)["role"]
    assert own.outcome is Outcome.ERROR
    for named in (
        "INSERT on table public.feature_flags",
        "UPDATE on table public.banners",  # a column grant is a write too
        "CREATE on schema logs",
        "EXECUTE on function public.wallet_post(",  # SECURITY DEFINER and it writes
        "USAGE on sequence public.payment_webhook_logs_id_seq",
    ):
        assert named in own.detail, f"{named!r} missing from: {own.detail}"
    assert own.value == 5, own.detail
    assert decide([own]) is Verdict.ERROR, "never PASS"
    # a role it can SET ROLE to is named first: it explains every write inherited from it
    _admin(contract_db, "GRANT service_role TO over_granted")
    own = _self_test(url)["role"]
    assert own.detail.split(": ", 1)[1].startswith("SET ROLE on role service_role"), own.detail[:300]


def test_a_role_without_a_read_only_default_has_nothing_between_it_and_publics_writes(contract_db):
    url = _role(contract_db, "no_default")
    _admin(contract_db, "ALTER ROLE no_default RESET default_transaction_read_only")
    found = _self_test(url)
    assert found["role"].outcome is Outcome.OK
    assert found["PUBLIC"].outcome is Outcome.ERROR and "default_transaction_read_only is off" in found["PUBLIC"].detail


def test_roles_sql_takes_back_what_the_reader_was_given(contract_db):
    _admin(
        contract_db,
        "GRANT INSERT, DELETE ON public.dt_purchases TO opsbook_reader",
        "GRANT service_role TO opsbook_reader",
        f'GRANT CREATE ON DATABASE "{contract_db.name}" TO opsbook_reader',
    )
    assert _self_test(contract_db.reader)["role"].outcome is Outcome.ERROR
    _admin(contract_db, embedded.roles_sql())
    assert _self_test(contract_db.reader)["role"].outcome is Outcome.OK


def _as_reader(contract_db, *statements: str) -> None:
    with psycopg.connect(embedded.libpq_url(contract_db.name, user=embedded.READER_ROLE), autocommit=True) as conn:
        for sql in statements:
            conn.execute(sql)  # type: ignore[arg-type]


def test_the_issue_reproduction_fails_under_the_read_only_default(contract_db):
    with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
        _as_reader(contract_db, "SELECT net.http_get('http://127.0.0.1:9/x')")
    with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
        _as_reader(contract_db, "CREATE TEMP TABLE t (x int)")


def test_a_deliberate_read_write_transaction_gets_through_publics_grants_until_the_owner_hardens(contract_db):
    """The documented limitation, measured: then closed by opslib/sql/harden_public.sql."""
    reproduction = "BEGIN READ WRITE; SELECT net.http_get('http://127.0.0.1:9/x'); COMMIT"
    _as_reader(contract_db, reproduction)  # PUBLIC's INSERT on the queue: no per-role REVOKE stops it
    harden = (resources.files("opslib") / "sql" / "harden_public.sql").read_text(encoding="utf-8")
    _admin(contract_db, harden)
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        _as_reader(contract_db, reproduction)
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        _as_reader(contract_db, "BEGIN READ WRITE; CREATE TEMP TABLE t (x int); COMMIT")
    found = _self_test(contract_db.reader)
    assert found["role"].outcome is Outcome.OK and "PUBLIC" not in found, found.get("PUBLIC")
    # the contract's own caller of pg_net (cron → invoke_edge_function, SECURITY DEFINER) still works
    with psycopg.connect(contract_db.admin, autocommit=True) as conn:
        assert conn.execute("SELECT public.invoke_edge_function('scheduled-dispatcher')").fetchone()[0] > 0


def test_a_role_without_bypassrls_stops_the_page_with_the_real_cause_first(contract_db, tmp_path, capsys):
    url = _role(contract_db, "rls_blind")
    _admin(contract_db, "ALTER ROLE rls_blind NOBYPASSRLS")
    result = runner.run("payments", database_url=url, out_dir=tmp_path)
    cause = "role rls_blind cannot see through row-level security (it lacks BYPASSRLS)"
    assert result.verdict is Verdict.ERROR and result.exit_code == runner.ExitCode.ERROR
    assert result.error and result.error.startswith(cause), result.error
    assert "does not exist" not in result.error
    data = json.loads((result.folder / "result.json").read_text(encoding="utf-8"))
    assert data["error"].startswith(cause) and data["headline"][0].startswith(cause)
    runner.print_summary(result)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("verdict: ERROR") and lines[1].strip().startswith(cause), lines[:3]
    report = (result.folder / "payments.html").read_text(encoding="utf-8")
    banner = report[report.index("opsbook-verdict") :]
    assert banner.index("cannot see through row-level security") < banner.index("</div></div>") + 20
    measured = {f.check for f in result.findings}
    assert not [c for c in measured if c.startswith("payments.")], "nothing measured through a blind role"
