"""Runbook §4-E 알림 임계값 as one board: every metric with its value, lines, source and status.

The rows (domain, metric, the check that judges it, source, page) are data in
opslib/checks/alerts.yaml; the lines are read from the check, wherever its page keeps it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import pandas as pd
import yaml

from opslib import checks
from opslib.page import format_value
from opslib.results import Finding, Outcome, Severity


@dataclass(frozen=True)
class Row:
    """One §4-E row: where the board reads it and where §0 sends the engineer when it fires."""

    domain: str
    metric: str
    check: str
    source: str
    page: str | None  # a runbook id, or None when no opsbook page covers it
    next: str  # where to look instead (a dashboard, another runbook) when there is no page


@cache
def _data() -> dict[str, Any]:
    text = (resources.files("opslib") / "checks" / "alerts.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


@cache
def rows() -> tuple[Row, ...]:
    return tuple(
        Row(r["domain"], r["metric"], r["check"], r["source"], r.get("page"), r.get("next", ""))
        for r in _data()["board"]
    )


def domains() -> tuple[str, ...]:
    return tuple(dict.fromkeys(r.domain for r in rows()))


def lines(check: checks.Check) -> tuple[str, str]:
    """(경고, 위험) as the runbook's table writes them: '< 98%', '> 200건'."""

    def one(level: float | None) -> str:
        return "-" if level is None else f"{check.op} {level:g}{check.unit}"

    return one(check.warn), one(check.critical)


def status_label(f: Finding) -> str:
    """OK, WARN, P0/P1 (a critical line crossed, at its severity), ERROR, NOT_EVALUATED."""
    if f.outcome is Outcome.CRITICAL and f.severity is not None:
        return f.severity.value
    return f.outcome.value


@dataclass(frozen=True)
class Metric:
    """One measured (or unmeasurable) §4-E metric on the board."""

    row: Row
    finding: Finding

    @property
    def key(self) -> str:
        return self.finding.key

    @property
    def measured(self) -> bool:
        return self.finding.outcome in (Outcome.OK, Outcome.WARN, Outcome.CRITICAL)

    @property
    def status(self) -> str:
        return status_label(self.finding)

    def to_json(self) -> dict[str, Any]:
        check = checks.get(self.row.check)
        warn, critical = lines(check)
        f = self.finding
        return {
            "domain": self.row.domain,
            "metric": self.row.metric,
            "check": f.check,
            "subject": f.subject,
            "status": self.status,
            "outcome": f.outcome.value,
            "severity": f.severity.value if f.severity and f.outcome.is_problem else None,
            "value": f.value,
            "unit": f.unit,
            "warn": warn,
            "critical": critical,
            "source": self.row.source,
            "measured_from": check.source,
            "page": self.row.page,
            "next": self.row.next,
            "detail": f.detail,
        }


@dataclass(frozen=True)
class Board:
    """Every §4-E metric, the per-domain coverage, and the coverage finding."""

    metrics: tuple[Metric, ...]
    table: pd.DataFrame  # one row per metric (and subject), in the runbook's order
    coverage: pd.DataFrame  # per domain: metrics, measured, holds
    findings: tuple[Finding, ...]  # the coverage check (the metrics' own findings were recorded by their steps)

    def to_json(self) -> list[dict[str, Any]]:
        return [m.to_json() for m in self.metrics]

    def problems(self) -> list[Metric]:
        return [m for m in self.metrics if m.finding.outcome.is_problem]


def assemble(*measured: Any) -> Board:
    """The board from the steps' results (anything with `findings`): each §4-E row gets its findings,
    and a row no step answered is NOT_EVALUATED (never missing, never OK)."""
    found: list[Finding] = [f for m in measured for f in (getattr(m, "findings", ()) or ())]
    metrics: list[Metric] = []
    for row in rows():
        mine = [f for f in found if f.check == row.check]
        if row.check == "auth.login_failure_rate":
            mine = [f for f in mine if f.subject in (None, "all")]  # the runbook's one rate, not per method
        if not mine:
            mine = [checks.evaluate(checks.get(row.check), None, detail="이 보드에서 측정하지 않음 (not measured)")]
        metrics += [Metric(row, f) for f in mine]
    coverage = coverage_table(metrics)
    return Board(tuple(metrics), board_table(metrics), coverage, (coverage_finding(coverage),))


def board_table(metrics: Sequence[Metric]) -> pd.DataFrame:
    records = []
    for m in metrics:
        warn, critical = lines(checks.get(m.row.check))
        f = m.finding
        records.append(
            {
                # one column: a narrow 도메인 column wrapped one syllable per line in the report
                "도메인 · 지표 (metric)": f"{m.row.domain} · {m.row.metric}"
                + (f" [{f.subject}]" if f.subject and f.subject != "all" else ""),
                "상태 (status)": m.status,
                "측정값 (value)": format_value(f.value, f.unit),
                "경고 (warn)": warn,
                "위험 (P0)": critical,
                "소스 (source)": m.row.source,
                "다음 (next)": m.row.page or m.row.next,
                "설명 (detail)": f.detail,
            }
        )
    return pd.DataFrame(records)


def coverage_table(metrics: Iterable[Metric]) -> pd.DataFrame:
    items = list(metrics)
    records = []
    for domain in domains():
        mine = [m for m in items if m.row.domain == domain]
        measured = [m for m in mine if m.measured]
        missing = [f"{m.row.metric}: {m.status}" for m in mine if not m.measured]
        records.append(
            {
                "도메인": domain,
                "지표 수": len(mine),
                "측정됨 (measured)": len(measured),
                "1개 이상 (≥ 1 measured)": "예 (yes)" if measured else "아니오 (no)",
                "측정 못 한 지표": "; ".join(missing),
            }
        )
    return pd.DataFrame(records)


def coverage_finding(coverage: pd.DataFrame) -> Finding:
    check = checks.get("alerts.domain_coverage")
    held = coverage[coverage["측정됨 (measured)"] > 0]
    missing = [str(d) for d in coverage.loc[coverage["측정됨 (measured)"] == 0, "도메인"]]
    detail = f"{len(held)}/{len(coverage)}개 도메인 측정 ({', '.join(map(str, held['도메인']))})"
    if missing:
        detail += f" · 측정 못 한 도메인: {', '.join(missing)} (see the board's detail column)"
    return checks.evaluate(check, len(held), detail=detail)


def worst(metrics: Iterable[Metric]) -> Severity | None:
    sev = [m.finding.severity for m in metrics if m.finding.outcome.is_problem and m.finding.severity]
    return min(sev, key=lambda s: s.rank) if sev else None
