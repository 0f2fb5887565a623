"""Connecting: read-only runbook sessions on SQLAlchemy 2 + psycopg 3.

Every page session is `BEGIN READ ONLY` with `SET LOCAL` timeouts and an
`application_name` of `opsbook/<runbook>`. SET LOCAL (not startup options) because
Supabase's pooler ignores startup options. The role behind the URL is the wall
(see opslib/sql/roles.sql); the read-only transaction is the guard rail.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine, make_url

from opslib.errors import ConfigError, DatabaseUnavailable

ENV_URL = "OPSBOOK_DATABASE_URL"
ENV_ACTION_URL = "OPSBOOK_ACTION_DATABASE_URL"


@dataclass(frozen=True)
class Timeouts:
    statement_ms: int = 30_000
    lock_ms: int = 2_000
    idle_in_transaction_ms: int = 60_000


def normalise_url(raw: str) -> URL:
    """Accept postgres://, postgresql:// or postgresql+psycopg:// URLs; always use psycopg 3."""
    try:
        url = make_url(raw.strip())
    except Exception as exc:  # sqlalchemy raises ArgumentError with the URL in the text
        raise ConfigError("the database URL is not a valid URL (expected postgresql://user@host/db)") from exc
    if url.get_backend_name() not in ("postgresql", "postgres"):
        raise ConfigError(f"the database URL must be a PostgreSQL URL, not {url.get_backend_name()}://")
    return url.set(drivername="postgresql+psycopg")


def display_url(url: str | URL) -> str:
    """The URL as it may be printed: password hidden."""
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
    connect_args: dict[str, object] = {"connect_timeout": 5}
    if u.port == 6543:
        # Supabase's transaction-mode pooler cannot hold prepared statements.
        connect_args["prepare_threshold"] = None
    return sa.create_engine(
        u,
        hide_parameters=True,  # bound values stay out of log lines and error text
        pool_pre_ping=False,
        pool_size=2,
        max_overflow=2,
        connect_args=connect_args,
    )


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


def went_away(exc: sa.exc.DBAPIError) -> DatabaseUnavailable:
    """The server closed a connection that was working (stopped, restarted, crashed, killed)."""
    return DatabaseUnavailable(f"the database went away ({_first_line(exc.orig)})")


def connect(url: URL | str) -> Connection:
    """A pooled connection, or one sentence saying which database could not be reached (password hidden)."""
    eng = engine(url)
    try:
        return eng.connect()
    except sa.exc.OperationalError as exc:
        raise DatabaseUnavailable(
            f"cannot reach the database at {display_url(eng.url)}: {_first_line(exc.orig)}"
        ) from None


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
    return DatabaseIdentity(display_url(url), row.v, bool(row.r), row.u, row.d, row.n)
