"""The result model shared by every runbook: severities, outcomes, findings, verdicts."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

# Custom MIME types a page displays; the runner reads them back from the executed notebook.
FINDINGS_MIME = "application/vnd.opsbook.findings+json"
RESULT_MIME = "application/vnd.opsbook.result+json"


class Severity(enum.Enum):
    """Runbook §0 severity, with its status-update cadence."""

    P0 = "P0"  # 전체 중단 / 결제 장애 / 데이터 유출: update every 15 min
    P1 = "P1"  # 핵심 기능 부분 장애: every 30 min
    P2 = "P2"  # 비핵심 기능 장애: as needed
    P3 = "P3"  # 사소한 이슈: next sprint

    @property
    def rank(self) -> int:
        return int(self.value[1])

    @property
    def update_cadence(self) -> str:
        return {"P0": "15분", "P1": "30분", "P2": "필요 시", "P3": "다음 스프린트"}[self.value]

    def at_least(self, other: Severity) -> bool:
        """True when self is as severe as other or more (P0 is the most severe)."""
        return self.rank <= other.rank


class Outcome(enum.Enum):
    """What one check found."""

    OK = "OK"
    WARN = "WARN"
    CRITICAL = "CRITICAL"
    ERROR = "ERROR"  # the check tried to run and could not (query error, timeout, RLS blind)
    NOT_EVALUATED = "NOT_EVALUATED"  # the check had nothing to measure (source not configured)

    @property
    def is_problem(self) -> bool:
        return self in (Outcome.WARN, Outcome.CRITICAL)


class Verdict(enum.Enum):
    """Runbook §6 judgement of a whole run, plus ERROR when the run could not judge."""

    PASS = "PASS"
    CONDITIONAL_PASS = "CONDITIONAL_PASS"
    FAIL = "FAIL"
    ERROR = "ERROR"

    @property
    def label_ko(self) -> str:
        return {
            "PASS": "정상 (PASS)",
            "CONDITIONAL_PASS": "조건부 통과 (CONDITIONAL PASS)",
            "FAIL": "실패 (FAIL): 즉시 완화 + #ops-incidents 선언",
            "ERROR": "판정 불가 (ERROR): 측정하지 못한 항목이 있습니다",
        }[self.value]


@dataclass(frozen=True)
class Finding:
    """The outcome of one check on one subject (a provider, a job, ...)."""

    check: str
    outcome: Outcome
    section: str
    title: str
    severity: Severity | None = None
    value: float | int | None = None
    threshold: str | None = None
    subject: str | None = None
    unit: str = ""
    detail: str = ""
    evidence: Sequence[Mapping[str, Any]] = field(default_factory=tuple)
    # One cause seen by several checks (the same orders stuck, found by triage and by the
    # reconciliation) is said once at the top of the report and counted once: findings with the
    # same cause label are grouped, and the distinct cause_items (e.g. order ids) are counted.
    cause: str = ""
    cause_items: frozenset[str] = field(default_factory=frozenset)

    @property
    def key(self) -> str:
        return f"{self.check}[{self.subject}]" if self.subject else self.check

    def to_json(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "subject": self.subject,
            "title": self.title,
            "outcome": self.outcome.value,
            "severity": self.severity.value if self.severity else None,
            "value": self.value,
            "unit": self.unit,
            "threshold": self.threshold,
            "section": self.section,
            "detail": self.detail,
            "cause": self.cause or None,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Finding:
        return cls(
            check=data["check"],
            subject=data.get("subject"),
            title=data.get("title", data["check"]),
            outcome=Outcome(data["outcome"]),
            severity=Severity(data["severity"]) if data.get("severity") else None,
            value=data.get("value"),
            unit=data.get("unit", ""),
            threshold=data.get("threshold"),
            section=data.get("section", ""),
            detail=data.get("detail", ""),
            cause=data.get("cause") or "",
        )


# Runbook §6: "CONDITIONAL PASS: 비핵심(P2+) 이슈 1~2건".
CONDITIONAL_PASS_MAX_ISSUES = 2


def decide(findings: Iterable[Finding]) -> Verdict:
    """Map findings to the run's verdict (runbook §6), written once for every runbook.

    P0/P1 → FAIL. Otherwise a check that could not run → ERROR (never PASS).
    Otherwise 1-2 P2/P3 issues → CONDITIONAL_PASS, more → FAIL, none → PASS.
    """
    items = list(findings)
    problems = [f for f in items if f.outcome.is_problem and f.severity is not None]
    if any(f.severity.at_least(Severity.P1) for f in problems):  # type: ignore[union-attr]
        return Verdict.FAIL
    if any(f.outcome is Outcome.ERROR for f in items):
        return Verdict.ERROR
    if not problems:
        return Verdict.PASS
    if len(problems) <= CONDITIONAL_PASS_MAX_ISSUES:
        return Verdict.CONDITIONAL_PASS
    return Verdict.FAIL


def worst_severity(findings: Iterable[Finding]) -> Severity | None:
    sev = [f.severity for f in findings if f.outcome.is_problem and f.severity is not None]
    return min(sev, key=lambda s: s.rank) if sev else None


@dataclass(frozen=True)
class Mitigation:
    """What to do now: a guarded action the page dry-ran, with the exact command that executes it."""

    action: str  # its name in opslib.actions
    label: str  # the runbook's words for it
    command: str  # the exact `opsbook action ...` line
    needed: bool  # False: already in place, the dry-run would change nothing
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "label": self.label,
            "command": self.command,
            "needed": self.needed,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class ExitState:
    """The runbook's exit condition as the page judged it: met, not met, or None (could not judge)."""

    met: bool | None
    sentence: str
    # when the condition began to hold without a break (the incident page's "복구 확인" time)
    since: datetime | None = None
    hold_minutes: int | None = None

    def to_json(self) -> dict[str, Any]:
        since = self.since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if self.since else None
        return {"met": self.met, "sentence": self.sentence, "since": since, "hold_minutes": self.hold_minutes}


@dataclass(frozen=True)
class CauseGroup:
    """Problems that are one cause seen by several checks: said once, counted once."""

    cause: str
    findings: tuple[Finding, ...]
    items: int  # distinct affected items (orders) over the group's findings

    @property
    def severity(self) -> Severity | None:
        return worst_severity(self.findings)


def group_by_cause(findings: Iterable[Finding]) -> tuple[list[CauseGroup], list[Finding]]:
    """(groups of two or more problem findings sharing a cause, the other problems), worst first."""
    problems = sorted((f for f in findings if f.outcome.is_problem), key=lambda f: f.severity.rank if f.severity else 9)
    by_cause: dict[str, list[Finding]] = {}
    for f in problems:
        if f.cause:
            by_cause.setdefault(f.cause, []).append(f)
    groups = []
    grouped: set[int] = set()
    for cause, members in by_cause.items():
        if len({m.check for m in members}) < 2 and len(members) < 2:
            continue
        items: set[str] = set()
        for m in members:
            items |= m.cause_items
        count = len(items) if items else max(int(m.value or 0) for m in members)
        groups.append(CauseGroup(cause, tuple(members), count))
        grouped |= {id(m) for m in members}
    return groups, [f for f in problems if id(f) not in grouped]
