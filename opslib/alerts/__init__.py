"""Runbook §4-E 알림 임계값 and §0 빠른 참조 (the alert board, `alerts`): what broke, how bad, where next.

payments_metrics / auth_metrics / messaging_metrics (the domain pages' own queries and checks) →
edge_cold_starts / db_response_time (the board's own queries) → crash_free (Sentry) → assemble
(every §4-E row, per-domain coverage) → decide (§0: next page, severity, cadence, command) →
declare (result.json and the verdict banner's "지금 할 일"). `opsbook watch` runs the board in a loop.
"""

from typing import Any

from opslib.alerts.board import Board, Metric, Row, assemble, domains, rows
from opslib.alerts.decision import Decision, NextPage, Symptom, command, decide, symptom_named, symptoms
from opslib.alerts.infra import ColdStarts, StatementTimes, db_response_time, edge_cold_starts
from opslib.alerts.reused import Measured, auth_metrics, messaging_metrics, payments_metrics
from opslib.alerts.sentry import CrashFree, crash_free


def declare(book: Any, board: Board, decision: Decision) -> None:
    """What the run leaves for people and machines: every metric in result.json (facts.metrics),
    the coverage and §0's decision, its sentence first on the banner, and the commands under "지금 할 일"."""
    book.fact("metrics", board.to_json())
    book.fact("coverage", board.coverage.to_dict(orient="records"))
    book.fact("decision", decision.to_json())
    book.headline.append(decision.sentence)
    for m in decision.mitigations():
        book.mitigate(m)


__all__ = [
    "Board",
    "ColdStarts",
    "CrashFree",
    "Decision",
    "Measured",
    "Metric",
    "NextPage",
    "Row",
    "StatementTimes",
    "Symptom",
    "assemble",
    "auth_metrics",
    "command",
    "crash_free",
    "db_response_time",
    "decide",
    "declare",
    "domains",
    "edge_cold_starts",
    "messaging_metrics",
    "payments_metrics",
    "rows",
    "symptom_named",
    "symptoms",
]
