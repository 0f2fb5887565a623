"""CLI of the gates: `opsbook lint-migrations`, `check-branch`, `check-pr` (registered in opslib.cli).

They need no database. Exit codes: 0 pass · 1 findings (lint: an unwaived finding at --fail-on
severity; checks: a rule broken) · 2 usage (bad arguments, a path or template that does not exist
or cannot be read or written, no branch or PR text to check) · 4 lint only: a file could not be
read or parsed (nothing in it was judged: an error, never a pass).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

GATES_EPILOG = """\
exit codes: 0 pass · 1 findings (lint: an unwaived finding at --fail-on severity or worse; checks:
a rule broken) · 2 usage error (bad arguments, missing path or template, nothing to check) ·
4 lint: a file could not be read or parsed (an error, never a pass)
"""

COMMANDS = ("lint-migrations", "check-branch", "check-pr")


def add_parsers(sub: argparse._SubParsersAction) -> None:
    fmt = argparse.RawDescriptionHelpFormatter
    lint = sub.add_parser(
        "lint-migrations",
        help="migration safety lint (runbook §5): destructive changes, lock hazards, Supabase security",
        description="Parse SQL migrations with PostgreSQL's parser (pglast) and report destructive changes "
        "without a rollback/backfill plan, lock hazards, Supabase security gaps and secret-looking literals. "
        "Directories are searched for *.sql, and files are read in path order (the order they apply). "
        "Waive a statement with a comment before it: `-- opsbook-lint: ignore <rule-id> -- <reason>`. "
        "A plan is two comment lines anywhere in the file: `-- rollback: <how>` and `-- backfill: <how>` "
        "(a sibling <name>.down.sql is a rollback plan too).",
        epilog=GATES_EPILOG,
        formatter_class=fmt,
    )
    lint.add_argument("paths", nargs="*", metavar="PATH", help="migration files or folders (e.g. supabase/migrations)")
    lint.add_argument("--format", choices=["text", "json", "sarif"], default="text", help="output (default text)")
    lint.add_argument(
        "--fail-on", choices=["error", "warning"], default="error", help="lowest severity that exits 1 (default error)"
    )
    lint.add_argument("--output", metavar="FILE", help="write the report to FILE instead of stdout")
    lint.add_argument(
        "--sarif", metavar="FILE", help="also write the SARIF report to FILE (CI: text in the log, SARIF for upload)"
    )
    lint.add_argument(
        "--context",
        action="append",
        default=[],
        metavar="PATH",
        help="earlier migrations read (not reported) for the schema they build, e.g. supabase/migrations when "
        "PATH is only a PR's new files (repeatable)",
    )
    lint.add_argument("--rules", action="store_true", help="list the rules (id, severity, why, safe rewrite) and exit")

    br = sub.add_parser(
        "check-branch",
        help="branch name wi/<WI-ID>-<slug> or hotfix/<YYYY-MM-DD>-<slug>; no direct push to main in CI",
        description="Check a branch name against runbook §2 (wi/WI-042-payment-retry, hotfix/2026-02-20-webhook-fix; "
        "a real calendar date). Without BRANCH: in CI (CI=true) from $GITHUB_HEAD_REF, $GITHUB_REF_NAME, "
        "$GITHUB_REF or $CI_COMMIT_REF_NAME; otherwise the checked-out git branch. main is refused, and in CI "
        "a push to main passes only when its head commit is a pull request's merge (event payload).",
        epilog=GATES_EPILOG,
        formatter_class=fmt,
    )
    br.add_argument("branch", nargs="?", help="branch name (default: from CI variables or git)")
    br.add_argument(
        "--allow", action="append", default=[], metavar="GLOB", help="also accept names matching GLOB (dependabot/*)"
    )
    br.add_argument("--format", choices=["text", "json"], default="text", help="output (default text)")

    pr = sub.add_parser(
        "check-pr",
        help="PR body fills every required item of the PR template; WI id agrees in branch, title and body",
        description="Check a pull request (runbook §5): every required item of the template filled in (checklist "
        "items checked or 'N/A: <reason>', fields given a value that is not the placeholder, free-text sections "
        "written), and one WI id that branch, title and body agree on (1 WI = 1 PR). In GitHub Actions the title, "
        "body and branch default to the pull_request event payload ($GITHUB_EVENT_PATH).",
        epilog=GATES_EPILOG,
        formatter_class=fmt,
    )
    pr.add_argument(
        "--template", required=True, metavar="PATH", help="the PR template (.github/pull_request_template.md)"
    )
    pr.add_argument("--title", help="PR title (default: the event payload)")
    body = pr.add_mutually_exclusive_group()
    body.add_argument("--body", help="PR body text")
    body.add_argument("--body-file", metavar="PATH", help="PR body from a file ('-': standard input)")
    pr.add_argument("--branch", help="PR source branch (default: the event payload, then CI variables)")
    pr.add_argument("--allow", action="append", default=[], metavar="GLOB", help="as for check-branch")
    pr.add_argument("--format", choices=["text", "json"], default="text", help="output (default text)")


def run(args: argparse.Namespace) -> int:
    try:
        return {"lint-migrations": _lint, "check-branch": _branch, "check-pr": _pr}[args.command](args)
    except (OSError, UnicodeDecodeError) as exc:  # --body-file, --output, --sarif: a path that cannot be used
        where = getattr(exc, "filename", None) or getattr(exc, "object", "input")
        return _usage(f"cannot use {where}: {getattr(exc, 'strerror', None) or exc}")


def _usage(message: str) -> int:
    print(f"opsbook: error: {message}", file=sys.stderr)
    return 2


def _emit(text: str, output: str | None = None) -> None:
    if output:
        Path(output).write_text(text + "\n", encoding="utf-8")
    else:
        print(text)


def _lint(args: argparse.Namespace) -> int:
    from opslib.gates import lint, report
    from opslib.gates.rules import Level

    if args.rules:
        if args.format == "text":
            _emit(report.rules_text(), args.output)
        else:
            from dataclasses import asdict

            from opslib.gates.rules import load

            _emit(json.dumps([asdict(r) for r in load().rules.values()], ensure_ascii=False, indent=2), args.output)
        return 0
    if not args.paths:
        return _usage("lint-migrations needs at least one PATH (a .sql file or a folder of them)")
    try:
        files = lint.migration_files(args.paths)
    except FileNotFoundError as exc:
        return _usage(f"no such file or folder: {exc}")
    if not files:
        return _usage(f"no .sql files under {', '.join(args.paths)}")
    try:
        result = lint.lint_paths(files, context=args.context)
    except FileNotFoundError as exc:
        return _usage(f"no such file or folder: {exc}")
    fail_on = Level(args.fail_on)
    if args.sarif:
        from opslib.gates.sarif import to_sarif

        Path(args.sarif).write_text(json.dumps(to_sarif(result, base=Path.cwd()), ensure_ascii=False, indent=2) + "\n")
    if args.format == "json":
        _emit(json.dumps(report.to_json(result, fail_on), ensure_ascii=False, indent=2), args.output)
    elif args.format == "sarif":
        from opslib.gates.sarif import to_sarif

        _emit(json.dumps(to_sarif(result, base=Path.cwd()), ensure_ascii=False, indent=2), args.output)
    else:
        _emit(report.to_text(result, fail_on), args.output)
    return result.exit_code(fail_on)


def _branch(args: argparse.Namespace) -> int:
    from opslib.gates.branch import check_branch, ci_context

    ctx = ci_context()
    name = args.branch or ctx.branch
    if not name:
        return _usage("no branch to check: detached HEAD outside CI; pass BRANCH")
    from dataclasses import replace

    if args.branch:
        ctx = replace(ctx, branch=args.branch, source="argument")
    verdict = check_branch(name, context=ctx, allow=args.allow)
    if args.format == "json":
        print(json.dumps(_branch_json(verdict), ensure_ascii=False, indent=2))
    else:
        state = "ok" if verdict.ok else "REFUSED"
        where = f" (CI, from {verdict.source})" if verdict.ci else f" (from {verdict.source})"
        print(f"branch {verdict.branch}{where}: {state} [{verdict.kind}]")
        for p in verdict.problems:
            print(f"  - {p}")
    return 0 if verdict.ok else 1


def _branch_json(v) -> dict:
    return {
        "branch": v.branch,
        "ok": v.ok,
        "kind": v.kind,
        "wi": v.wi,
        "date": v.date,
        "ci": v.ci,
        "source": v.source,
        "problems": list(v.problems),
        "notes": list(v.notes),
        "exit_code": 0 if v.ok else 1,
    }


def _pr(args: argparse.Namespace) -> int:
    import os

    from opslib.gates.branch import CIContext, check_branch, ci_context
    from opslib.gates.pr import check_pr

    template_path = Path(args.template)
    if not template_path.is_file():
        return _usage(f"no PR template at {template_path}")
    payload = {}
    if os.environ.get("GITHUB_EVENT_PATH"):
        try:
            payload = (
                json.loads(Path(os.environ["GITHUB_EVENT_PATH"]).read_text(encoding="utf-8")).get("pull_request") or {}
            )
        except (OSError, ValueError) as exc:
            return _usage(f"cannot read the event payload $GITHUB_EVENT_PATH: {exc}")
    # GitHub sends "body": null for an empty description: that is a PR with nothing filled in, not a usage error
    title = args.title if args.title is not None else (payload.get("title") or "" if payload else None)
    if args.body is not None:
        body = args.body
    elif args.body_file:
        body = sys.stdin.read() if args.body_file == "-" else Path(args.body_file).read_text(encoding="utf-8")
    else:
        body = payload.get("body") or "" if payload else None
    if title is None or body is None:
        return _usage("no PR title or body: pass --title and --body/--body-file (or run in a pull_request event)")
    ctx = ci_context()
    name = args.branch or (payload.get("head") or {}).get("ref") or ctx.branch
    branch = (
        check_branch(name, context=CIContext(ctx.ci, name, "pr", "pull_request"), allow=args.allow) if name else None
    )
    verdict = check_pr(template_path.read_text(encoding="utf-8"), title, body, branch)
    if args.format == "json":
        print(
            json.dumps(
                {
                    "ok": verdict.ok,
                    "wi": verdict.wi,
                    "wi_ids": {k: list(v) for k, v in verdict.wi_ids.items()},
                    "branch": _branch_json(branch) if branch else None,
                    "items": [
                        {
                            "kind": r.item.kind,
                            "section": r.item.section,
                            "text": r.item.text,
                            "filled": r.filled,
                            "why": r.why,
                        }
                        for r in verdict.items
                    ],
                    "problems": list(verdict.problems),
                    "exit_code": 0 if verdict.ok else 1,
                },
                ensure_ascii=False,
                indent=2,
            )
        )
    else:
        filled = sum(r.filled for r in verdict.items)
        print(
            f"PR {'ok' if verdict.ok else 'NOT READY'}: {filled}/{len(verdict.items)} template items filled, "
            f"WI {verdict.wi or '-'}"
        )
        for p in verdict.problems:
            print(f"  - {p}")
    return 0 if verdict.ok else 1
