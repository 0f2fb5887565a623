"""Runbook §1: every evidence bundle run with one work item, each checked against its manifest.

`opsbook run <page> --wi WI-042` leaves a run folder `<page>_<stamp>_WI-042_<random>` holding
result.json and a SHA-256 manifest (opslib.evidence). The incident page reads every such folder
under the evidence folder, whatever the page. A folder whose manifest does not verify (a file
changed or removed after the run, an unsealed run) is reported and left out of every figure:
a post-mortem quotes only evidence that is what the run wrote.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from opslib import evidence
from opslib.affected import Affected
from opslib.results import ExitState, Finding, Severity, Verdict, worst_severity
from opslib.timewindow import KST

INCIDENT_RUNBOOK = "incident"


def _instant(text: object) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None


@dataclass(frozen=True)
class Run:
    """One verified run of a page for the work item, as its result.json tells it."""

    folder: Path
    runbook: str
    section: str
    started_at: datetime
    finished_at: datetime | None
    verdict: Verdict
    findings: tuple[Finding, ...]
    headline: tuple[str, ...]
    facts: Mapping[str, Any]
    cause_groups: tuple[Mapping[str, Any], ...]
    exit: ExitState | None
    first_bad_at: datetime | None
    affected: Affected | None  # None: the page reports no keyed impact
    window_until: datetime | None
    error: str | None = None
    mitigations: tuple[Mapping[str, Any], ...] = ()  # the dry-runs the page listed under "what to do now"

    @property
    def severity(self) -> Severity | None:
        return worst_severity(self.findings)

    @property
    def problems(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.outcome.is_problem)

    @property
    def exit_met_at(self) -> datetime | None:
        """When the exit condition was met: its hold completed (since + hold), else the run's end."""
        if self.exit is None or self.exit.met is not True:
            return None
        if self.exit.since is not None and self.exit.hold_minutes:
            return self.exit.since + pd.Timedelta(minutes=self.exit.hold_minutes).to_pytimedelta()
        return self.window_until or self.finished_at

    @classmethod
    def from_result(cls, folder: Path, data: Mapping[str, Any]) -> Run:
        state = data.get("exit_state") or None
        exit_state = (
            ExitState(
                state.get("met"), state.get("sentence", ""), _instant(state.get("since")), state.get("hold_minutes")
            )
            if isinstance(state, Mapping)
            else None
        )
        incident = data.get("incident") or {}
        keyed = incident.get("affected")
        started = _instant(data.get("started_at"))
        if started is None:
            raise ValueError("result.json has no started_at")
        return cls(
            folder=folder,
            runbook=str(data.get("runbook", "?")),
            section=str(data.get("section", "")),
            started_at=started,
            finished_at=_instant(data.get("finished_at")),
            verdict=Verdict(data.get("verdict", "ERROR")),
            findings=tuple(Finding.from_json(f) for f in data.get("findings") or ()),
            headline=tuple(str(h) for h in data.get("headline") or ()),
            facts=dict(data.get("facts") or {}),
            cause_groups=tuple(data.get("cause_groups") or ()),
            exit=exit_state,
            first_bad_at=_instant(incident.get("first_bad_at")),
            affected=Affected.from_json(keyed) if isinstance(keyed, Mapping) else None,
            window_until=_instant((data.get("window") or {}).get("until")),
            error=data.get("error"),
            mitigations=tuple(m for m in data.get("mitigations") or () if isinstance(m, Mapping)),
        )


@dataclass(frozen=True)
class Rejected:
    """A run folder of the work item that is not used: why, in one sentence per problem."""

    folder: Path
    problems: tuple[str, ...]


@dataclass(frozen=True)
class Evidence:
    wi_id: str
    folder: Path
    runs: tuple[Run, ...]  # verified, oldest first
    rejected: tuple[Rejected, ...]
    findings: tuple[Finding, ...] = field(default_factory=tuple)

    @property
    def pages(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(r.runbook for r in self.runs))

    def last_run(self, runbook: str) -> Run | None:
        runs = [r for r in self.runs if r.runbook == runbook]
        return runs[-1] if runs else None

    def frame(self) -> pd.DataFrame:
        """One row per run (used or not), for the page's table: KST times, no personal data."""
        rows = [
            {
                "page": r.runbook,
                "run": r.folder.name,
                "started_at": pd.Timestamp(r.started_at).tz_convert(KST),
                "verdict": r.verdict.value,
                "severity": r.severity.value if r.severity else "",
                "exit": {True: "met", False: "not met", None: "cannot judge"}[r.exit.met] if r.exit else "-",
                "manifest": "verified",
            }
            for r in self.runs
        ] + [
            {
                "page": x.folder.name.split("_")[0],
                "run": x.folder.name,
                "started_at": None,
                "verdict": "",
                "severity": "",
                "exit": "",
                "manifest": "NOT USED: " + "; ".join(x.problems),
            }
            for x in self.rejected
        ]
        return pd.DataFrame(rows, columns=["page", "run", "started_at", "verdict", "severity", "exit", "manifest"])


def _belongs(folder: Path, wi_id: str) -> bool:
    """The folder name carries the WI (evidence.new_run_folder); an unreadable result.json still names it."""
    return f"_{wi_id}_" in folder.name


def candidate_folders(root: Path) -> list[Path]:
    """Run folders under root (at any depth), never a folder inside a run folder."""
    if not root.is_dir():
        return []
    found = sorted(
        {p.parent for name in (evidence.MANIFEST, evidence.RESULT, evidence.INCOMPLETE) for p in root.rglob(name)}
    )
    return [f for f in found if not any(o in f.parents for o in found)]


def collect(root: Path, wi_id: str) -> Evidence:
    """Every run folder of `wi_id` under `root`, verified; the incident page's own runs are skipped."""
    runs: list[Run] = []
    rejected: list[Rejected] = []
    for folder in candidate_folders(root):
        data: Mapping[str, Any] | None = None
        try:
            data = json.loads((folder / evidence.RESULT).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = None
        if isinstance(data, Mapping):
            if str(data.get("wi_id") or "") != wi_id and not _belongs(folder, wi_id):
                continue
            if data.get("runbook") == INCIDENT_RUNBOOK:
                continue
        elif not _belongs(folder, wi_id) or folder.name.startswith(INCIDENT_RUNBOOK + "_"):
            continue
        problems = evidence.verify(folder)
        if not problems and not isinstance(data, Mapping):
            problems = [f"{evidence.RESULT} is not readable JSON"]
        if not problems and str(data.get("wi_id") or "") != wi_id:  # type: ignore[union-attr]
            problems = [f"the folder name says {wi_id} but result.json says {data.get('wi_id')!r}"]  # type: ignore[union-attr]
        if problems:
            rejected.append(Rejected(folder, tuple(problems)))
            continue
        try:
            runs.append(Run.from_result(folder, data))  # type: ignore[arg-type]
        except (ValueError, KeyError, TypeError) as exc:
            rejected.append(Rejected(folder, (f"{evidence.RESULT} could not be read ({exc})",)))
    runs.sort(key=lambda r: r.started_at)
    return Evidence(wi_id, root, tuple(runs), tuple(rejected))
