"""Runbook §1 타임라인 (KST): from the first bad bucket to each page's exit condition met.

Events come from three places: the bundles of the work item (first bad bucket a page measured,
each run and what it stated as the cause, the moment each page's exit condition was met), the
database (each guarded action executed with the WI, from admin_audit_log; deploys and
migrations recorded in ops_audit_log), and the parameters (declared, closed).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd
from sqlalchemy.engine import Connection

from opslib import checks
from opslib.display import for_display
from opslib.fetch import QueryTiming, fetch, timings
from opslib.incident.bundles import Evidence, Run
from opslib.results import Finding
from opslib.timewindow import KST, kst

# Guarded actions and deploys are looked for from a little before the first evidence to the close.
LEAD = timedelta(hours=6)


class Kind(enum.Enum):
    DETECTED = "detected"
    DECLARED = "declared"
    RUN = "run"
    CAUSE = "cause"
    ACTION = "action"
    CHANGE = "change"
    EXIT_MET = "exit_met"
    CLOSED = "closed"

    @property
    def label_ko(self) -> str:
        return {
            "detected": "최초 감지",
            "declared": "선언 · IC 배정",
            "run": "런북 페이지 실행",
            "cause": "근본 원인 후보",
            "action": "완화 조치 실행",
            "change": "배포/변경 기록",
            "exit_met": "복구 확인 (종료 조건 충족)",
            "closed": "종결",
        }[self.value]


@dataclass(frozen=True)
class Event:
    at: datetime
    kind: Kind
    text: str
    source: str  # where it was read: a run folder, admin_audit_log #id, a parameter


@dataclass(frozen=True)
class Actions:
    """Guarded actions executed with the WI (admin_audit_log) and changes recorded around them."""

    executed: pd.DataFrame  # raw rows (for the timeline)
    shown: pd.DataFrame  # masked, KST
    changes: pd.DataFrame
    findings: tuple[Finding, ...]
    timings: tuple[QueryTiming, ...]


def actions(conn: Connection, wi_id: str, since: datetime, until: datetime) -> Actions:
    """Read-only: admin_audit_log rows carrying the WI, and ops_audit_log deploys, in [since, until)."""
    params = {"since": since, "until": until}
    audit = fetch(conn, "incident.guarded_actions", {**params, "wi_id": wi_id})
    changed = fetch(conn, "admin.change_events", params)
    found = []
    if not audit.ok:
        found.append(checks.error(checks.get("incident.mitigation_executed"), audit.error or "", subject="완화"))
    shown = audit.frame.drop(columns=["admin_id"], errors="ignore")
    return Actions(
        executed=audit.frame,
        shown=for_display(shown),
        changes=for_display(changed.frame) if changed.ok else pd.DataFrame(),
        findings=tuple(found),
        timings=timings(audit, changed),
    )


def search_range(
    ev: Evidence, declared: datetime | None, closed: datetime | None, now: datetime
) -> tuple[datetime, datetime]:
    """Where to look for the WI's actions: from before the first evidence to the close (or now)."""
    starts = [r.started_at for r in ev.runs] + [r.first_bad_at for r in ev.runs if r.first_bad_at]
    starts += [declared] if declared else []
    since = (min(starts) if starts else now) - LEAD
    ends = [now] + ([closed] if closed else []) + [r.finished_at for r in ev.runs if r.finished_at]
    return since, max(ends) + timedelta(minutes=1)


def first_detection(ev: Evidence) -> tuple[datetime | None, str]:
    """The earliest bad bucket any page measured (not its first run), and where it was read."""
    measured = [(r.first_bad_at, r) for r in ev.runs if r.first_bad_at is not None]
    if measured:
        at, run = min(measured, key=lambda x: x[0])
        return at, f"{run.runbook}: 첫 이상 구간 (first bad 5-min bucket) · {run.folder.name}"
    failing = [r for r in ev.runs if r.problems]
    if failing:
        r = failing[0]
        return r.started_at, f"{r.runbook}: 구간 정보 없음, 첫 실패 실행 시각 (no bucket reported: first failing run)"
    return None, ""


def cause_facts(run: Run) -> list[str]:
    """What a run stated about the cause: its headline, causes counted once, named facts, P0/P1 problems."""
    out = list(run.headline)
    out += [f"{g.get('cause')}: {g.get('items')}건 ({', '.join(g.get('checks', []))})" for g in run.cause_groups]
    for k, v in run.facts.items():
        said = _fact_text(v)
        if k not in ("traffic", "exit_condition_met") and said:
            out.append(f"{k} = {said}")
    out += [f"[{f.severity.value}] {finding_line(f)}" for f in run.problems if f.severity and f.severity.rank <= 1]
    return list(dict.fromkeys(out))


