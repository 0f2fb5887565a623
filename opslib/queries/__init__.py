"""Named SQL: one query per `.sql` file, grouped by domain folder.

File format (aiosql-style header, msticpy-style declared parameters):

    -- name: webhook-success-rate
    -- section: §3-A 감지, §4-E
    -- Webhook success rate per provider and 5-minute bucket.
    -- param: since timestamptz  start of the window (inclusive, UTC)
    -- param: until timestamptz  end of the window (exclusive, UTC)
    SELECT ... WHERE received_at >= :since AND received_at < :until

Parameters are bound by the driver (`:since`), never formatted into the text. A call
with a missing or unknown parameter fails loudly instead of silently using a default.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from opslib.errors import ConfigError, QueryFailed

_HEADER = re.compile(r"^--\s*(name|section|param):\s*(.*)$")
_BIND = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")

PARAM_TYPES = {"timestamptz", "int", "bigint", "text", "text[]", "bigint[]", "int[]", "numeric", "interval", "bool"}


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    description: str


@dataclass(frozen=True)
class Query:
    domain: str
    name: str
    section: str
    description: str
    params: tuple[Param, ...]
    sql: str

    @property
    def qualified_name(self) -> str:
        return f"{self.domain}.{self.name}"

    def bound_names(self) -> set[str]:
        return set(_BIND.findall(_strip_comments(self.sql)))


def _strip_comments(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--"))


def parse(domain: str, filename: str, text: str) -> Query:
    name = section = ""
    description: list[str] = []
    params: list[Param] = []
    body: list[str] = []
    in_header = True
    for line in text.splitlines():
        stripped = line.strip()
        if in_header and stripped.startswith("--"):
            m = _HEADER.match(stripped)
            if m and m.group(1) == "name":
                name = m.group(2).strip()
            elif m and m.group(1) == "section":
                section = m.group(2).strip()
            elif m and m.group(1) == "param":
                parts = m.group(2).split(None, 2)
                if len(parts) < 2:
                    raise ConfigError(f"{domain}/{filename}: a param line needs a name and a type")
                params.append(Param(parts[0], parts[1], parts[2] if len(parts) > 2 else ""))
            else:
                description.append(stripped.lstrip("-").strip())
            continue
        if in_header and not stripped:
            continue
        in_header = False
        body.append(line)
    if not name:
        raise ConfigError(f"{domain}/{filename}: missing `-- name:` header")
    return Query(domain, name, section, " ".join(d for d in description if d), tuple(params), "\n".join(body).strip())


@cache
def catalogue() -> dict[str, Query]:
    """Every query shipped with opslib, by qualified name `domain.query-name`."""
    found: dict[str, Query] = {}
    root = resources.files("opslib") / "queries"
    for folder in sorted(root.iterdir(), key=lambda p: p.name):
        if not folder.is_dir() or folder.name.startswith("_"):
            continue
        for f in sorted(folder.iterdir(), key=lambda p: p.name):
            if f.name.endswith(".sql"):
                q = parse(folder.name, f.name, f.read_text(encoding="utf-8"))
                found[q.qualified_name] = q
    return found


def get(qualified_name: str) -> Query:
    try:
        return catalogue()[qualified_name]
    except KeyError:
        raise ConfigError(f"no query named {qualified_name!r} in opslib/queries") from None


@dataclass(frozen=True)
class QueryResult:
    query: Query
    frame: pd.DataFrame
    seconds: float


def run(conn: Connection, qualified_name: str, params: Mapping[str, Any] | None = None) -> QueryResult:
    """Run a named query with exactly its declared parameters; return a DataFrame."""
    q = get(qualified_name)
    given = dict(params or {})
    declared = {p.name for p in q.params}
    missing = declared - given.keys()
    unknown = given.keys() - declared
    if missing or unknown:
        raise ConfigError(
            f"query {qualified_name}: missing parameters {sorted(missing)}, unknown parameters {sorted(unknown)}"
        )
    started = time.perf_counter()
    try:
        result = conn.execute(sa.text(q.sql), given)
        frame = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    except sa.exc.DBAPIError as exc:
        if exc.connection_invalidated:  # not a failed query: the page cannot go on (exit 5)
            from opslib.db import went_away

            raise went_away(exc) from None
        if getattr(exc.orig, "sqlstate", None) == "55P03":  # lock_timeout: name the table and who holds it
            from opslib import lockwait

            raise lockwait.describe(conn.engine, qualified_name, q.sql) from None
        raise QueryFailed(f"query {qualified_name} failed: {_db_reason(exc)}") from None
    return QueryResult(q, frame, time.perf_counter() - started)


def _db_reason(exc: sa.exc.DBAPIError) -> str:
    orig = exc.orig
    diag = getattr(orig, "diag", None)
    primary = getattr(diag, "message_primary", None) if diag is not None else None
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate == "57014":
        return "statement timeout reached (the database took too long; narrow the window or retry)"
    return primary or str(orig).splitlines()[0]
