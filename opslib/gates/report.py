"""The lint's report for people (text) and for machines (JSON); SARIF lives in opslib.gates.sarif."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from opslib.gates.lint import LintReport
from opslib.gates.rules import Level, RuleBook, load


def to_json(report: LintReport, fail_on: Level = Level.ERROR, book: RuleBook | None = None) -> dict[str, Any]:
    book = book or load()
    files = []
    for fr in report.files:
        findings = []
        for f in fr.findings:
            d = asdict(f)
            d["severity"] = f.severity.value
            d["why"] = book[f.rule].why
            d["rewrite"] = book[f.rule].rewrite
            findings.append(d)
        files.append(
            {
                "path": fr.path,
                "statements": fr.statements,
                "error": fr.error,
                "plan": {"rollback": fr.plan.rollback, "backfill": fr.plan.backfill},
                "findings": findings,
            }
        )
    return {
        "tool": "opsbook lint-migrations",
        "exit_code": report.exit_code(fail_on),
        "fail_on": fail_on.value,
        "summary": report.counts(),
        "files": files,
    }


def to_text(report: LintReport, fail_on: Level = Level.ERROR, book: RuleBook | None = None) -> str:
    book = book or load()
    out = []
    for fr in report.files:
        if fr.error:
            out.append(f"{fr.path}: ERROR {fr.error} (nothing in this file was judged)")
        for f in fr.findings:
            tag = f"waived[{f.rule}]" if f.waived is not None else f"{f.severity.value}[{f.rule}]"
            out.append(f"{f.path}:{f.line}:{f.column}: {tag} {f.message}")
            out.append(f"    | {f.statement}")
            if f.waived is not None:
                out.append(f"    waiver reason: {f.waived}")
            else:
                out.append(f"    why: {book[f.rule].why}")
                out.append(f"    fix: {book[f.rule].rewrite}")
    c = report.counts()
    code = report.exit_code(fail_on)
    verdict = {0: "PASS", 1: "FAIL", 4: "ERROR (a file could not be parsed or read)"}[code]
    out.append(
        f"{c['files']} file(s), {c['statements']} statement(s): {c['error']} error(s), {c['warning']} warning(s), "
        f"{c['waived']} waived, {c['unparsable']} unparsable -> {verdict} (exit {code})"
    )
    return "\n".join(out)


def rules_text(book: RuleBook | None = None) -> str:
    book = book or load()
    out = []
    for r in book.rules.values():
        out.append(f"{r.id:<38} {r.severity.value:<8} {r.title}")
        out.append(f"{'':<38} why: {r.why}")
        out.append(f"{'':<38} fix: {r.rewrite}")
    return "\n".join(out)
