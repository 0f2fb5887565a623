"""seed(): fill an empty contract database with the demo platform, then inject one incident.

1. Stage users (one connection) in a scratch schema.
2. Stage purchases and load every table from the staged rows: a task graph on two connections
   (the machine has two cores). Big tables are loaded without their indexes, which are rebuilt
   from the catalog's own definitions as soon as the table is complete; then it is analyzed.
3. Inject the scenario, ANALYZE the other tables, drop the scratch schema, record the run in
   opsbook_demo.seed_runs."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg.types.json import Jsonb

from opslib.errors import OpsbookError
from opslib.seed import commerce, community, indexes, ledger, people, staging, storage, telemetry, wallet, webhooks
from opslib.seed.plan import Plan
from opslib.seed.scenarios import SCENARIOS, ScenarioContext
from opslib.seed.session import Steps, connect
from opslib.seed.tasks import Task, TaskError, run

DEMO_SCHEMA = """
CREATE SCHEMA IF NOT EXISTS opsbook_demo;
CREATE TABLE IF NOT EXISTS opsbook_demo.seed_runs (
  scenario text, scale int, as_of timestamptz, seeded_at timestamptz, seconds float8, row_counts jsonb
);
-- the page role may read when the demo data ends (it measures up to then, not up to now)
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'opsbook_reader') THEN
    GRANT USAGE ON SCHEMA opsbook_demo TO opsbook_reader;
    GRANT SELECT ON opsbook_demo.seed_runs TO opsbook_reader;
  END IF;
