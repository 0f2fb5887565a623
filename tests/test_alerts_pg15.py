"""The board's DB P95 row on PostgreSQL 15 with the REAL pg_stat_statements (what Supabase runs).

The embedded server ships without the extension (its row is NOT_EVALUATED there, see
test_alerts_logic). Here, as on Supabase, the extension lives in schema `extensions`: installed but
not preloaded, the row says what to enable; preloaded, it measures. Skipped, with the reason
printed, when the PG15 binaries or the extension are not installed.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg
import pytest

from opslib import alerts, db
from opslib.results import Outcome, Severity

BIN = Path("/usr/lib/postgresql/15/bin")
LIB = Path("/usr/lib/postgresql/15/lib/pg_stat_statements.so")
PORT = 55437


def _skip_reason() -> str | None:
    if not (BIN / "initdb").exists():
        return "PostgreSQL 15 binaries not installed (apt-get install postgresql-15)"
    if not LIB.exists():
        return "pg_stat_statements for PostgreSQL 15 not installed (postgresql-15 ships it)"
    if shutil.which("su") is None:
        return "no su to run initdb as the postgres user"
    return None


def test_db_p95_from_pg_stat_statements_on_pg15() -> None:
    reason = _skip_reason()
    if reason:
        print(f"SKIP: {reason}")
        pytest.skip(reason)
    root = Path(tempfile.mkdtemp(prefix="opsbook-pg15-pss-"))
    shutil.chown(root, "postgres")
    data = root / "data"

    def as_postgres(cmd: str) -> None:
        subprocess.run(["su", "postgres", "-c", cmd], check=True, capture_output=True)

    as_postgres(f"{BIN}/initdb -D {data} -U postgres --auth=trust")
    with (data / "postgresql.conf").open("a") as conf:
        conf.write(f"listen_addresses = ''\nunix_socket_directories = '{root}'\nport = {PORT}\n")
    as_postgres(f"{BIN}/pg_ctl -D {data} -l {root}/log -w start")
    admin = f"postgresql://postgres@/postgres?host={root}&port={PORT}"
    reader = f"postgresql://opsbook_reader@/postgres?host={root}&port={PORT}"
    try:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute("CREATE ROLE opsbook_reader LOGIN")
            conn.execute("CREATE SCHEMA extensions")
            conn.execute("CREATE EXTENSION pg_stat_statements SCHEMA extensions")
            conn.execute("GRANT USAGE ON SCHEMA extensions TO opsbook_reader")
        with db.read_only(reader, "alerts") as conn:
            unloaded = alerts.db_response_time(conn).findings[0]
        assert unloaded.outcome is Outcome.NOT_EVALUATED, unloaded.detail
        assert "not preloaded" in unloaded.detail and "shared_preload_libraries" in unloaded.detail

        with (data / "postgresql.conf").open("a") as conf:
            conf.write("shared_preload_libraries = 'pg_stat_statements'\n")
        as_postgres(f"{BIN}/pg_ctl -D {data} -l {root}/log -w restart")
        db.engine(reader).dispose()  # the pooled session died with the restart
        with psycopg.connect(admin, autocommit=True) as conn:
            for _ in range(100):
                conn.execute("SELECT 1")
            for _ in range(10):  # 9 % of the calls take 250 ms: the P95 is theirs
                conn.execute("SELECT pg_sleep(0.25)")
        with db.read_only(reader, "alerts") as conn:
            measured = alerts.db_response_time(conn)
        f = measured.findings[0]
        assert (f.outcome, f.severity) == (Outcome.WARN, Severity.P2), (f.value, f.detail)
        assert 240 <= f.value < 500
        assert measured.available and int(measured.table["calls"].iloc[0]) >= 110
    finally:
        as_postgres(f"{BIN}/pg_ctl -D {data} -m immediate stop")
        shutil.rmtree(root, ignore_errors=True)
