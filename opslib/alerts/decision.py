"""Runbook §0 빠른 참조 as code: from the board (and a reported symptom) to the page to open next,
the severity and its update cadence, and the exact command.

The tree itself (symptom → section → page, the severity a reported symptom starts at) is data in
opslib/checks/alerts.yaml; this module only applies it.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

import pandas as pd

from opslib.alerts.board import Board, _data
from opslib.errors import ConfigError
from opslib.results import Finding, Mitigation, Severity

# Until #ops-incidents gives the incident its work item, the command carries this placeholder.
WI_PLACEHOLDER = "WI-TBD"
# A domain the board cannot measure is a monitoring gap (next sprint), not a page to open.
COVERAGE = "alerts.domain_coverage"


@dataclass(frozen=True)
class Symptom:
    symptom: str
    section: str
    page: str | None
    severity: Severity
    next: str = ""


@cache
def symptoms() -> tuple[Symptom, ...]:
    return tuple(
        Symptom(s["symptom"], s["section"], s.get("page"), Severity(s["severity"]), s.get("next", ""))
        for s in _data()["symptoms"]
    )


def symptom_named(text: str) -> Symptom | None:
    """The §0 symptom given as a parameter (exactly one of its lines; spaces around '/' ignored)."""
    wanted = "".join(text.split())
    if not wanted:
        return None
    for s in symptoms():
        if "".join(s.symptom.split()) == wanted:
            return s
    known = " | ".join(s.symptom for s in symptoms())
    raise ConfigError(f"parameter symptom={text!r} is not one of §0's: {known}")


@dataclass(frozen=True)
class NextPage:
    """One page §0 sends the engineer to, why, and how to open it."""

    page: str | None  # runbook id; None: no opsbook page (a dashboard, another runbook)
    section: str
    severity: Severity
    reasons: tuple[str, ...]  # the metrics (or the reported symptom) that point here
    command: str  # the exact `opsbook run ...`, or where to look when there is no page

    def to_json(self) -> dict[str, Any]:
        return {
            "page": self.page,
            "section": self.section,
            "severity": self.severity.value,
            "update_cadence": self.severity.update_cadence,
            "reasons": list(self.reasons),
            "command": self.command,
        }


@dataclass(frozen=True)
class Decision:
    severity: Severity | None
    pages: tuple[NextPage, ...]  # most severe first
    symptom: Symptom | None
    sentence: str

    @property
    def update_cadence(self) -> str | None:
        return self.severity.update_cadence if self.severity else None

    def to_json(self) -> dict[str, Any]:
        return {
            "severity": self.severity.value if self.severity else None,
            "update_cadence": self.update_cadence,
            "symptom": self.symptom.symptom if self.symptom else None,
            "next_pages": [p.to_json() for p in self.pages],
            "sentence": self.sentence,
        }

    def table(self) -> pd.DataFrame:
        return pd.DataFrame(
            [
                {
                    "심각도": p.severity.value,
                    "업데이트 주기": p.severity.update_cadence,
                    "페이지 (page)": p.page or "-",
                    "런북": p.section,
                    "근거 (why)": " · ".join(p.reasons),
                    "명령 (command)": p.command,
                }
                for p in self.pages
            ],
            columns=["심각도", "업데이트 주기", "페이지 (page)", "런북", "근거 (why)", "명령 (command)"],
        )

    def mitigations(self) -> list[Mitigation]:
        """The banner's "지금 할 일": open each page, most severe first."""
        return [
            Mitigation(
                action=f"open-{p.page}",
                label=f"§0 → {p.section} [{p.severity.value}, 업데이트 {p.severity.update_cadence}]",
                command=p.command,
                needed=True,
            )
            for p in self.pages
            if p.page
        ]


def command(page: str, wi_id: str = "", since: str = "", until: str = "") -> str:
    """`opsbook run <page> --wi <WI>`, with the board's own window bounds when they were given."""
    parts = ["opsbook", "run", page, "--wi", wi_id or WI_PLACEHOLDER]
    for name, value in (("since", since), ("until", until)):
        if value:
            parts += ["-p", name, value]
    return shlex.join(parts)


def _page_of(f: Finding, board: Board) -> tuple[str | None, str]:
    """A finding's page: its §4-E row's, else the runbook its check id names (traffic.<page>.*, <page>.*)."""
    from opslib.runbooks import RUNBOOKS

    for m in board.metrics:
        if m.finding.check == f.check:
            return m.row.page, m.row.next
    parts = f.check.split(".")
    for part in parts[:2]:
        if part in RUNBOOKS:
            return part, ""
    return None, ""


def _section(page: str | None, fallback: str) -> str:
    for s in symptoms():
        if page is not None and s.page == page:
            return s.section
    return fallback


def decide(
    board: Board,
    findings: Iterable[Finding] = (),
    *,
    symptom: str = "",
    wi_id: str = "",
    since: str = "",
    until: str = "",
) -> Decision:
    """Pages to open next, most severe first; the severity of the whole (the worst), with its cadence.

    findings: every problem the board's run raised (the metrics' and the traffic checks'); a
    reported symptom adds its page at its §0 class unless a measurement already put it higher.
    """
    reported = symptom_named(symptom)
    by_page: dict[str | None, dict[str, Any]] = {}
    for f in findings:
        if not f.outcome.is_problem or f.severity is None or f.check == COVERAGE:
            continue
        page, elsewhere = _page_of(f, board)
        if page is None and not elsewhere:
            elsewhere = f"{f.title} ({f.section})"  # no page of its own: the finding itself says where to look
        key = page if page is not None else f"none:{elsewhere or f.check}"
        entry = by_page.setdefault(key, {"page": page, "next": elsewhere, "severity": f.severity, "reasons": []})
        if f.severity.rank < entry["severity"].rank:
            entry["severity"] = f.severity
        value = "-" if f.value is None else f"{f.value:g}{f.unit}" if isinstance(f.value, int | float) else f.value
        entry["reasons"].append(f"{f.key} {f.severity.value} ({value})")
    if reported is not None:
        key = reported.page if reported.page is not None else f"none:{reported.next}"
        entry = by_page.setdefault(
            key, {"page": reported.page, "next": reported.next, "severity": reported.severity, "reasons": []}
        )
        if not entry["reasons"]:
            entry["severity"] = reported.severity
        entry["reasons"].insert(0, f"보고된 증상 (reported): {reported.symptom}")
    pages = []
    for entry in by_page.values():
        page = entry["page"]
        pages.append(
            NextPage(
                page=page,
                section=_section(page, entry["next"]),
                severity=entry["severity"],
                reasons=tuple(entry["reasons"]),
                command=command(page, wi_id, since, until) if page else entry["next"],
            )
        )
    # most severe first; on a tie the reported symptom's page, then pages before dashboards
    symptom_page = reported.page if reported else None
    pages.sort(key=lambda p: (p.severity.rank, p.page != symptom_page or p.page is None, p.page is None))
    worst = pages[0].severity if pages else None
    return Decision(worst, tuple(pages), reported, sentence(worst, pages))


def sentence(worst: Severity | None, pages: list[NextPage]) -> str:
    if worst is None:
        return "§0: 열어야 할 페이지 없음: 측정한 지표가 모두 선 안쪽입니다 (no page to open; see NOT_EVALUATED rows)"
    first = pages[0]
    where = f"{first.page} ({first.section}) → {first.command}" if first.page else first.command
    more = f" (외 {len(pages) - 1}곳: 아래 표)" if len(pages) > 1 else ""
    return f"§0: {worst.value} · 상황 업데이트 {worst.update_cadence} 주기 · 다음: {where}{more}"
