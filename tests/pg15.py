"""A throwaway PostgreSQL 15 cluster (what Supabase runs) holding exactly the contract, for the PG15 tests.

Skipped, with the reason printed, when Debian's postgresql-15 binaries or su are not there (CI does not
install them; a developer machine may).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

from opslib import embedded

BIN = Path("/usr/lib/postgresql/15/bin")


@contextmanager
def contract_cluster(port: int, prefix: str) -> Iterator[Path]:
    """Starts the cluster on a unix socket in a fresh folder, loads the contract into database `app`;
    yields the socket folder (host=<it>&port=<port>). Stopped and removed after."""
    if not (BIN / "initdb").exists() or shutil.which("su") is None:
        reason = "PostgreSQL 15 binaries not installed (apt-get install postgresql-15), or no su"
        print(f"SKIP: {reason}")
        pytest.skip(reason)
    root = Path(tempfile.mkdtemp(prefix=f"opsbook-{prefix}-pg15-"))
    shutil.chown(root, "postgres")

    def as_postgres(cmd: str) -> None:
        subprocess.run(["su", "postgres", "-c", cmd], check=True, capture_output=True)

    as_postgres(f"{BIN}/initdb -D {root}/data -U postgres --auth=trust")
    with (root / "data" / "postgresql.conf").open("a") as conf:
        conf.write(f"listen_addresses = ''\nunix_socket_directories = '{root}'\nport = {port}\nfsync = off\n")
    as_postgres(f"{BIN}/pg_ctl -D {root}/data -l {root}/log -w start")
    try:
        with psycopg.connect(f"postgresql://postgres@/postgres?host={root}&port={port}", autocommit=True) as c:
            c.execute("CREATE DATABASE app")
        embedded.load_contract(f"postgresql://postgres@/app?host={root}&port={port}", recommended_indexes=False)
        yield root
    finally:
        as_postgres(f"{BIN}/pg_ctl -D {root}/data -m immediate stop")
        shutil.rmtree(root, ignore_errors=True)
