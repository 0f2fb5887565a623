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

    baseline = _BASELINE

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


_BASELINE: list[tuple[ContractDB, object]] = []


@pytest.fixture(scope="module")
def own_drill(seeded):
    """own_drill(scenario) -> SeededDB: a private copy of the drill, for a test that writes to it
    (an action, a recovery). Cloned from the untouched baseline template and injected anew, so the
    shared drills stay as seeded and no other session's connection blocks the copy; dropped after."""
    from opslib.seed.runner import inject

    made: list[ContractDB] = []

    def get(scenario: str) -> SeededDB:
        seeded("healthy")  # the baseline template exists from here on
        template, base = _BASELINE[0]
        db = ContractDB(f"w_{scenario[:20]}_{uuid.uuid4().hex[:8]}")
        _clone(template, db)
        made.append(db)
        report = inject(db.admin, base, scenario)  # type: ignore[arg-type]
        return SeededDB(db, scenario, report.as_of)

    yield get
    for db in made:
        _drop(db)


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


# CI sets this so the report checks cannot be skipped silently (.ci/run): without Chromium or a
# Korean font they fail there; on a fresh developer machine they are skipped with the reason.
REQUIRE_REPORT_TOOLS = "OPSBOOK_REQUIRE_REPORT_TOOLS"


def require_or_skip(missing: str) -> None:
    """Skip (with the reason printed by pytest -ra) unless CI demands the tool, then fail."""
    if os.environ.get(REQUIRE_REPORT_TOOLS):
        pytest.fail(f"{missing}, and ${REQUIRE_REPORT_TOOLS} is set (CI): install it (.ci/run does)")
    pytest.skip(f"{missing}: install it to run this check (.ci/run installs it and makes it mandatory)")


def chromium_path() -> str:
    """The system Chromium for the report's browser test, or a skip (a fail under CI)."""
    import shutil

    found = os.environ.get("OPSBOOK_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        require_or_skip("no Chromium found (chromium or chromium-browser on PATH, or $OPSBOOK_CHROMIUM)")
    return str(found)
