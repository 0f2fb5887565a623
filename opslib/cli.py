"""`opsbook`: run runbook pages, the embedded demo database, and guarded actions.

Heavy imports (papermill, pandas, the seeder) happen inside the commands so that
`--help` answers at once.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

EPILOG = """\
exit codes: 0 PASS · 1 FAIL (P0/P1 found: mitigate, declare in #ops-incidents) · 2 usage error ·
3 CONDITIONAL_PASS (1-2 P2/P3 issues) · 4 ERROR (could not judge; bundle kept) · 5 database unreachable,
stopped or gone mid-run · 6 evidence could not be written (disk full or read-only, --out a file) ·
130/143 interrupted by SIGINT/SIGTERM (partial bundle kept, ERROR) · 141 stdout closed

database: --database-url, else $OPSBOOK_DATABASE_URL, else the embedded demo database
(`opsbook db start`). Actions use $OPSBOOK_ACTION_DATABASE_URL (separate credentials).
"""


# The guarded write actions (opslib.actions registers them; named here so the CLI needs no import).
ACTION_NAMES = (
    "payments-kill-switch",
    "payments-maintenance-banner",
    "auth-login-notice",
    "cron-run-job-once",
    "cron-pause-job",
    "messages-kill-switch",
    "messages-notice-banner",
    "trigger-scheduled-dispatcher",
    "release-stuck-messages",
    "storage-bucket-private",
    "admin-publish-block",
    "admin-role-restore",
)


def _exit_codes():  # -> type[ExitCode]
    from opslib.runner import ExitCode

    return ExitCode


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(2, f"opsbook: error: {message} (see `{self.prog} --help`)\n")

    def parse_args(self, args=None, namespace=None):  # type: ignore[no-untyped-def, override]
        # argparse reports unknown options from the top-level parser, with the top-level usage:
        # `opsbook run payments --bogus` should show `run`'s usage instead.
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            owner = getattr(parsed, "_parser", None) or self
            owner.error(f"unrecognized arguments: {' '.join(extras)}")
        return parsed


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="opsbook",
        description="Executable on-call runbook pages (OPS_RUNBOOK.md): measure, decide, leave evidence.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    _remember_parsers(sub)

    run = sub.add_parser(
        "run",
        help="execute a runbook page and write its evidence bundle",
        description="Execute a runbook notebook headlessly (papermill) and write evidence/<run-id>/: "
        "executed .ipynb, .html report, result.json, manifest.json.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument("runbook", help=f"the page to run: {_runbook_ids()} (parameters: `opsbook list`)")
    run.add_argument(
        "-p",
        "--parameter",
        nargs=2,
        action="append",
        default=[],
        metavar=("NAME", "VALUE"),
        help="set a notebook parameter (repeatable), e.g. -p window_minutes 30",
    )
    run.add_argument("-f", "--parameters-file", metavar="YAML", help="parameters from a YAML file (no secrets)")
    run.add_argument("--database-url", metavar="URL", help="PostgreSQL URL of the app database (read-only role)")
    run.add_argument(
        "--out", default="evidence", metavar="DIR", help="where run folders are written (default: ./evidence)"
    )
    run.add_argument("--wi", metavar="WI-ID", help="work item id to attach the evidence to, e.g. WI-042")
    run.add_argument(
        "--cell-timeout", type=int, default=300, metavar="S", help="stop a cell after S seconds (default 300)"
    )
    run.add_argument("--quiet", action="store_true", help="no progress bar")

    watch = sub.add_parser(
        "watch",
        help="run the alert board every N minutes: one line per run, every transition, optional Slack",
        description="Run the alert board (`opsbook run alerts`) every --interval minutes until stopped: one line "
        "per run, each metric crossing into WARN/P0 and back, every run's bundle kept. Ctrl-C or SIGTERM stops it "
        "(exit 130/143). With --notify-slack, a metric turning P0/P1 is posted to the incoming webhook in "
        "$OPSBOOK_SLACK_WEBHOOK_URL (never printed).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    watch.add_argument("--interval", type=float, default=5.0, metavar="MIN", help="minutes between runs (default 5)")
    watch.add_argument("--count", type=int, default=0, metavar="N", help="stop after N runs (default 0: until stopped)")
    watch.add_argument(
        "-p",
        "--parameter",
        nargs=2,
        action="append",
        default=[],
        metavar=("NAME", "VALUE"),
        help="a board parameter (repeatable), e.g. -p window_minutes 15",
    )
    watch.add_argument("-f", "--parameters-file", metavar="YAML", help="board parameters from a YAML file")
    watch.add_argument("--database-url", metavar="URL", help="PostgreSQL URL of the app database (read-only role)")
    watch.add_argument("--out", default="evidence", metavar="DIR", help="where run folders are written")
    watch.add_argument("--wi", metavar="WI-ID", help="work item id the next page's command carries")
    watch.add_argument("--cell-timeout", type=int, default=300, metavar="S", help="stop a cell after S seconds")
    watch.add_argument(
        "--notify-slack",
        action="store_true",
        help="opt-in: post metrics turning P0/P1 to the Slack incoming webhook in $OPSBOOK_SLACK_WEBHOOK_URL",
    )

    demo = sub.add_parser(
        "demo",
        help="start the embedded database, seed it with an incident, run the payments page",
        description="Start the embedded PostgreSQL, load the app contract, seed realistic data with one "
        "injected incident, execute the payments page and print what it found.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    demo.add_argument(
        "--out", default="evidence", metavar="DIR", help="where run folders are written (default: ./evidence)"
    )
    demo.add_argument(
        "--scenario",
        default=None,
        help="incident to inject (see `opsbook db scenarios`; default: the runbook's first drill, "
        "webhook_secret_mismatch for payments, dispatcher_secret_mismatch for messaging)",
    )
    demo.add_argument(
        "--runbook",
        default=None,
        help="page to run (default: the page the scenario is a drill of; payments for healthy)",
    )
    demo.add_argument(
        "--scale", type=int, default=10, help="data volume multiplier (default 10: hundreds of thousands of rows)"
    )

    sub.add_parser("list", help="list the runbook pages and their parameters", description="List runbook pages.")

    verify = sub.add_parser(
        "verify", help="check a run folder against its manifest", description="Verify SHA-256 of a bundle."
    )
    verify.add_argument("folder", help="a run folder written by `opsbook run`")

    dbp = sub.add_parser("db", help="the embedded demo PostgreSQL", description="Manage the embedded PostgreSQL.")
    dbsub = dbp.add_subparsers(dest="db_command", metavar="ACTION", parser_class=_Parser)
    dbsub.required = True
    _remember_parsers(dbsub)
    dbsub.add_parser(
        "start",
        help="start it (initialise and load the contract on first use); safe twice",
        description="Start the embedded PostgreSQL (data under $OPSBOOK_HOME or the user data dir; Unix socket only, "
        "no TCP). The first start initialises it and creates the opsbook_demo database with the app contract.",
    )
    dbsub.add_parser(
        "stop",
        help="stop it",
        description="Stop the embedded PostgreSQL. Its data stays on disk for the next `opsbook db start`.",
    )
    dbsub.add_parser(
        "status",
        help="is it running, where is its data",
        description="Say whether the embedded PostgreSQL runs, its pid and data directory (exit 0 running, 1 stopped).",
    )
    url = dbsub.add_parser(
        "url",
        help="print the connection URL (no password: local socket, trust)",
        description="Print the SQLAlchemy URL of the embedded demo database, for JupyterLab or psql "
        "(drop '+psycopg' for psql). Local socket with trust authentication: no password exists.",
    )
    url.add_argument(
        "--role",
        choices=["reader", "admin"],
        default="reader",
        help="reader (pages) or admin (seed); actions use opsbook_actor",
    )
    seed = dbsub.add_parser(
        "seed",
        help="recreate the demo database and fill it with realistic data",
        description="Drop and recreate opsbook_demo, load the contract, and fill it with weeks of realistic data "
        "(bulk-loaded in SQL) with one incident scenario injected on top of the healthy baseline.",
    )
    seed.add_argument("--scenario", default="healthy", help="incident to inject (default healthy)")
    seed.add_argument(
        "--scale",
        type=int,
        default=1,
        help="data volume multiplier (1: seconds; 10: the demo, 3.6 M ledger rows; 28: 10 M ledger rows)",
    )
    seed.add_argument(
        "--days",
        type=int,
        default=None,
        help="days of history (default 14); more days at the same scale make bigger tables with equally busy hours",
    )
    dbsub.add_parser(
        "scenarios",
        help="list the incident scenarios and their ground truth",
        description="List the incident drills: what each injects, the pipeline stage it breaks and the findings "
        "(check, severity) the payments page must raise: exactly these, no other problem (the drill test asserts it).",
    )

    act = sub.add_parser(
        "action",
        help="guarded write actions (dry-run unless --confirm)",
        description="Runbook mitigations that write. Dry-run by default: shows the exact before/after. "
        "Executes only with --confirm <action-name>, writing the audit row in the same transaction.",
    )
    act.add_argument("name", help="action name: " + " | ".join(ACTION_NAMES))
    act.add_argument("--confirm", metavar="NAME", help="repeat the action name to execute it for real")
    act.add_argument("--reason", default="", help="why (goes into the audit row)")
    act.add_argument("--wi", metavar="WI-ID", default="", help="work item id for the audit row")
    act.add_argument("--operator", default="", help="who is acting (admin user id or name) for the audit row")
    act.add_argument("--undo", action="store_true", help="reverse the action (kill switch back on / banner off)")
    act.add_argument(
        "--target",
        default="",
        help="what the action acts on (cron: job name; storage: bucket id; admin-role-restore: user id)",
    )
    act.add_argument(
        "-o",
        "--option",
        nargs=2,
        action="append",
        default=[],
        metavar=("NAME", "VALUE"),
        help="an action's own input, e.g. -o lock_age_minutes 15 (release-stuck-messages), -o batch 200",
    )
    act.add_argument(
        "--database-url",
        metavar="URL",
        help="action credentials (default $OPSBOOK_ACTION_DATABASE_URL; without either, the embedded demo "
        "database, and only when $OPSBOOK_DATABASE_URL is not set)",
    )
    from opslib.gates.commands import add_parsers as add_gate_parsers

    add_gate_parsers(sub)  # lint-migrations, check-branch, check-pr (no database)
    return p


def _runbook_ids() -> str:
    """'payments (§3-A) | cron (§3-F) | ...': at 3 a.m. `opsbook run --help` names the pages itself."""
    from opslib.runbooks import RUNBOOKS  # light: no notebook is read

    return " | ".join(f"{rb.id} ({rb.section})" for rb in RUNBOOKS.values())


def _remember_parsers(subparsers: argparse._SubParsersAction) -> None:
    """Each subcommand's parser records itself in the namespace (for its own usage on errors)."""
    add = subparsers.add_parser

    def add_parser(name: str, **kwargs):  # type: ignore[no-untyped-def]
        parser = add(name, **kwargs)
        parser.set_defaults(_parser=parser)
        return parser

    subparsers.add_parser = add_parser  # type: ignore[method-assign]


def main(argv: Sequence[str] | None = None) -> int:
    try:
        code = _main(argv)
        sys.stdout.flush()  # here, not at interpreter exit, so a closed pipe is caught below
        return code
    except BrokenPipeError:
        _quiet_stdout()
        return 141  # 128 + SIGPIPE, as a shell reports a command killed by it


def _quiet_stdout() -> None:
    """`opsbook run ... | head -2`: the reader left. Point stdout at /dev/null so that nothing
    else (the interpreter's final flush included) raises BrokenPipeError."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def _main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from opslib.gates import commands as gates

    if args.command in gates.COMMANDS:
        return gates.run(args)
    from opslib.errors import ConfigError, DatabaseUnavailable, EvidenceUnwritable, OpsbookError

    codes = _exit_codes()
    try:
        handler = {
            "run": _cmd_run,
            "demo": _cmd_demo,
            "list": _cmd_list,
            "verify": _cmd_verify,
            "db": _cmd_db,
            "action": _cmd_action,
            "watch": _cmd_watch,
        }[args.command]
        return int(handler(args))
    except ConfigError as exc:
        print(f"opsbook: error: {exc}", file=sys.stderr)
        return int(codes.USAGE)
    except DatabaseUnavailable as exc:
        print(f"opsbook: error: {exc}", file=sys.stderr)
        return int(codes.DATABASE_UNAVAILABLE)
    except EvidenceUnwritable as exc:
        print(f"opsbook: error: {exc}", file=sys.stderr)
        return int(codes.EVIDENCE_UNWRITABLE)
    except OpsbookError as exc:
        print(f"opsbook: error: {exc}", file=sys.stderr)
        return int(codes.ERROR)
    except KeyboardInterrupt:
        print("opsbook: interrupted", file=sys.stderr)
        return int(codes.INTERRUPTED)


def _check_cell_timeout(seconds: int) -> None:
    """0 or less reached nbclient as 'no timeout': a hung query would hold the page for ever, silently."""
    if seconds < 1:
        from opslib.errors import ConfigError

        raise ConfigError(f"--cell-timeout {seconds} must be a positive number of seconds (default 300)")


def _cmd_run(args: argparse.Namespace) -> int:
    from opslib import runbooks, runner

    _check_cell_timeout(args.cell_timeout)
    given: dict[str, object] = {}
    if args.parameters_file:
        given.update(runbooks.load_parameter_file(args.parameters_file))
    for name, value in args.parameter:
        given[name] = value
    result = runner.run(
        args.runbook,
        given,
        database_url=args.database_url,
        out_dir=Path(args.out),
        wi_id=args.wi,
        cell_timeout=args.cell_timeout,
        progress=not args.quiet and sys.stderr.isatty(),
    )
    try:
        runner.print_summary(result)
        sys.stdout.flush()
    except BrokenPipeError:  # the run finished and its bundle is sealed: its exit code still stands
        _quiet_stdout()
    return int(result.exit_code)


def _cmd_watch(args: argparse.Namespace) -> int:
    from opslib import runbooks, runner
    from opslib.alerts import watch
    from opslib.errors import ConfigError

    interval_s = watch.check_interval(args.interval)
    _check_cell_timeout(args.cell_timeout)
    if args.count < 0:
        raise ConfigError("--count must be 0 (until stopped) or a positive number of runs")
    given: dict[str, object] = {}
    if args.parameters_file:
        given.update(runbooks.load_parameter_file(args.parameters_file))
    for name, value in args.parameter:
        given[name] = value
    runner.prepare("alerts", given, database_url=args.database_url, wi_id=args.wi)  # bad input: refused now
    notify = None
    if args.notify_slack:
        url = watch.slack_url()
        if url is None:
            raise ConfigError(
                f"--notify-slack needs ${watch.SLACK_ENV} (a Slack incoming-webhook URL) in the environment"
            )

        def notify(text: str) -> str | None:
            return watch.notify_slack(url, text)

    def run_once() -> runner.RunResult:
        return runner.run(
            "alerts",
            given,
            database_url=args.database_url,
            out_dir=Path(args.out),
            wi_id=args.wi,
            cell_timeout=args.cell_timeout,
        )

    def emit(line: str) -> None:
        print(line, flush=True)

    every = f"{args.interval:g}분마다" if args.interval else "쉬지 않고"
    most = f"최대 {args.count}회, " if args.count else ""
    emit(f"watch: 알림 보드를 {every} 실행합니다 ({most}Ctrl-C로 중지)")
    return watch.loop(run_once, interval_s=interval_s, count=args.count, emit=emit, notify=notify)


# The drill `opsbook demo --runbook <id>` shows when no --scenario is given.
DEMO_SCENARIOS = {"payments": "webhook_secret_mismatch", "messaging": "dispatcher_secret_mismatch"}


def _cmd_demo(args: argparse.Namespace) -> int:
    import time

    from opslib import db, embedded, runner
    from opslib.errors import ConfigError
    from opslib.runbooks import RUNBOOKS
    from opslib.seed import seed
    from opslib.seed.scenarios import SCENARIOS

    if args.runbook is not None and args.runbook not in RUNBOOKS:
        raise ConfigError(f"unknown runbook {args.runbook!r}: choose one of {', '.join(RUNBOOKS)}")
    if args.runbook == "smoke":
        raise ConfigError(
            "the smoke page tests a running web app, not a seeded database: "
            "opsbook run smoke -p base_url <app> -p test_email <account> (password in $OPSBOOK_SMOKE_PASSWORD)"
        )
    if args.scenario is None:
        args.scenario = DEMO_SCENARIOS.get(args.runbook or "payments", "healthy")
    if args.scenario not in SCENARIOS:
        raise ConfigError(f"unknown scenario {args.scenario!r}: choose one of {', '.join(SCENARIOS)}")
    drill_of = SCENARIOS[args.scenario].runbook
    runbook = args.runbook or (drill_of if drill_of in RUNBOOKS else "payments")
    if db.configured_url():
        print(f"note: {db.ENV_URL} is set; the demo still uses its own embedded database", file=sys.stderr)
    t0 = time.perf_counter()
    print("starting the embedded PostgreSQL ...", flush=True)
    with embedded.seed_lock("seeding the demo database (`opsbook demo`)"):
        embedded.create_contract_database(embedded.DEFAULT_DATABASE, replace=True)
        print(f"seeding scale {args.scale} with scenario {args.scenario} ...", flush=True)
        from opslib.seed.progress import PhaseProgress

        report = seed(
            embedded.libpq_url(embedded.DEFAULT_DATABASE),
            scale=args.scale,
            scenario=args.scenario,
            progress=PhaseProgress(),
        )
    rows = sum(report.row_counts.values())
    print(f"seeded {rows:,} rows in {report.seconds:.1f} s (data up to {report.as_of.isoformat()})", flush=True)
    print(f"running the {runbook} page ...", flush=True)
    reader = embedded.url(embedded.DEFAULT_DATABASE, user=embedded.READER_ROLE)
    result = runner.run(runbook, {"until": report.as_of.isoformat()}, database_url=reader, out_dir=Path(args.out))
    runner.print_summary(result)
    # a drill of another page has nothing this page must find
    expected = SCENARIOS[args.scenario].expected if drill_of == runbook else ()
    fired = {(f.check, f.subject) for f in result.findings if f.outcome.is_problem}
    missed = [e for e in expected if not any(c == e.check and (e.subject is None or s == e.subject) for c, s in fired)]
    if runbook == "alerts" and drill_of != "healthy" and drill_of not in _board_pages(result.folder):
        missed.append(SCENARIOS[args.scenario].expected[0])  # the board must send the engineer to the drill's page
    print(f"demo finished in {time.perf_counter() - t0:.1f} s")
    if result.verdict.value == "ERROR":
        return int(result.exit_code)
    if missed:
        print(f"the page missed the injected incident: {', '.join(e.check for e in missed)}", file=sys.stderr)
        return int(runner.ExitCode.ERROR)
    print(
        f"the page found the injected incident ({args.scenario}). Open the report above, or step through "
        f"notebooks/{runbook}.ipynb in JupyterLab (`.venv/bin/jupyter lab notebooks/{runbook}.ipynb`)."
    )
    return 0


def _board_pages(folder: Path) -> list[str]:
    """The pages the alert board's §0 decision named (result.json facts.decision)."""
    import json

    try:
        facts = json.loads((folder / "result.json").read_text(encoding="utf-8")).get("facts") or {}
    except (OSError, ValueError):
        return []
    return [p["page"] for p in (facts.get("decision") or {}).get("next_pages", []) if p.get("page")]


def _cmd_list(args: argparse.Namespace) -> int:
    from opslib import runbooks

    for rb in runbooks.RUNBOOKS.values():
        print(f"{rb.id:<10} {rb.section}  {rb.title}")
        for spec in rb.parameters().values():
            print(f"    {spec.name:<20} {spec.type:<5} default {spec.default!r:<12} {spec.help}")
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    from opslib import evidence

    problems = evidence.verify(Path(args.folder))
    for p in problems:
        print(f"  {p}")
    print("intact" if not problems else f"{len(problems)} problem(s)")
    return 0 if not problems else int(_exit_codes().ERROR)


def _cmd_db(args: argparse.Namespace) -> int:
    from opslib import embedded

    cmd = args.db_command
    if cmd == "start":
        # under the home lock: four starts at once on a fresh home create the database once
        with embedded.home_lock("starting the embedded database (`opsbook db start`)"):
            st = embedded.start()
            if not embedded.database_exists(embedded.DEFAULT_DATABASE):
                embedded.create_contract_database(embedded.DEFAULT_DATABASE)
                print(f"created {embedded.DEFAULT_DATABASE} with the app contract (empty: `opsbook db seed` fills it)")
        print(f"running (pid {st.pid}) · data {st.data_dir}")
    elif cmd == "stop":
        embedded.stop()
        print("stopped")
    elif cmd == "status":
        st = embedded.status()
        print(f"{'running' if st.running else 'stopped'} · data {st.data_dir}" + (f" · pid {st.pid}" if st.pid else ""))
        return 0 if st.running else 1
    elif cmd == "url":
        user = embedded.READER_ROLE if args.role == "reader" else "postgres"
        print(embedded.url(embedded.DEFAULT_DATABASE, user=user))
    elif cmd == "seed":
        from opslib.seed import seed
        from opslib.seed.scenarios import SCENARIOS

        if args.scenario not in SCENARIOS:
            from opslib.errors import ConfigError

            raise ConfigError(f"unknown scenario {args.scenario!r}: choose one of {', '.join(SCENARIOS)}")
        from opslib.seed.plan import Plan

        try:  # refused before the demo database is dropped
            Plan.make(args.scale, None, args.days)
        except ValueError as exc:
            from opslib.errors import ConfigError

            raise ConfigError(str(exc)) from None
        with embedded.seed_lock("seeding the demo database (`opsbook db seed`)"):
            embedded.create_contract_database(embedded.DEFAULT_DATABASE, replace=True)
            report = seed(
                embedded.libpq_url(embedded.DEFAULT_DATABASE),
                scale=args.scale,
                days=args.days,
                scenario=args.scenario,
                progress=lambda msg: print(f"  {msg}", flush=True),
            )
        for table, n in sorted(report.row_counts.items()):
            print(f"  {table:<36} {n:>12,}")
        print(
            f"seeded {args.scenario} at scale {args.scale} in {report.seconds:.1f} s "
            f"(data up to {report.as_of.isoformat()})"
        )
    elif cmd == "scenarios":
        from opslib.seed.scenarios import SCENARIOS

        for sc in SCENARIOS.values():
            stage = sc.stage.value if sc.stage else "-"
            print(f"{sc.name:<26} stage {stage:<9} {sc.title}")
            for e in sc.expected:
                print(f"    expects {e.check}{'[' + e.subject + ']' if e.subject else ''} at {e.severity.value}")
            if not sc.expected:
                print("    expects no problem at all (verdict PASS)")
    return 0


def _cmd_action(args: argparse.Namespace) -> int:
    import os

    from opslib import actions, db
    from opslib.errors import ConfigError

    if args.name not in ACTION_NAMES:
        raise ConfigError(f"unknown action {args.name!r}: choose one of {', '.join(ACTION_NAMES)}")
    target = db.configured_url(args.database_url, action=True)
    if target is None and os.environ.get(db.ENV_URL):
        # $OPSBOOK_DATABASE_URL names a real database: acting on the embedded demo instead would
        # report "EXECUTED" while the real switch stays where it was
        raise ConfigError(
            f"${db.ENV_URL} is set but the action has no credentials of its own: set "
            f"${db.ENV_ACTION_URL} or pass --database-url (an action never falls back to the demo database then)"
        )
    if target:
        db.normalise_url(target)  # a bad URL is refused before anything about it is printed
    print(f"database: {db.display_url(target) if target else 'embedded demo database (opsbook_demo)'}")
    outcome = actions.perform(
        args.name,
        confirm=args.confirm,
        reason=args.reason,
        wi_id=args.wi,
        operator=args.operator,
        undo=args.undo,
        database_url=args.database_url,
        target=args.target,
        options=dict(args.option),
    )
    print(outcome.describe())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
