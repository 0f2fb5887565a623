"""Running one named query so that a failure is a value, not the end of the page (every domain page)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy.engine import Connection

from opslib import queries
from opslib.errors import QueryFailed


@dataclass(frozen=True)
class Fetched:
    """The frame of one query, or why there is none."""

    name: str
    frame: pd.DataFrame
    error: str | None
    seconds: float

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class QueryTiming:
    """How long one query took: collected for the evidence and the benchmark."""

    name: str
    seconds: float
    rows: int
    error: str | None = None


def fetch(conn: Connection, name: str, params: Mapping[str, Any]) -> Fetched:
    """Run the named query `<domain>.<name>` inside a savepoint.

    A failed statement aborts the whole transaction in PostgreSQL; rolling back to the
    savepoint keeps the read-only session usable for the page's next query.
    """
    started = time.perf_counter()
    try:
        with conn.begin_nested():
            result = queries.run(conn, name, params)
    except QueryFailed as exc:
        return Fetched(name, pd.DataFrame(), str(exc), time.perf_counter() - started)
    return Fetched(name, result.frame, None, result.seconds)


def timing(fetched: Fetched) -> QueryTiming:
    return QueryTiming(fetched.name, round(fetched.seconds, 4), len(fetched.frame), fetched.error)


def timings(*fetched: Fetched) -> tuple[QueryTiming, ...]:
    return tuple(timing(f) for f in fetched)
