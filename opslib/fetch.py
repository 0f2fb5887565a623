"""Running one named query so that a failure is a value, not the end of the page (every domain page)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
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


class SharedAnswers:
    """Answers of the steps a page starts together (Page.prefetch), by query and parameters.

    Steps are self-contained, so several ask the same question: the impact step re-reads what
    the funnel and the window's reconciliation measured. Started together, they share one
    answer (the reader sees one instant, not two a second apart) instead of running it twice.
    An answer older than max_age_s is measured again.
    """

    def __init__(self, max_age_s: float = 120.0) -> None:
        self.max_age_s = max_age_s
        self._lock = threading.Lock()
        self._answers: dict[tuple[Any, ...], tuple[float, Future[Fetched]]] = {}

    def get(self, key: tuple[Any, ...], measure: Callable[[], Fetched]) -> Fetched:
        with self._lock:
            known = self._answers.get(key)
            mine = known is None or time.monotonic() - known[0] > self.max_age_s
            if mine:
                known = (time.monotonic(), Future())
                self._answers[key] = known
        assert known is not None
        answer = known[1]
        if not mine:
            shared = answer.result()
            # no time spent here; a copy, so no step can change another's frame
            return replace(shared, frame=shared.frame.copy(), seconds=0.0)
        try:
            answer.set_result(measure())
        except BaseException as exc:
            answer.set_exception(exc)
            raise
        return answer.result()


_SHARED: ContextVar[SharedAnswers | None] = ContextVar("opsbook_shared_answers", default=None)


@contextmanager
def sharing(answers: SharedAnswers) -> Iterator[None]:
    """fetch() calls inside this block (in this thread) take and give answers from `answers`."""
    token = _SHARED.set(answers)
    try:
        yield
    finally:
        _SHARED.reset(token)


def _key(name: str, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
    try:
        key = (name, *sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in params.items()))
        hash(key)
    except TypeError:  # a parameter that cannot be compared safely: measure it on its own
        return None
    return key


def fetch(conn: Connection, name: str, params: Mapping[str, Any]) -> Fetched:
    """Run the named query `<domain>.<name>` inside a savepoint (or take the answer a step
    started together with this one already has: SharedAnswers)."""
    shared = _SHARED.get()
    key = _key(name, params) if shared is not None else None
    if shared is None or key is None:
        return _fetch(conn, name, params)
    return shared.get(key, lambda: _fetch(conn, name, params))


def _fetch(conn: Connection, name: str, params: Mapping[str, Any]) -> Fetched:
    """A failed statement aborts the whole transaction in PostgreSQL; rolling back to the
    savepoint keeps the read-only session usable for the page's next query."""
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
