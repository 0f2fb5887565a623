"""Connecting: read-only runbook sessions on SQLAlchemy 2 + psycopg 3.

Every page session is `BEGIN READ ONLY` with `SET LOCAL` timeouts and an
`application_name` of `opsbook/<runbook>`. SET LOCAL (not startup options) because
Supabase's pooler ignores startup options. The role behind the URL is the wall
(see opslib/sql/roles.sql); the read-only transaction is the guard rail.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine, make_url

from opslib.errors import ConfigError, DatabaseUnavailable

ENV_URL = "OPSBOOK_DATABASE_URL"
ENV_ACTION_URL = "OPSBOOK_ACTION_DATABASE_URL"


# After connecting, the first answer must come within this many seconds. A connection pooler
# (pgbouncer, Supabase's on 6543) accepts the login and then queues the client until a backend
# is free, for query_wait_timeout (120 s by default) when the backend is down; the server's own
# statement_timeout cannot help there. The client bounds that wait itself.
FIRST_ANSWER_S = 10
CONNECT_TIMEOUT_S = 5  # libpq connect_timeout: a frozen server accepts the socket and never answers


@dataclass(frozen=True)
class Timeouts:
    statement_ms: int = 30_000
    lock_ms: int = 2_000
    idle_in_transaction_ms: int = 60_000


def normalise_url(raw: str) -> URL:
    """Accept postgres://, postgresql:// or postgresql+psycopg:// URLs; always use psycopg 3."""
    if _split_password(raw):
        raise ConfigError(
            "the database URL has more than one '@': write an '@' in the password as %40 "
            "(the URL is not shown, as part of the password would be)"
        )
    try:
        url = make_url(raw.strip())
    except Exception as exc:  # sqlalchemy raises ArgumentError with the URL in the text
        raise ConfigError("the database URL is not a valid URL (expected postgresql://user@host/db)") from exc
    if url.get_backend_name() not in ("postgresql", "postgres"):
        raise ConfigError(f"the database URL must be a PostgreSQL URL, not {url.get_backend_name()}://")
    return url.set(drivername="postgresql+psycopg")


def _split_password(url: str | URL) -> bool:
    """A password with an unencoded '@' (common in generated passwords) is cut at its first '@':
    the rest becomes the host, port, database or query, which messages and result.json print.
    A URL object is judged by its host and database: the query may hide the rest (`p@ss?x`)."""
    if isinstance(url, URL):
        return "@" in (url.host or "") or "@" in (url.database or "")
    return url.count("@") > 1


SPLIT_PASSWORD = "<database URL with an unencoded '@' in its password: not shown>"


def display_url(url: str | URL) -> str:
    """The URL as it may be printed: password hidden."""
    if _split_password(url):
        return SPLIT_PASSWORD
    try:
        u = url if isinstance(url, URL) else make_url(url)
    except Exception:
        return "<unparseable database URL>"
    # libpq also takes the password as a query parameter (?password=...)
    hidden = {k: "***" for k in u.query if k.lower() in ("password", "sslpassword")}
    if hidden:
        u = u.update_query_dict(hidden)
    return u.render_as_string(hide_password=True)


def configured_url(explicit: str | None = None, *, action: bool = False) -> str | None:
    """The URL given by the caller or the environment, or None (use the embedded default)."""
    if explicit:
        return explicit
    return os.environ.get(ENV_ACTION_URL if action else ENV_URL) or None


def resolve_url(explicit: str | None = None, *, action: bool = False) -> URL:
    """The database to talk to. Without a configured URL, the embedded default, which must be running:
    a stopped one is one sentence (DatabaseUnavailable), never started behind the user's back."""
    raw = configured_url(explicit, action=action)
    if raw:
        return normalise_url(raw)
    from opslib import embedded

    embedded.require_running()
    if not embedded.database_exists(embedded.DEFAULT_DATABASE):
        raise ConfigError(
            f"the embedded demo database is empty: run `opsbook demo` (or `opsbook db seed`) first, or set {ENV_URL}"
        )
    role = embedded.ACTOR_ROLE if action else embedded.READER_ROLE
    return make_url(embedded.url(embedded.DEFAULT_DATABASE, user=role))


@lru_cache(maxsize=8)
def _engine(url: str) -> Engine:
    u = make_url(url)
    connect_args: dict[str, object] = {"connect_timeout": CONNECT_TIMEOUT_S}
    if u.port == 6543:
        # Supabase's transaction-mode pooler cannot hold prepared statements.
        connect_args["prepare_threshold"] = None
    eng = sa.create_engine(
        u,
        hide_parameters=True,  # bound values stay out of log lines and error text
        pool_pre_ping=False,
        pool_size=2,
        max_overflow=2,
        connect_args=connect_args,
    )
    sa.event.listen(eng, "do_connect", _arm_new_connection)
    return eng


def engine(url: URL | str) -> Engine:
    u = normalise_url(url) if isinstance(url, str) else url.set(drivername="postgresql+psycopg")
    return _engine(u.render_as_string(hide_password=False))


@contextmanager
def read_only(
    url: URL | str,
    runbook: str,
    timeouts: Timeouts = Timeouts(),  # frozen dataclass, safe as a default
) -> Iterator[Connection]:
    """A read-only transaction with timeouts and application_name; always rolled back."""
    conn = connect(url).execution_options(postgresql_readonly=True)
    try:
        with conn.begin() as tx:
            try:
                with _first_answer_within(conn, FIRST_ANSWER_S):
                    set_local(conn, f"opsbook/{runbook}", timeouts)
                yield conn
            except sa.exc.DBAPIError as exc:
                if exc.connection_invalidated:
                    raise went_away(exc) from None
                raise
            finally:
                if not conn.invalidated:
                    tx.rollback()
    finally:
        conn.close()


