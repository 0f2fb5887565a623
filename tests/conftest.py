"""Shared fixtures: one embedded PostgreSQL per test session, fresh contract databases, seeded drills.

Everything runs against a real PostgreSQL over a real connection; nothing is mocked.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

# Before opslib.embedded is imported anywhere: this session's own cluster, never the user's.
_HOME = Path(tempfile.mkdtemp(prefix="opsbook-test-"))
os.environ["OPSBOOK_HOME"] = str(_HOME)
os.environ.pop("OPSBOOK_DATABASE_URL", None)
os.environ.pop("OPSBOOK_ACTION_DATABASE_URL", None)

from opslib import embedded  # noqa: E402

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"

# The seeded history ends "now" by default, so the hour of day varies between runs. Set this
# (ISO-8601 with offset) to replay a run at the hour it failed, or to sweep the hours.
_AS_OF = datetime.fromisoformat(os.environ["OPSBOOK_TEST_AS_OF"]) if os.environ.get("OPSBOOK_TEST_AS_OF") else None


@dataclass(frozen=True)
class ContractDB:
    name: str

    @property
    def admin(self) -> str:
        """psycopg (libpq) URL, superuser: for writing fixtures."""
        return embedded.libpq_url(self.name)

    @property
    def reader(self) -> str:
        """SQLAlchemy URL of the read-only page role."""
        return embedded.url(self.name, user=embedded.READER_ROLE)

    @property
    def actor(self) -> str:
        return embedded.url(self.name, user=embedded.ACTOR_ROLE)


@dataclass(frozen=True)
class SeededDB:
    db: ContractDB
    scenario: str
    as_of: datetime


@pytest.fixture(scope="session", autouse=True)
def embedded_server() -> Iterator[None]:
    import shutil

    embedded.start()
    yield
    embedded.stop()
    shutil.rmtree(_HOME, ignore_errors=True)


def _create(prefix: str, *, recommended_indexes: bool) -> ContractDB:
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    embedded.create_contract_database(name, replace=True, recommended_indexes=recommended_indexes)
    return ContractDB(name)


def _drop(db: ContractDB) -> None:
    import psycopg

    with psycopg.connect(embedded.libpq_url("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db.name}" WITH (FORCE)')


@pytest.fixture
def contract_db() -> Iterator[ContractDB]:
    """A fresh, empty database with exactly the app contract loaded (no extra index)."""
    db = _create("t", recommended_indexes=False)
    yield db
    _drop(db)


_SEEDED: dict[str, SeededDB] = {}


@pytest.fixture(scope="session")
def seeded():
    """seeded(scenario) -> SeededDB at scale 1, seeded once per scenario per session.

    The healthy baseline is seeded once, into a template database that keeps the seeder's
    scratch schema; each scenario is a copy of it (CREATE DATABASE ... TEMPLATE, a file copy)
    with its drill injected: one full seed per session however many drills the pages add.
    """
    from opslib.seed.runner import inject, seed_baseline

    baseline: list[tuple[ContractDB, object]] = []

    def get(scenario: str) -> SeededDB:
        if scenario not in _SEEDED:
            if not baseline:
                template = _create("tpl_baseline", recommended_indexes=True)  # as the demo has
                baseline.append((template, seed_baseline(template.admin, scale=1, as_of=_AS_OF)))
            template, base = baseline[0]
            db = ContractDB(f"s_{scenario[:20]}_{uuid.uuid4().hex[:8]}")
            _clone(template, db)
            report = inject(db.admin, base, scenario)  # type: ignore[arg-type]
            _SEEDED[scenario] = SeededDB(db, scenario, report.as_of)
        return _SEEDED[scenario]

    yield get
    for s in _SEEDED.values():
        _drop(s.db)
    for template, _ in baseline:
        _drop(template)


def _clone(template: ContractDB, target: ContractDB) -> None:
    import psycopg

    with psycopg.connect(embedded.libpq_url("postgres"), autocommit=True) as conn:
        # FILE_COPY: one checkpoint and a directory copy, much faster than WAL-logging every block of
        # a few hundred MB; it also carries the scratch schema's unlogged tables (flushed first).
        conn.execute(f'CREATE DATABASE "{target.name}" TEMPLATE "{template.name}" STRATEGY FILE_COPY')


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