END $$;
"""

# Loaded without indexes, then indexed (table -> the tasks that write it).
BULK_TABLES = {
    "public.wallet_ledger": ("wallet",),
    "public.wallet_transactions": ("wallet_transactions",),
    "public.dt_purchases": ("dt_purchases",),
    "public.pg_transactions": ("pg_transactions",),
    "public.payment_webhook_logs": ("payment_webhook_logs",),
    "logs.function_edge_logs": ("payment_webhook_logs", "logs.function_edge_logs"),
    "logs.function_logs": ("payment_webhook_logs", "logs.function_logs"),
    "logs.auth_logs": ("logs.auth_logs",),
    "logs.edge_logs": ("logs.edge_logs", "storage uploads", "storage reads"),
}

# Tables reported in SeedReport.row_counts (everything the seeder writes).
COUNTED_TABLES = (
    "auth.users",
    "auth.identities",
    "auth.sessions",
    "auth.audit_log_entries",
    "auth.refresh_tokens",
    "public.user_profiles",
    "public.wallet_accounts",
    "public.dt_packages",
    "public.dt_purchases",
    "public.refunds",
    "public.wallet_transactions",
    "public.wallet_ledger",
    "public.payment_webhook_logs",
    "public.pg_transactions",
    "public.reconciliation_runs",
    "public.reconciliation_items",
    "public.idempotency_keys",
    "public.messages",
    "public.message_delivery",
    "public.subscriptions",
    "public.funding_campaigns",
    "public.funding_pledges",
    "public.banners",
    "public.ops_audit_log",
    "public.admin_audit_log",
    "logs.function_edge_logs",
    "logs.function_logs",
    "logs.auth_logs",
    "logs.edge_logs",
    "logs.realtime_logs",
    "cron.job_run_details",
    "net._http_response",
    "storage.objects",
)


class SeedError(OpsbookError):
    """The database cannot be seeded (not a contract database, not empty, not superuser, ...)."""


@dataclass(frozen=True)
class SeedReport:
    scenario: str
    scale: int
    as_of: datetime
    seconds: float
    row_counts: dict[str, int]


def seed(
    libpq_url: str,
    *,
    scale: int = 1,
    scenario: str = "healthy",
    as_of: datetime | None = None,
    days: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> SeedReport:
    """Fill an empty contract database with `scale` units of demo data ending at as_of, plus one drill.

    progress, if given, receives one line per step (from worker threads, one at a time).
    On failure the database is left half-written: recreate it before seeding again.
    """
    if scenario not in SCENARIOS:
        raise SeedError(f"unknown scenario {scenario!r}; known: {', '.join(sorted(SCENARIOS))}")
    baseline = seed_baseline(libpq_url, scale=scale, as_of=as_of, days=days, progress=progress)
    return inject(libpq_url, baseline, scenario, progress=progress)


@dataclass(frozen=True)
class Baseline:
    """A database holding the healthy baseline and the seeder's scratch schema, not yet given a drill.

    A copy of it (CREATE DATABASE ... TEMPLATE) takes any drill through inject(): the test suite
    seeds the baseline once and clones it for every scenario instead of seeding each from scratch.
    """

    plan: Plan
    seconds: float


def seed_baseline(
    libpq_url: str,
    *,
    scale: int = 1,
    as_of: datetime | None = None,
    days: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> Baseline:
    """The healthy platform, with the scratch schema kept for inject()."""
    plan = Plan.make(scale, as_of, days)
    steps = Steps(progress)
    started = time.perf_counter()
    with connect(libpq_url) as conn:
        _preflight(conn)
        steps.say(f"seeding scale {plan.scale}, {plan.days} days, as_of {plan.as_of.isoformat()}")
        _stage(conn, plan, steps)
        graph = _graph(conn, plan)
    try:
        run(libpq_url, graph, steps)
    except TaskError as error:
        raise SeedError(f"seeding failed, the database is half-written (recreate it): {error}") from error
    return Baseline(plan, time.perf_counter() - started)


def inject(
    libpq_url: str, baseline: Baseline, scenario: str, *, progress: Callable[[str], None] | None = None
) -> SeedReport:
    """Inject one drill into a baseline (or a copy of one), drop the scratch schema, analyze, record."""
    if scenario not in SCENARIOS:
        raise SeedError(f"unknown scenario {scenario!r}; known: {', '.join(sorted(SCENARIOS))}")
    plan = baseline.plan
    steps = Steps(progress)
    started = time.perf_counter()
    with connect(libpq_url) as conn:
        ctx = ScenarioContext(plan.scale, plan.as_of, plan.incident_start)
        steps.run(conn, f"scenario {scenario}", lambda: SCENARIOS[scenario].inject(conn, ctx))
        steps.run(conn, "drop scratch schema", lambda: staging.drop(conn))
    _analyze(libpq_url, steps)
    counts = _count(libpq_url)
    seconds = baseline.seconds + time.perf_counter() - started
    with connect(libpq_url) as conn:
        conn.execute(DEMO_SCHEMA)
        conn.execute(_demo_migrations())  # type: ignore[arg-type]  # trusted files shipped with the package
        conn.execute(
            "INSERT INTO opsbook_demo.seed_runs VALUES (%s, %s, %s, now(), %s, %s)",
            (scenario, plan.scale, plan.as_of, seconds, Jsonb(counts)),
        )
    steps.say(f"done in {seconds:.1f} s: {counts['public.wallet_ledger']:,} ledger rows")
    return SeedReport(scenario, plan.scale, plan.as_of, seconds, counts)


def _demo_migrations() -> str:
    """Demo-only objects beyond the contract (each file says why and what production needs instead)."""
    from importlib import resources

    return (resources.files("opslib") / "sql" / "demo_admin_publish_flag.sql").read_text(encoding="utf-8")


def _preflight(conn: psycopg.Connection) -> None:
    row = conn.execute(
        "SELECT to_regclass('public.wallet_ledger') IS NOT NULL AND to_regclass('logs.function_edge_logs') IS NOT NULL,"
        " (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)"
    ).fetchone()
    assert row is not None
    if not row[0]:
        raise SeedError("this database has no app contract: create it with opslib.embedded.create_contract_database()")
    if not row[1]:
        raise SeedError("seeding needs a superuser connection (it writes with triggers off)")
    found = conn.execute(
        "SELECT EXISTS (SELECT 1 FROM auth.users) OR EXISTS (SELECT 1 FROM public.dt_purchases)"
        " OR EXISTS (SELECT 1 FROM public.wallet_transactions) OR EXISTS (SELECT 1 FROM public.dt_packages)"
        " OR to_regclass('opsbook_demo.seed_runs') IS NOT NULL"
    ).fetchone()
    assert found is not None
    if found[0]:
        raise SeedError(
            "this database already has app data (users, packages, purchases or a previous seed run):"
            " seed only a freshly created contract database (create_contract_database(name, replace=True))"
        )


def _stage(conn: psycopg.Connection, plan: Plan, steps: Steps) -> None:
    steps.run(conn, "scratch schema", lambda: staging.create(conn, plan))
    steps.run(conn, "dt_packages", lambda: commerce.insert_packages(conn))
    steps.run(conn, "stage packages", staging.STAGE_PACKAGES)
    steps.run(conn, "stage users", staging.STAGE_USERS)


def _graph(conn: psycopg.Connection, plan: Plan) -> list[Task]:
    """Every load step with what it waits for, in priority order (the long chain first).

    Big tables are loaded without their indexes; each index is rebuilt once its table is
    complete, and the table is analyzed once its indexes exist.
    """
    drops: list[str] = []
    rebuilds: list[Task] = []
    analyzes: list[Task] = []
    for table, writers in BULK_TABLES.items():
        names = []
        for name, create, drop in indexes.definitions(conn, table):
            drops.append(drop)
            rebuilds.append(Task(f"index {name}", create, writers))
            names.append(f"index {name}")
        analyzes.append(Task(f"ANALYZE {table}", f"ANALYZE {table}", (*writers, *names)))
    # the wallet's indexes are the biggest: first in line once the wallet is written
    first = [t for t in rebuilds if t.after[0].startswith("wallet")]
    later = [t for t in rebuilds if not t.after[0].startswith("wallet")]
    wallet_book = ledger.Wallet(plan)
    staged = "stage purchases"
    return [
        Task(staged, staging.STAGE_PURCHASES),
        Task("drop bulk indexes", ";\n".join(drops)),
        Task("wallet_accounts", people.ACCOUNTS),
        # the ledger first (the critical path), its transactions on whichever connection is free next
        Task("wallet", wallet_book.write_ledger, (staged, "wallet_accounts", "drop bulk indexes")),
        Task("wallet_transactions", wallet_book.write_transactions, ("wallet",)),
        Task("stage webhook deliveries", webhooks.STAGE_BASELINE, (staged,)),
        Task(
            "payment_webhook_logs",
            lambda c: webhooks.insert(c, "s_deliveries"),
            ("stage webhook deliveries", "drop bulk indexes"),
        ),
        Task("dt_purchases", commerce.PURCHASES, (staged, "drop bulk indexes")),
        Task("pg_transactions", commerce.PG_TRANSACTIONS, (staged, "drop bulk indexes")),
        *first,
        Task("ledger identity", wallet.SYNC_IDENTITY, ("wallet",)),
        Task("messages", community.MESSAGES),
        Task("message_delivery", community.DELIVERIES, ("messages", "wallet")),
        Task("subscriptions", community.SUBSCRIPTIONS, ("wallet",)),
        Task("message_delivery (subscribers)", community.SUBSCRIBER_DELIVERIES, ("message_delivery", "subscriptions")),
        Task("funding_campaigns", community.CAMPAIGNS, ("wallet",)),
        Task("funding_pledges", community.PLEDGES, ("wallet",)),
        *[Task(name, sql) for name, sql in people.STEPS],
        Task("refunds", commerce.REFUNDS, (staged,)),
        Task("reconciliation_runs", commerce.RECONCILIATION_RUNS, (staged,)),
        Task("reconciliation_items", commerce.RECONCILIATION_ITEMS, ("reconciliation_runs",)),
        Task("idempotency_keys", commerce.IDEMPOTENCY_KEYS, ("payment_webhook_logs", "refunds")),
        Task("logs.function_edge_logs", telemetry.OTHER_FUNCTIONS, (staged, "drop bulk indexes")),
        Task("logs.function_logs", telemetry.OTHER_CONSOLE, ("logs.function_edge_logs",)),
        Task("logs.auth_logs", telemetry.AUTH_LOGS, ("drop bulk indexes",)),
        Task("audit logins", telemetry.AUDIT_LOGINS, ("logs.auth_logs", "auth.users")),
        Task("logs.edge_logs", telemetry.API_LOGS, ("drop bulk indexes",)),
        Task("logs.realtime_logs", telemetry.REALTIME_LOGS),
        Task("cron.job_run_details", telemetry.CRON_RUNS),
        Task("net._http_response", telemetry.NET_RESPONSES, ("cron.job_run_details",)),
        Task("banners", community.BANNERS),
        Task("storage.objects", storage.OBJECTS, ("messages", "banners")),
        Task("storage uploads", storage.UPLOADS, ("drop bulk indexes",)),
        Task("storage reads", storage.AUTHENTICATED_READS, ("drop bulk indexes",)),
        Task("ops_audit_log", community.OPS_AUDIT, ("reconciliation_runs", "refunds")),
        Task("admin_audit_log", community.ADMIN_AUDIT, ("refunds", "banners")),
        *later,
        *analyzes,
    ]


def _analyze(url: str, steps: Steps) -> None:
    """ANALYZE the tables the graph did not (the bulk ones were analyzed as soon as they were indexed;
    a drill changes a few dozen of their rows, not their statistics), split over two connections."""
    rest = [t for t in COUNTED_TABLES if t not in BULK_TABLES]
    parts = [rest[::2], rest[1::2]]

    def analyze(tables: list[str]) -> None:
        with connect(url) as conn:
            steps.run(conn, f"ANALYZE {len(tables)} tables", "ANALYZE " + ", ".join(tables))

    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(analyze, parts))


def _count(url: str) -> dict[str, int]:
    with connect(url) as conn:
        sql = " UNION ALL ".join(f"SELECT '{t}', count(*) FROM {t}" for t in COUNTED_TABLES)
        return {name: int(n) for name, n in conn.execute(sql).fetchall()}  # type: ignore[arg-type]