class _Watchdog:
    """Severs the sockets it was given if the server has not answered after `seconds`.

    libpq has no client-side statement timeout; shutting a socket down wakes the blocked
    driver with an error, which becomes one sentence (and the connection is discarded).
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.fired = threading.Event()
        self._fds: list[int] = []
        self._timer = threading.Timer(seconds, self._sever)
        self._timer.daemon = True

    def watch(self, fd: int) -> None:
        self._fds.append(fd)
        if not self._timer.is_alive() and not self.fired.is_set():
            self._timer.start()

    def _sever(self) -> None:
        import socket

        self.fired.set()
        for fd in self._fds:
            try:
                s = socket.socket(fileno=os.dup(fd))
            except OSError:
                continue
            with suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    def cancel(self) -> None:
        self._timer.cancel()

    def sentence(self, url: URL) -> DatabaseUnavailable:
        return DatabaseUnavailable(
            f"the database at {display_url(url)} accepted the connection but did not answer within "
            f"{self.seconds:g} s (a connection pooler with no backend behind it?)"
        )


_arming = threading.local()


def _arm_new_connection(dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
    """SQLAlchemy's do_connect hook: the new connection's first answers (SQLAlchemy's own start-up
    queries included) are watched by the watchdog of the db.connect() call that opened it."""
    conn = dialect.connect(*cargs, **cparams)
    watchdog = getattr(_arming, "watchdog", None)
    if watchdog is not None:
        watchdog.watch(conn.pgconn.socket)
    return conn


@contextmanager
def _first_answer_within(conn: Connection, seconds: float) -> Iterator[None]:
    """The first statement of a session on a pooled connection, bounded like a new connection's."""
    watchdog = _Watchdog(seconds)
    watchdog.watch(conn.connection.dbapi_connection.pgconn.socket)  # type: ignore[union-attr]
    try:
        yield
    except sa.exc.DBAPIError:
        if watchdog.fired.is_set():
            conn.invalidate()
            raise watchdog.sentence(conn.engine.url) from None
        raise
    finally:
        watchdog.cancel()


def went_away(exc: sa.exc.DBAPIError) -> DatabaseUnavailable:
    """The server closed a connection that was working (stopped, restarted, crashed, killed)."""
    return DatabaseUnavailable(f"the database went away ({_first_line(exc.orig)})")


def connect(url: URL | str) -> Connection:
    """A pooled connection, or one sentence saying which database could not be reached (password hidden)."""
    eng = engine(url)
    watchdog = _arming.watchdog = _Watchdog(FIRST_ANSWER_S)
    try:
        return eng.connect()
    except sa.exc.DBAPIError as exc:
        if watchdog.fired.is_set():
            raise watchdog.sentence(eng.url) from None
        if not isinstance(exc, sa.exc.OperationalError):
            raise
        raise DatabaseUnavailable(
            f"cannot reach the database at {display_url(eng.url)}: {_first_line(exc.orig)}"
        ) from None
    finally:
        watchdog.cancel()
        _arming.watchdog = None


def set_local(conn: Connection, application_name: str, timeouts: Timeouts) -> None:
    """Transaction-scoped settings: SET LOCAL works through poolers, startup options do not."""
    conn.exec_driver_sql(f"SET LOCAL statement_timeout = {int(timeouts.statement_ms)}")
    conn.exec_driver_sql(f"SET LOCAL lock_timeout = {int(timeouts.lock_ms)}")
    conn.exec_driver_sql(f"SET LOCAL idle_in_transaction_session_timeout = {int(timeouts.idle_in_transaction_ms)}")
    conn.execute(sa.text("SELECT set_config('application_name', :n, true)"), {"n": application_name})


def _first_line(exc: object) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


@dataclass(frozen=True)
class DatabaseIdentity:
    """Who and where we measured: goes into result.json."""

    host: str
    server_version: str
    is_replica: bool
    current_user: str
    database: str
    now_utc: str

    def to_json(self) -> dict[str, object]:
        return {
            "host": self.host,
            "server_version": self.server_version,
            "is_replica": self.is_replica,
            "user": self.current_user,
            "database": self.database,
            "server_now": self.now_utc,
        }


def identify(conn: Connection, url: URL | str) -> DatabaseIdentity:
    row = conn.execute(
        sa.text(
            "SELECT current_setting('server_version') AS v, pg_is_in_recovery() AS r, current_user AS u,"
            " current_database() AS d, to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS n"
        )
    ).one()
    return DatabaseIdentity(display_host(url), row.v, bool(row.r), row.u, row.d, row.n)


def display_host(url: str | URL) -> str:
    """Where the server is, and nothing else: 'host:port' or a Unix socket directory (':port').

    Never the user, the password (also not a ?password=) or the rest of the URL.
    """
    if _split_password(url):
        return SPLIT_PASSWORD
    try:
        u = url if isinstance(url, URL) else make_url(url)
    except Exception:
        return "<unparseable database URL>"
    host = u.host or ""
    if not host:
        # libpq reads host (a socket directory for a local server) from the query too
        value = u.query.get("host", "")
        host = value[0] if isinstance(value, tuple) else value
    port = u.port or u.query.get("port") or 5432
    if isinstance(port, tuple):
        port = port[0]
    return f"{host or 'localhost'}:{port}"
