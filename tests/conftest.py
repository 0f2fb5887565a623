"""Shared fixtures: one embedded PostgreSQL per test session, fresh contract databases, seeded drills.

Everything runs against a real PostgreSQL over a real connection; nothing is mocked.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

# Before opslib.embedded is imported anywhere: this session's own cluster, never the user's. Under
# pytest-xdist the workers of one run share it (one server, one seeded baseline per test session):
# the run's id names the home, and the last worker out stops the server.
_RUN_ID = os.environ.get("PYTEST_XDIST_TESTRUNUID")
if _RUN_ID:
    _HOME = Path(tempfile.gettempdir()) / f"opsbook-test-{_RUN_ID[:16]}"
    _HOME.mkdir(exist_ok=True)
else:
    _HOME = Path(tempfile.mkdtemp(prefix="opsbook-test-"))
os.environ["OPSBOOK_HOME"] = str(_HOME)
os.environ.pop("OPSBOOK_DATABASE_URL", None)
os.environ.pop("OPSBOOK_ACTION_DATABASE_URL", None)

from opslib import embedded  # noqa: E402

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"

# The seeded history ends "now" by default, so the hour of day varies between runs. Set this
# (ISO-8601 with offset) to replay a run at the hour it failed, or to sweep the hours.
_AS_OF = datetime.fromisoformat(os.environ["OPSBOOK_TEST_AS_OF"]) if os.environ.get("OPSBOOK_TEST_AS_OF") else None


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under pytest-xdist (--dist loadgroup, pyproject's addopts) a module's tests stay on one worker,
    so a module fixture (one papermill run shared by many assertions) runs once; the modules marked
    `demo_database` share a worker, since they drop, seed and read the embedded default database."""
    for item in items:
        if item.get_closest_marker("xdist_group"):
            continue
        group = "demo_database" if item.get_closest_marker("demo_database") else item.nodeid.split("::")[0]
        item.add_marker(pytest.mark.xdist_group(group))


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


@contextmanager
def _session_lock(name: str) -> Iterator[None]:
    """A lock shared by the workers of this test run (a no-op contention-wise without xdist)."""
    with open(_HOME / f".{name}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _count_workers(delta: int) -> int:
    counter = _HOME / ".workers"
    n = (int(counter.read_text()) if counter.exists() else 0) + delta
    counter.write_text(str(n))
    return n


@pytest.fixture(scope="session", autouse=True)
def embedded_server() -> Iterator[None]:
    import shutil

    with _session_lock("server"):
        _count_workers(+1)
        embedded.start()
    yield
    with _session_lock("server"):
        if _count_workers(-1) == 0:
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
    from opslib.seed.runner import inject

    baseline = _BASELINE

    def get(scenario: str) -> SeededDB:
        if scenario not in _SEEDED:
            if not baseline:
                baseline.append(_shared_baseline())
            template, base = baseline[0]
            db = ContractDB(f"s_{scenario[:20]}_{uuid.uuid4().hex[:8]}")
            _clone(template, db)
            report = inject(db.admin, base, scenario)  # type: ignore[arg-type]
            _SEEDED[scenario] = SeededDB(db, scenario, report.as_of)
        return _SEEDED[scenario]

    yield get
    for s in _SEEDED.values():
        _drop(s.db)
    # the template is the run's, shared by the workers: it goes with the server


def _shared_baseline() -> tuple[ContractDB, object]:
    """The healthy baseline, seeded once per test run into a template (the first worker to need it
    seeds it; the others wait for it and read what it wrote)."""
    import pickle

    from opslib.seed.runner import seed_baseline

    stored = _HOME / "baseline.pickle"
    with _session_lock("baseline"):
        if stored.exists():
            return pickle.loads(stored.read_bytes())
        template = _create("tpl_baseline", recommended_indexes=True)  # as the demo has
        made = (template, seed_baseline(template.admin, scale=1, as_of=_AS_OF))
        stored.write_bytes(pickle.dumps(made))
        return made


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


@contextmanager
def report_in_chromium(html: Path, width: int = 1280, height: int = 1000) -> Iterator[Any]:
    """An HTML report opened in headless Chromium (Playwright) once its network is idle: the page to query."""
    from playwright.sync_api import sync_playwright

    chromium = chromium_path()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": width, "height": height})
        page.goto(html.as_uri())
        page.wait_for_load_state("networkidle")
        yield page


@contextmanager
def volume_database(prefix: str, sql: str, *, triggers: bool = True) -> Iterator[str]:
    """A database holding exactly the contract, filled by `sql` and analysed, for the EXPLAIN class tests.

    triggers=False loads with the contract's triggers off (session_replication_role = replica), for bulk
    rows the triggers would refuse or rewrite. Yields its name; dropped after.
    """
    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    embedded.create_contract_database(name, replace=True, recommended_indexes=False)
    try:
        with psycopg.connect(embedded.libpq_url(name), autocommit=True) as conn:
            if not triggers:
                conn.execute("SET session_replication_role = replica")
            conn.execute(sql)  # type: ignore[arg-type]  # the test module's constant
            if not triggers:
                conn.execute("SET session_replication_role = origin")
            conn.execute("ANALYZE")
        yield name
    finally:
        with psycopg.connect(embedded.libpq_url("postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[arg-type]
