"""The lint's report as SARIF 2.1.0, for code scanning (GitHub's upload-sarif, other viewers)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from opslib.gates.lint import LintReport
from opslib.gates.rules import Level, RuleBook, load

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {Level.ERROR: "error", Level.WARNING: "warning"}


def _tool_version() -> str:
    try:
        return version("opsbook")
    except PackageNotFoundError:
        return "0+unknown"


def _uri(path: str, base: Path | None) -> str:
    p = Path(path)
    if base is not None:
        try:
            return p.resolve().relative_to(base.resolve()).as_posix()
        except ValueError:
            pass
    return p.as_posix()


def to_sarif(report: LintReport, book: RuleBook | None = None, base: Path | None = None) -> dict[str, Any]:
    """One run; every rule in tool.driver.rules; a waived finding carries an inSource suppression with
    the waiver's reason; a file that could not be parsed is a tool execution notification and makes
    the invocation unsuccessful."""
    book = book or load()
    rule_ids = list(book.rules)
    rules = [
        {
            "id": r.id,
            "name": "".join(w.capitalize() for w in r.id.split("-")),
            "shortDescription": {"text": r.title},
            "fullDescription": {"text": r.why},
            "help": {"text": f"Safe rewrite: {r.rewrite}"},
            "defaultConfiguration": {"level": _LEVEL[r.severity]},
            "properties": {"group": r.group, "waivable": r.waivable},
        }
        for r in book.rules.values()
    ]
    results = []
    for f in report.findings:
        result: dict[str, Any] = {
            "ruleId": f.rule,
            "ruleIndex": rule_ids.index(f.rule),
            "level": _LEVEL[f.severity],
            "message": {"text": f"{f.message}. {book[f.rule].why}"},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": _uri(f.path, base)},
                        "region": {"startLine": f.line, "startColumn": f.column},
                    }
                }
            ],
        }
        if f.waived is not None:
            result["suppressions"] = [{"kind": "inSource", "justification": f.waived}]
        results.append(result)
    notes = [
        {
            "level": "error",
            "message": {"text": f"{fr.path} {fr.error}"},
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": _uri(fr.path, base)}}}],
        }
        for fr in report.errors
    ]
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "opsbook lint-migrations",
                        "version": _tool_version(),
                        "rules": rules,
                    }
                },
                "invocations": [{"executionSuccessful": not report.errors, "toolExecutionNotifications": notes}],
                "results": results,
            }
        ],
    }
