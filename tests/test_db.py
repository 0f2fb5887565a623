"""Read-only sessions: the guard rail (READ ONLY + SET LOCAL) and the wall (the reader role)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from opslib import db, embedded, queries, visibility
from opslib.errors import DatabaseUnavailable, QueryFailed
from opslib.results import Outcome

# rls_blind is a cluster-wide role that test_role_safety makes too: the modules touching roles share a worker.
pytestmark = pytest.mark.xdist_group("cluster_roles")


def test_reader_session_refuses_writes(contract_db):
    with db.read_only(contract_db.reader, "test") as conn, pytest.raises(sa.exc.DBAPIError, match="read-only"):
        conn.execute(sa.text("UPDATE public.feature_flags SET enabled = false"))


def test_even_a_superuser_session_is_read_only(contract_db):
    admin = embedded.url(contract_db.name)
    with db.read_only(admin, "test") as conn, pytest.raises(sa.exc.DBAPIError, match="read-only"):
        conn.execute(sa.text("INSERT INTO public.ops_audit_log (source, actor, action) VALUES ('ci', 'x', 'y')"))


def test_reader_role_cannot_write_even_outside_the_guard_rail(contract_db):
    import psycopg

    reader = embedded.libpq_url(contract_db.name, user=embedded.READER_ROLE)
    with psycopg.connect(reader, autocommit=True) as conn:
        conn.execute("SET default_transaction_read_only = off")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE public.feature_flags SET enabled = false")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT * FROM vault.secrets")


def test_session_has_application_name_and_timeouts(contract_db):
    with db.read_only(contract_db.reader, "payments") as conn:
        assert conn.execute(sa.text("SHOW application_name")).scalar() == "opsbook/payments"
        assert conn.execute(sa.text("SHOW statement_timeout")).scalar() == "30s"
        assert conn.execute(sa.text("SHOW transaction_read_only")).scalar() == "on"


def test_statement_timeout_is_a_clear_query_error(contract_db):
    with db.read_only(contract_db.reader, "test", db.Timeouts(statement_ms=200)) as conn:
        conn.execute(sa.text("SELECT 1"))
        from opslib.queries import Query

        q = Query("test", "sleep", "§", "sleeps", (), "SELECT pg_sleep(2)")
        queries.catalogue()["test.sleep"] = q
        try:
            with pytest.raises(QueryFailed, match="statement timeout"):
                queries.run(conn, "test.sleep")
        finally:
            del queries.catalogue()["test.sleep"]


def test_unreachable_database_is_one_sentence():
    with (
        pytest.raises(
            DatabaseUnavailable,
            match=r"cannot reach the database at postgresql\+psycopg://opsbook:\*\*\*@127.0.0.1:9/x",
        ),
        db.read_only("postgresql://opsbook:s3cretpass@127.0.0.1:9/x", "test"),
    ):
        pass


def test_display_url_hides_the_password():
    shown = db.display_url("postgresql://reader:hunter2hunter2@db.example:6543/postgres")
    assert "hunter2" not in shown and "***" in shown


def test_visibility_ok_for_the_reader(contract_db):
    with db.read_only(contract_db.reader, "test") as conn:
        (f,) = visibility.check(conn)
    assert f.outcome is Outcome.OK
    # the number counts tables the role cannot fully read: shown with what it counts, never a bare "0"
    from opslib.page import findings_text, format_value

    assert format_value(f.value, f.unit) == "0개 테이블 읽기 불가 (tables not fully readable)"
    assert "can the role see every row?): 0개 테이블" in findings_text([f])


def test_a_role_without_bypassrls_is_an_error_not_all_clear(contract_db):
    import psycopg

    with psycopg.connect(contract_db.admin, autocommit=True) as conn:
        conn.execute(
            "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname='rls_blind') "
            "THEN CREATE ROLE rls_blind LOGIN; END IF; END $$"
        )
        conn.execute("GRANT USAGE ON SCHEMA public, cron, logs TO rls_blind")
        conn.execute("GRANT SELECT ON ALL TABLES IN SCHEMA public, cron, logs TO rls_blind")
    with db.read_only(embedded.url(contract_db.name, user="rls_blind"), "test") as conn:
        (f,) = visibility.check(conn)
    assert f.outcome is Outcome.ERROR
    assert "BYPASSRLS" in f.detail and "dt_purchases" in f.detail
    blind = f.detail.split("tables would look empty): ", 1)[1].split(";")[0].split(", ")
    assert f.value == len(blind) > 1 and f.unit.startswith("개 테이블")
