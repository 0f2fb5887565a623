"""The cron page's reads and actions on PostgreSQL 15 with the REAL pg_cron (Debian postgresql-15-cron).

Skipped, with the reason printed, when the PG15 binaries or pg_cron are not installed. The
contract loads with the extension's own tables and C functions (the shim's cron section left out).
Regression: the real pg_cron marks cron.log_run superuser-only; reading it with current_setting()
made the reader's whole registry step fail (found on this cluster, never on the shim).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest

from opslib import actions, cron, db, embedded
from opslib.timewindow import Window

BIN = Path("/usr/lib/postgresql/15/bin")
LIB = Path("/usr/lib/postgresql/15/lib/pg_cron.so")
PORT = 55433


def _skip_reason() -> str | None:
    if not (BIN / "initdb").exists():
        return "PostgreSQL 15 binaries not installed (apt-get install postgresql-15)"
    if not LIB.exists():
        return "pg_cron for PostgreSQL 15 not installed (apt-get install postgresql-15-cron)"
    if shutil.which("su") is None:
        return "no su to run initdb as the postgres user"
    return None


@pytest.fixture(scope="module")
def pg15():
    reason = _skip_reason()
    if reason:
        print(f"SKIP: {reason}")
        pytest.skip(reason)
    root = Path(tempfile.mkdtemp(prefix="opsbook-pg15-"))
    shutil.chown(root, "postgres")
    data = root / "data"

    def as_postgres(cmd: str) -> None:
        subprocess.run(["su", "postgres", "-c", cmd], check=True, capture_output=True)

    as_postgres(f"{BIN}/initdb -D {data} -U postgres --auth=trust")
    with (data / "postgresql.conf").open("a") as conf:
        conf.write(
            f"listen_addresses = ''\nunix_socket_directories = '{root}'\nport = {PORT}\n"
            "shared_preload_libraries = 'pg_cron'\ncron.database_name = 'app'\n"
            "cron.use_background_workers = on\nmax_worker_processes = 20\n"
        )
    as_postgres(f"{BIN}/pg_ctl -D {data} -l {root}/log -w start")
    admin = f"postgresql://postgres@/app?host={root}&port={PORT}"
    try:
        with psycopg.connect(f"postgresql://postgres@/postgres?host={root}&port={PORT}", autocommit=True) as c:
            c.execute("CREATE DATABASE app")
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION pg_cron")
            for name, text in embedded.contract_sql():
                if name.startswith("10_"):
                    start = text.index("CREATE SEQUENCE IF NOT EXISTS cron.jobid_seq;")
                    end = text.index("REVOKE ALL ON FUNCTION cron.alter_job(bigint,text,text,text,text,boolean)")
                    text = text[:start] + text[text.index("\n", end) + 1 :]
                conn.execute(text)
            conn.execute(embedded.roles_sql())
        yield root
    finally:
        as_postgres(f"{BIN}/pg_ctl -D {data} -m immediate stop")
        shutil.rmtree(root, ignore_errors=True)


def test_registry_and_detection_as_the_reader_on_real_pg_cron(pg15) -> None:
    reader = f"postgresql://opsbook_reader@/app?host={pg15}&port={PORT}"
    # the real launcher runs the dispatcher at the next minute boundary
    deadline = time.monotonic() + 75
    # autocommit: now() in one long transaction would stay at its start, before the run
    with psycopg.connect(f"postgresql://postgres@/app?host={pg15}&port={PORT}", autocommit=True) as conn:
        while time.monotonic() < deadline:
            (runs,) = conn.execute("SELECT count(*) FROM cron.job_run_details WHERE status = 'succeeded'").fetchone()
            if runs:
                break
            time.sleep(2)
        (now,) = conn.execute("SELECT now()").fetchone()
    assert runs, "the real pg_cron ran no job within 75 s"
    with db.read_only(reader, "cron") as conn:
        registry = cron.job_registry(conn)
        found = cron.detect(conn, Window(now - timedelta(minutes=2), now))
    assert registry.db_now is not None and registry.timezone == "GMT"
    assert [f.outcome.value for f in registry.findings] == ["OK"] * 5
    runs_frame = found.health("scheduled-dispatcher").runs
    # no pg_net worker on this cluster: the request is queued and never answered
    assert len(runs_frame) >= 1 and {o.value for o in runs_frame["outcome"]} <= {"PENDING", "NO_RESPONSE"}


def test_pause_and_resume_through_the_real_alter_job(pg15) -> None:
    actor = f"postgresql+psycopg://opsbook_actor@/app?host={pg15}&port={PORT}"
    paused = actions.perform(
        "cron-pause-job", target="rate-limits-cleanup", confirm="cron-pause-job", database_url=actor
    )
    assert paused.changed and paused.after["active"] is False
    resumed = actions.perform(
        "cron-pause-job", target="rate-limits-cleanup", confirm="cron-pause-job", undo=True, database_url=actor
    )
    assert resumed.after["active"] is True