_SCALAR = (str, int, float, bool)


def _fact_text(value: object) -> str | None:
    """A named fact as a cause candidate: a value or a list of values. A page's nested facts (the
    board's coverage and decision, the deploy's deployment) are result.json's, not a sentence: the
    timeline and the post-mortem printed them as Python dicts."""
    if isinstance(value, _SCALAR) and value != "":
        return str(value)
    if isinstance(value, list | tuple) and value and all(isinstance(v, _SCALAR) for v in value):
        return ", ".join(str(v) for v in value)
    return None


# A finding's detail quoted as its value (a check without a number) is cut at this length.
DETAIL_CHARS = 200


def finding_line(f: Finding) -> str:
    subject = f" · {f.subject}" if f.subject else ""
    if f.value is None:
        # "None" was printed for a check without a number: its detail says what was found
        detail = " ".join((f.detail or "-").split())
        return f"{f.title}{subject}: {detail if len(detail) <= DETAIL_CHARS else detail[: DETAIL_CHARS - 1] + '…'}"
    return f"{f.title}{subject}: {f.value}{f.unit}"


def build(
    ev: Evidence,
    executed: pd.DataFrame,
    changes: pd.DataFrame,
    declared: datetime | None,
    closed: datetime | None,
) -> tuple[Event, ...]:
    """Every event, in time order (pure)."""
    events: list[Event] = []
    detected, where = first_detection(ev)
    if detected is not None:
        events.append(Event(detected, Kind.DETECTED, "첫 이상 구간 (first bad bucket measured)", where))
    if declared is not None:
        events.append(
            Event(declared, Kind.DECLARED, "#ops-incidents 선언, IC 배정 (declared)", "parameter declared_at")
        )
    cause_said: set[str] = set()
    for r in ev.runs:
        sev = f" · {r.severity.value}" if r.severity else ""
        events.append(Event(r.started_at, Kind.RUN, f"opsbook run {r.runbook}: {r.verdict.value}{sev}", r.folder.name))
        new = [c for c in cause_facts(r) if c not in cause_said]
        if new and r.problems:
            cause_said |= set(new)
            events.append(Event(r.finished_at or r.started_at, Kind.CAUSE, " / ".join(new[:3]), r.folder.name))
    for row in executed.to_dict("records"):
        at = pd.Timestamp(row["created_at"]).to_pydatetime()
        what = f"{row['action']} · {row['target_type']}/{row['target_id']}"
        if row.get("changed"):
            what += f" ({row['changed']})"
        events.append(Event(at, Kind.ACTION, what, f"admin_audit_log #{row['id']}"))
    if not changes.empty and detected is not None:
        for row in changes.to_dict("records"):
            at = pd.Timestamp(row["occurred_at"]).to_pydatetime()
            if at >= detected - timedelta(minutes=30):
                events.append(
                    Event(
                        at,
                        Kind.CHANGE,
                        f"{row['action']} · {row.get('target_id') or ''} ({row['actor']})",
                        "ops_audit_log",
                    )
                )
    for page in ev.pages:
        last = ev.last_run(page)
        if last is not None and last.exit_met_at is not None:
            events.append(
                Event(
                    last.exit_met_at,
                    Kind.EXIT_MET,
                    f"{page}: 종료 조건 충족 ({last.exit.sentence if last.exit else ''})",
                    last.folder.name,
                )
            )
    if closed is not None:
        events.append(Event(closed, Kind.CLOSED, "종결 (closed)", "parameter closed_at"))
    return tuple(sorted(events, key=lambda e: (e.at, list(Kind).index(e.kind))))


def frame(events: Sequence[Event]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"시각 (KST)": kst(e.at, "%m-%d %H:%M:%S"), "단계": e.kind.label_ko, "이벤트": e.text, "출처": e.source}
            for e in events
        ],
        columns=["시각 (KST)", "단계", "이벤트", "출처"],
    )


def onset(events: Sequence[Event]) -> Event | None:
    """When the incident started as far as the record knows: the first detection or the declaration,
    whichever came first. A page run after a declaration made on a user's report detects late: the
    status update's 시작 and the post-mortem's duration began after the declaration."""
    known = [e for e in (first(events, Kind.DETECTED), first(events, Kind.DECLARED)) if e is not None]
    return min(known, key=lambda e: e.at) if known else None


def first(events: Sequence[Event], kind: Kind) -> Event | None:
    return next((e for e in events if e.kind is kind), None)


def last(events: Sequence[Event], kind: Kind) -> Event | None:
    found = [e for e in events if e.kind is kind]
    return found[-1] if found else None


def hhmm(at: datetime | None) -> str:
    return at.astimezone(KST).strftime("%H:%M") if at else "HH:MM"
