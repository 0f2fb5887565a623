"""Runbook §1's seven steps as a checklist, the severity, and whether the incident may be closed.

선언 → 분류 → 완화 → 소통 → 근본 원인 → 방지 → 종결, each done or open from the evidence. Close is
refused (CONDITIONAL, with the reason) while any page's last run does not meet its exit
condition: "cannot judge" and "no exit condition reported" are not "met".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from opslib import checks
from opslib.incident.bundles import Evidence
from opslib.incident.cadence import Cadence
from opslib.results import ExitState, Finding, Severity, worst_severity
from opslib.runbooks import RUNBOOKS
from opslib.timewindow import kst

STEPS = (
    ("선언", "Declare"),
    ("분류", "Classify"),
    ("완화", "Mitigate"),
    ("소통", "Communicate"),
    ("근본 원인", "Root Cause"),
    ("방지", "Prevent"),
    ("종결", "Close"),
)


@dataclass(frozen=True)
class Classification:
    given: Severity | None
    computed: Severity | None

    @property
    def severity(self) -> Severity | None:
        """The IC's call when given (the runbook leaves it to the IC), else the evidence's."""
        return self.given or self.computed

    @property
    def disagreement(self) -> int:
        if self.given is None or self.computed is None:
            return 0
        return abs(self.given.rank - self.computed.rank)

    @property
    def sentence(self) -> str:
        computed = self.computed.value if self.computed else "없음 (no problem found)"
        if self.given is None:
            return f"증거로 계산한 심각도 {computed} (computed from the evidence)"
        if self.disagreement:
            return (
                f"심각도 불일치: 입력 {self.given.value}, 증거 {computed} "
                f"(severity given {self.given.value} disagrees with the evidence, {computed})"
            )
        return f"입력 {self.given.value} = 증거 {computed} (given and computed agree)"


def classify(ev: Evidence, given: str) -> Classification:
    return Classification(Severity(given) if given else None, worst_severity(f for r in ev.runs for f in r.findings))


@dataclass(frozen=True)
class ExitOfPage:
    page: str
    state: ExitState | None
    run: str

    @property
    def met(self) -> bool:
        return self.state is not None and self.state.met is True

    @property
    def reason(self) -> str:
        if self.state is None:
            return f"{self.page}: 종료 조건 보고 없음 (its last run reports no exit condition)"
        if self.state.met is None:
            return f"{self.page}: 판정 불가 (cannot judge) · {self.state.sentence}"
        return f"{self.page}: {self.state.sentence}"


def exits(ev: Evidence) -> tuple[ExitOfPage, ...]:
    """The last run's exit state of every page that has an exit condition (the board has none)."""
    out = []
    for page in ev.pages:
        last = ev.last_run(page)
        known = RUNBOOKS.get(page)
        if last is not None and (known is None or known.exit_condition or last.exit is not None):
            out.append(ExitOfPage(page, last.exit, last.folder.name))
    return tuple(out)


@dataclass(frozen=True)
class Close:
    requested: datetime | None
    allowed: bool
    open_pages: tuple[ExitOfPage, ...]
    sentence: str


def judge_close(ev: Evidence, closed: datetime | None) -> Close:
    pages = exits(ev)
    still = tuple(p for p in pages if not p.met)
    if not pages:
        return Close(closed, False, (), "종결 불가: 이 WI로 실행된 페이지 증거 없음 (no verified run of any page)")
    if still:
        why = "; ".join(p.reason for p in still)
        verb = "종결 거부 (CONDITIONAL: close refused)" if closed else "종결 불가 (not closable yet)"
        return Close(closed, False, still, f"{verb}: {why}")
    if closed is None:
        return Close(
            None, True, (), "모든 페이지 종료 조건 충족: 종결 가능 (every page's exit condition met; closable)"
        )
    return Close(closed, True, (), f"종결: {kst(closed)} (every page's exit condition met)")


@dataclass(frozen=True)
class Step:
    ko: str
    en: str
    done: bool
    detail: str


def checklist(
    declared: datetime | None,
    classification: Classification,
    executed: pd.DataFrame,
    cadence: Cadence,
    causes: int,
    close: Close,
) -> tuple[Step, ...]:
    sev = classification.severity
    n = len(executed)
    if cadence.updates is None:
        told, said = False, "업데이트 게시 시각 미입력 (update_times not given)"
    elif cadence.minutes is None:
        told, said = bool(cadence.updates), f"업데이트 {len(cadence.updates)}회 ({cadence.sentence})"
    else:
        told, said = not cadence.overdue, cadence.sentence
    state = [
        (declared is not None, f"선언 {kst(declared)}" if declared else "선언 시각 미입력 (declared_at not given)"),
        (sev is not None, classification.sentence),
        (n > 0, f"실행된 완화 조치 {n}건 (admin_audit_log)" if n else "WI로 실행된 완화 조치 없음 (dry-runs only)"),
        (told, said),
        (False, f"후보 사실 {causes}건: 사람이 포스트모템에 확정 (candidates listed; a person confirms)"),
        (False, "재발 방지 조치는 사람이 포스트모템에 기입 (action items: for a person to write)"),
        (close.allowed and close.requested is not None, close.sentence),
    ]
    return tuple(Step(ko, en, done, detail) for (ko, en), (done, detail) in zip(STEPS, state, strict=True))


def checklist_frame(steps: tuple[Step, ...]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "#": i,
                "단계 (step)": f"{s.ko} ({s.en})",
                "상태": "done" if s.done else "open",
                "근거 (evidence)": s.detail,
            }
            for i, s in enumerate(steps, 1)
        ]
    )


def findings(
    ev: Evidence, classification: Classification, close: Close, cadence: Cadence, executed: int
) -> tuple[Finding, ...]:
    """The page's findings: what the incident record lacks or contradicts (never the outage itself)."""
    out: list[Finding] = []
    if not ev.runs:
        out.append(
            checks.error(
                checks.get("incident.evidence"),
                f"{ev.wi_id} 로 실행된 검증된 번들 없음 (no verified bundle of {ev.wi_id} under {ev.folder})",
            )
        )
    else:
        out.append(checks.evaluate(checks.get("incident.evidence"), len(ev.runs), detail=", ".join(ev.pages)))
        out.append(checks.evaluate(checks.get("incident.close_refused"), len(close.open_pages), detail=close.sentence))
    out.append(
        checks.evaluate(
            checks.get("incident.bundle_unverified"),
            len(ev.rejected),
            detail="; ".join(f"{x.folder.name}: {' / '.join(x.problems)}" for x in ev.rejected),
        )
    )
    if cadence.minutes is not None:
        out.append(
            checks.evaluate(
                checks.get("incident.updates_overdue"),
                None if cadence.updates is None else len(cadence.overdue),
                detail=cadence.sentence,
            )
        )
    out.append(
        checks.evaluate(
            checks.get("incident.severity_disagreement"),
            classification.disagreement,
            detail=classification.sentence,
        )
    )
    # the banner's P3 line and the table said only the count: say where it was looked for
    where = f"admin_audit_log, reason 'WI {ev.wi_id}' 또는 metadata.opsbook.wi_id"
    said = (
        f"{ev.wi_id}로 실행된 가드 조치 {executed}건 ({where})"
        if executed
        else f"{ev.wi_id}로 실행된 완화 조치 없음: 드라이런만 (no guarded action executed with {ev.wi_id}; {where})"
    )
    out.append(checks.evaluate(checks.get("incident.mitigation_executed"), executed, detail=said))
    return tuple(out)
