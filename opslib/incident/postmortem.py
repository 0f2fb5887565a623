"""The post-mortem, written in exactly the runbook's templates, measured fields filled in.

OPS_RUNBOOK §1 "포스트모템 템플릿 (General Post-Mortem)" always; payments.md's payment incident
report ("결제 인시던트 보고", the section OPS_RUNBOOK §1 points to as §8) as well when a payments
run is in the evidence. The human fields (root cause, contributing factors, what went well,
action items) stay prompts, marked TO_FILL, with the candidate facts from the evidence under
them. The roles' names appear here and nowhere else in the evidence.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from opslib.affected import merge
from opslib.incident.bundles import Evidence
from opslib.incident.cadence import Cadence
from opslib.incident.closing import Classification, Close
from opslib.incident.impact import Impact
from opslib.incident.timeline import Event, Kind, cause_facts, finding_line, first, hhmm, last, onset
from opslib.masking import mask_text
from opslib.timewindow import KST

TO_FILL = "**[TO_FILL: 사람이 작성 / to be written by a person]**"
ROLES = ("IC", "Ops", "Comms", "Scribe")


@dataclass(frozen=True)
class Inputs:
    wi_id: str
    title: str
    roles: Mapping[str, str]  # IC, Ops, Comms, Scribe → names (post-mortem only)
    declared: datetime | None
    closed: datetime | None
    link_base: Path  # bundle links are relative to the folder the post-mortem is written to


def _prompt(candidates: Sequence[str], none: str = "(증거에 후보 없음 / no candidate in the evidence)") -> list[str]:
    lines = [TO_FILL, "", "후보 사실 (candidate facts from the evidence):"]
    lines += [f"- {mask_text(c)}" for c in candidates] or [f"- {none}"]
    return lines


def _role(inputs: Inputs, role: str) -> str:
    name = inputs.roles.get(role, "").strip()
    return name or "[이름]"


def _minutes(start: datetime | None, end: datetime | None) -> str:
    if start is None or end is None:
        return "N"
    return f"{max(0, round((end - start).total_seconds() / 60))}"


def _link(inputs: Inputs, folder: Path) -> str:
    report = next(iter(sorted(folder.glob("*.html"))), folder / "result.json")
    try:
        rel = os.path.relpath(report, inputs.link_base)
    except ValueError:
        rel = str(report)
    return rel.replace(os.sep, "/")


def _fix_deploy(events: Sequence[Event]) -> Event | None:
    """A deploy recorded after the first detection: the likely fix (a person confirms)."""
    detected = first(events, Kind.DETECTED)
    changes = [e for e in events if e.kind is Kind.CHANGE and (detected is None or e.at > detected.at)]
    return changes[0] if changes else None


def recovered_at(events: Sequence[Event], close: Close) -> datetime | None:
    met = last(events, Kind.EXIT_MET)
    return met.at if met is not None and close.allowed else None


def general(
    inputs: Inputs,
    ev: Evidence,
    classification: Classification,
    impact: Impact,
    events: Sequence[Event],
    close: Close,
    cadence: Cadence,
) -> str:
    sev = classification.severity.value if classification.severity else "P?"
    detected = first(events, Kind.DETECTED)
    declared = first(events, Kind.DECLARED)
    cause = first(events, Kind.CAUSE)
    fix = _fix_deploy(events)
    recovered = recovered_at(events, close)
    began = onset(events)
    start = began.at if began else None
    day = start.astimezone(KST).strftime("%Y-%m-%d") if start else "YYYY-MM-DD"
    lines = [
        f"## Post-Mortem: {mask_text(inputs.title)} [SEV-{sev}]",
        "",
        f"**일시**: {day}",
        f"**지속 시간**: {_minutes(start, recovered or inputs.closed)}분",
        f"**심각도**: {sev}",
        f"**IC**: {_role(inputs, 'IC')}",
        f"**Ops**: {_role(inputs, 'Ops')}",
        f"**Comms**: {_role(inputs, 'Comms')}",
        f"**Scribe**: {_role(inputs, 'Scribe')}",
        "",
        "### 영향 (Impact)",
        f"- 영향 사용자 수: {impact.users:,}명",
        f"- 매출 영향: 주문 {impact.orders:,}건, {impact.krw:,}원",
        f"- 데이터 영향: DT {impact.dt:,} (미적립 {impact.total.dt('dt_not_credited'):,} · 이중 적립 "
        f"{impact.total.dt('dt_credited_twice'):,} · 환불 후 미회수 {impact.total.dt('dt_not_clawed_back'):,}), "
        f"메시지 {impact.messages:,}건",
    ]
    if impact.unkeyed_pages:
        lines.append(f"- (합계에 없는 페이지: {', '.join(impact.unkeyed_pages)}: 각 보고서의 영향 섹션 참조)")
    lines += [
        "",
        "### 타임라인 (Timeline)",
        "| 시각 (KST) | 이벤트 |",
        "|-----------|--------|",
        f"| {hhmm(detected.at if detected else None)} | 최초 감지 |",
        f"| {hhmm(declared.at if declared else None)} | IC 배정 |",
        f"| {hhmm(cause.at if cause else None)} | 근본 원인 파악 |",
        f"| {hhmm(fix.at if fix else None)} | 수정 배포 |",
        f"| {hhmm(recovered)} | 복구 확인 |",
    ]
    lines += [
        f"| {hhmm(e.at)} | {e.kind.label_ko}: {mask_text(e.text)} |".replace("\n", " ")
        for e in events
        if e.kind in (Kind.ACTION, Kind.RUN, Kind.CHANGE, Kind.EXIT_MET, Kind.CLOSED)
    ]
    causes = [c for r in ev.runs if r.problems for c in cause_facts(r)]
    factors = [f"{f.title}: {f.detail}" for r in ev.runs for f in r.problems if f.severity and f.severity.rank >= 2]
    factors += [f"검증 실패 증거: {x.folder.name}: {'; '.join(x.problems)}" for x in ev.rejected]
    if cadence.overdue:
        factors.append(f"상황 업데이트 지연: {cadence.sentence}")
    if classification.disagreement:
        factors.append(classification.sentence)
    well = []
    acted = [e for e in events if e.kind is Kind.ACTION]
    if acted and detected:
        well.append(f"최초 감지 후 {_minutes(detected.at, acted[0].at)}분에 첫 완화 조치 ({acted[0].text})")
    if recovered and detected:
        well.append(f"최초 감지 후 {_minutes(detected.at, recovered)}분에 모든 종료 조건 충족")
    if cadence.updates is not None and cadence.minutes and not cadence.overdue:
        well.append(cadence.sentence)
    # what each page's last run still listed as to do (a dry-run that would change something)
    todo = [
        f"{page}: {m.get('label')}"
        for page in ev.pages
        for m in (ev.last_run(page).mitigations if ev.last_run(page) else ())  # type: ignore[union-attr]
        if m.get("needed")
    ]
    todo += [f"{f.title}" for r in ev.runs for f in r.problems if f.severity and f.severity.rank <= 1]
    lines += ["", "### 근본 원인 (Root Cause)", *_prompt(list(dict.fromkeys(causes)))]
    lines += ["", "### 기여 요인 (Contributing Factors)", *_prompt(list(dict.fromkeys(factors)))]
    lines += ["", "### 잘된 것 (What Went Well)", *_prompt(well)]
    lines += [
        "",
        "### 재발 방지 (Action Items)",
        "| 조치 | 담당 | 기한 |",
        "|------|------|------|",
        "| | | |",
        "",
        *_prompt(list(dict.fromkeys(todo))),
    ]
    deploys = [e for e in events if e.kind is Kind.CHANGE]
    lines += [
        "",
        "### 링크",
        f"- Notion WI: {inputs.wi_id}",
        "- Slack Thread:",
        "- PR:",
        "- Deploy: " + "; ".join(f"{hhmm(d.at)} {mask_text(d.text)}" for d in deploys),
    ]
    lines += [
        f"- Evidence ({r.runbook}, {hhmm(r.started_at)} KST, {r.verdict.value}): "
        f"[{r.folder.name}]({_link(inputs, r.folder)})"
        for r in ev.runs
    ]
    return "\n".join(lines) + "\n"


def payments(
    inputs: Inputs,
    ev: Evidence,
    classification: Classification,
    events: Sequence[Event],
    close: Close,
) -> str | None:
    """payments.md's payment incident report, when a payments run is in the evidence."""
    runs = [r for r in ev.runs if r.runbook == "payments"]
    if not runs:
        return None
    sev = classification.severity.value if classification.severity else "P?"
    keyed = [r.affected for r in runs if r.affected is not None]
    mine = merge(*keyed) if keyed else None
    firsts = [r.first_bad_at for r in runs if r.first_bad_at]
    detected = min(firsts) if firsts else None
    acted = [e for e in events if e.kind is Kind.ACTION]
    declared = first(events, Kind.DECLARED)
    response = acted[0].at if acted else declared.at if declared else None
    causes = [e for e in events if e.kind is Kind.CAUSE and "payments" in e.source]
    fix = _fix_deploy(events)
    last_run = runs[-1]
    recovered = last_run.exit_met_at
    when = detected.astimezone(KST).strftime("%Y-%m-%d %H:%M KST") if detected else "YYYY-MM-DD HH:MM KST"
    scope = (
        f"{len(mine.users):,}명 사용자, {len(mine.orders):,}건 거래, {mine.krw:,}원 영향"
        if mine is not None
        else "N명 사용자, N건 거래, N원 영향"
    )
    symptoms = list(
        dict.fromkeys(
            f"{finding_line(f)} ({f.severity.value if f.severity else '-'})" for r in runs for f in r.problems
        )
    )
    fixes = [f"{hhmm(a.at)} {a.text}" for a in acted] + ([f"{hhmm(fix.at)} {fix.text}"] if fix else [])
    lines = [
        "## 결제 인시던트 보고",
        "",
        f"**시각**: {when}",
        f"**심각도**: {sev}",
        f"**영향 범위**: {scope}",
        "",
        "### 증상",
        *([f"- {mask_text(s)}" for s in symptoms] or ["- [구체적 증상 기술]"]),
        "",
        "### 타임라인",
        f"- {hhmm(detected)} - 최초 감지 (opsbook payments: 첫 이상 구간)",
        f"- {hhmm(response)} - 1차 대응 시작",
        f"- {hhmm(causes[0].at if causes else None)} - 근본 원인 파악",
        f"- {hhmm(fix.at if fix else None)} - 수정 배포",
        f"- {hhmm(recovered)} - 정상 확인",
        "",
        "### 근본 원인 (RCA)",
        *_prompt([c for r in runs if r.problems for c in cause_facts(r)]),
        "",
        "### 수정 내용",
        *_prompt(fixes),
        "",
        "### 재발 방지",
        "- [ ] [조치 1]",
        "- [ ] [조치 2]",
    ]
    return "\n".join(lines) + "\n"
