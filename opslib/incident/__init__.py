"""Runbook §0/§1: one incident (a work item) carried through the seven steps, post-mortem from the evidence.

The page reads what the domain pages already measured: every bundle run with the WI (verified
against its manifest, `collect`), and the guarded actions executed with the WI (admin_audit_log,
`actions`, the only database read). `assemble` is pure: timeline, impact, severity, update
cadence, the Comms update, the checklist, close or not, and the post-mortem Markdown.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pandas as pd

from opslib.evidence import write_atomically
from opslib.incident import cadence as _cadence
from opslib.incident import closing, comms, postmortem, timeline
from opslib.incident import impact as _impact
from opslib.incident.bundles import Evidence, Rejected, Run, collect
from opslib.incident.timeline import Actions, Event, Kind, actions, search_range
from opslib.results import Finding
from opslib.timewindow import parse_instant

__all__ = [
    "Actions",
    "Event",
    "Evidence",
    "Incident",
    "Kind",
    "Rejected",
    "Run",
    "actions",
    "assemble",
    "collect",
    "instant",
    "parse_times",
    "search_range",
]


def instant(text: str, *, name: str) -> datetime | None:
    """An ISO-8601 parameter (no offset: KST), or None when empty."""
    return parse_instant(text, name=name) if text.strip() else None


def parse_times(text: str, *, name: str) -> tuple[datetime, ...] | None:
    """A comma-separated list of ISO-8601 instants (no offset: KST); empty → None (not given)."""
    if not text.strip():
        return None
    return tuple(sorted(parse_instant(t, name=name) for t in text.split(",") if t.strip()))


@dataclass(frozen=True)
class Incident:
    wi_id: str
    evidence: Evidence
    classification: closing.Classification
    events: tuple[Event, ...]
    impact: _impact.Impact
    cadence: _cadence.Cadence
    close: closing.Close
    steps: tuple[closing.Step, ...]
    comms_text: str
    inputs: postmortem.Inputs
    findings: tuple[Finding, ...]

    @property
    def headline(self) -> str:
        """The incident's own severity for the top of the report. The banner's severity is that of this
        page's findings (gaps in the record, P2/P3 at worst): alone it read "심각도 P3 · 업데이트 주기
        다음 스프린트" above a P0 outage."""
        sev = self.classification.severity
        if sev is None and not self.evidence.runs:
            return f"인시던트 심각도: 판단 불가 (no verified page run of {self.wi_id} to judge from)"
        if sev is None:
            return f"인시던트 심각도: 증거에 문제 없음 (no page run of {self.wi_id} found a problem)"
        source = "IC 입력 (given)" if self.classification.given else "증거로 계산 (computed from the evidence)"
        return (
            f"인시던트 심각도 {sev.value} ({source}) · 상황 업데이트 주기 {sev.update_cadence} · "
            "아래 판정은 인시던트 기록의 빈틈 (the verdict below judges the incident record, not the outage)"
        )

    @property
    def timeline(self) -> pd.DataFrame:
        return timeline.frame(self.events)

    @property
    def checklist(self) -> pd.DataFrame:
        return closing.checklist_frame(self.steps)

    @property
    def started(self) -> datetime | None:
        e = timeline.onset(self.events)
        return e.at if e else None

    def postmortem(self, *, names: bool = True) -> str:
        """The §1 post-mortem (and payments.md's report when payments ran). names=False: the roles
        as placeholders, for the page's own output (the names belong to the post-mortem file only)."""
        inputs = self.inputs if names else postmortem.Inputs(**{**self.inputs.__dict__, "roles": {}})
        parts = [
            postmortem.general(
                inputs, self.evidence, self.classification, self.impact, self.events, self.close, self.cadence
            )
        ]
        paid = postmortem.payments(inputs, self.evidence, self.classification, self.events, self.close)
        if paid:
            parts.append(paid)
        return "\n".join(parts)

    def write_postmortem(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, self.postmortem())
        return path

    def facts(self) -> dict[str, object]:
        """Machine-readable answers for result.json (no names)."""
        sev = self.classification
        return {
            "severity": sev.severity.value if sev.severity else None,
            "severity_computed": sev.computed.value if sev.computed else None,
            "first_detection": next((e.at.isoformat() for e in self.events if e.kind is Kind.DETECTED), None),
            "runs_used": len(self.evidence.runs),
            "bundles_rejected": [x.folder.name for x in self.evidence.rejected],
            "actions_executed": len([e for e in self.events if e.kind is Kind.ACTION]),
            "impact": {
                "users": self.impact.users,
                "orders": self.impact.orders,
                "krw": self.impact.krw,
                "dt": self.impact.dt,
                "messages": self.impact.messages,
                "unkeyed_pages": list(self.impact.unkeyed_pages),
            },
            "close_allowed": self.close.allowed,
            "updates_overdue": None if self.cadence.updates is None else len(self.cadence.overdue),
            "checklist": {s.ko: s.done for s in self.steps},
        }


def assemble(
    ev: Evidence,
    executed: pd.DataFrame,
    changes: pd.DataFrame,
    *,
    title: str = "",
    severity: str = "",
    declared: datetime | None = None,
    closed: datetime | None = None,
    updates: tuple[datetime, ...] | None = None,
    roles: Mapping[str, str] | None = None,
    now: datetime,
    link_base: Path | None = None,
) -> Incident:
    """Pure: everything the page shows and the post-mortem says, from the evidence and the audit rows."""
    classification = closing.classify(ev, severity)
    events = timeline.build(ev, executed, changes, declared, closed)
    total = _impact.total(ev)
    close = closing.judge_close(ev, closed)
    cad = _cadence.schedule(classification.severity, declared, closed or now, updates)
    causes = len({c for r in ev.runs if r.problems for c in timeline.cause_facts(r)})
    steps = closing.checklist(declared, classification, executed, cad, causes, close)
    name = title or _title(ev)
    started = timeline.onset(events)
    text = comms.update_text(ev.wi_id, name, classification, started.at if started else None, total, events, close, cad)
    inputs = postmortem.Inputs(ev.wi_id, name, dict(roles or {}), declared, closed, link_base or ev.folder)
    found = closing.findings(ev, classification, close, cad, len(executed))
    return Incident(ev.wi_id, ev, classification, events, total, cad, close, steps, text, inputs, found)


def _title(ev: Evidence) -> str:
    """No title given: the pages that failed, by their runbook section."""
    failing = [r for r in ev.runs if r.problems]
    if not failing:
        return f"{ev.wi_id} 인시던트"
    pages = ", ".join(dict.fromkeys(f"{r.section} {r.runbook}".strip() for r in failing))
    return f"{pages} 장애"
