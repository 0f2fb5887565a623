"""Seeder connections and step timing."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import psycopg

from opslib.seed.staging import SEARCH_PATH

# Per-session settings of a seeding connection, each with its reason.
SESSION_SETTINGS = (
    # Triggers and FK checks off: we write exactly what the triggers would have written.
    "SET session_replication_role = replica",
    # A crash loses the demo data, which is recreated anyway; no fsync wait per statement.
    "SET synchronous_commit = off",
    # Hash joins and sorts of the staging queries stay in memory.
    "SET work_mem = '1GB'",
    # Index builds: sort runs of 64 MB merged beat one huge in-memory quicksort (cache misses),
    # measured ~10 % on the ledger's indexes; and no parallel workers: the two seeding
    # connections already keep both cores busy.
    "SET maintenance_work_mem = '64MB'",
    "SET max_parallel_maintenance_workers = 0",
    # One-shot statements: JIT compile time is never paid back.
    "SET jit = off",
    "SET TimeZone = 'UTC'",
    f"SET search_path = {SEARCH_PATH}",
)


def connect(url: str) -> psycopg.Connection:
    conn = psycopg.connect(url, autocommit=True, prepare_threshold=None, connect_timeout=5)
    for statement in SESSION_SETTINGS:
        conn.execute(statement)  # type: ignore[arg-type]  # constant text
    return conn


class Steps:
    """Runs named statements, timing each and reporting to the caller's progress callback."""

    def __init__(self, progress: Callable[[str], None] | None) -> None:
        self._progress = progress
        self._lock = threading.Lock()  # the lanes report from two threads
        self.timings: list[tuple[str, float]] = []

    def say(self, message: str) -> None:
        if self._progress is not None:
            with self._lock:
                self._progress(message)

    def run(self, conn: psycopg.Connection, name: str, action: Callable[[], object] | str) -> None:
        started = time.perf_counter()
        if isinstance(action, str):
            conn.execute(action)  # type: ignore[arg-type]  # generator SQL, no user input
        else:
            action()
        seconds = time.perf_counter() - started
        with self._lock:
            self.timings.append((name, seconds))
        self.say(f"{name}: {seconds:.2f} s")
