"""What changed: Edge Function deployment versions seen before vs after the deploy time.

The deploy time is a parameter; empty, it is read from the logs: the earliest first invocation
of a version that differs from the version the function ran before (within the page's window).
The functions judged are the ones named by the parameter, or by default whatever changed
version. A NULL deployment_version falls back to metadata.version; a function whose rows carry
neither has an unknown version (said so, never read as "unchanged").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pandas as pd
from sqlalchemy.engine import Connection

from opslib import checks
from opslib.display import evidence, for_display
from opslib.fetch import QueryTiming, fetch, timings
from opslib.results import Finding, Outcome
from opslib.timewindow import Window, kst

UNKNOWN = "(unknown)"


@dataclass(frozen=True)
class FunctionChange:
    """One function's versions: the one running before the deploy and the ones seen after it."""

    function: str
    previous: str | None  # the version serving before the deploy (None: unknown or not invoked)
    after: tuple[str, ...]  # versions seen from the deploy time on (UNKNOWN for NULL versions)
    new: tuple[str, ...]  # versions seen after that differ from previous (and are known)
    first_new_at: datetime | None

    @property
    def changed(self) -> bool:
        return bool(self.new)


@dataclass(frozen=True)
class Deployment:
    """The deploy being observed: when, what changed, and the two windows compared."""

    deploy_at: datetime | None  # None: no deploy time given and no version change seen
    inferred: bool  # True when deploy_at was read from the logs
    release: str
    before: Window | None
    after: Window | None
    observe_minutes: int
    observation_ends: datetime | None  # deploy_at + observe_minutes
    changes: tuple[FunctionChange, ...]
    judged: tuple[str, ...]  # the functions whose before/after is judged
    requested: tuple[str, ...]  # the functions the parameter named ("" = whatever changed)
    table: pd.DataFrame  # per function and version: first/last seen, invocations, previous version
    events: pd.DataFrame  # CI deploy records (ops_audit_log) around the deploy
    sentence: str
    findings: tuple[Finding, ...]
    timings: tuple[QueryTiming, ...] = field(default_factory=tuple)

    @property
    def complete(self) -> bool:
        if self.after is None or self.observation_ends is None:
            return False
        return self.after.until >= self.observation_ends

    @property
    def changed(self) -> tuple[FunctionChange, ...]:
        return tuple(c for c in self.changes if c.changed)

    @property
    def facts(self) -> dict[str, object]:
        """For result.json: the deploy observed and what changed."""
        return {
            "deploy_at": self.deploy_at.isoformat() if self.deploy_at else None,
            "inferred": self.inferred,
            "release": self.release or None,
            "observe_minutes": self.observe_minutes,
            "observed_minutes": round(self.after.minutes, 1) if self.after else None,
            "complete": self.complete,
            "changed": {c.function: {"previous": c.previous, "new": list(c.new)} for c in self.changed},
            "judged": list(self.judged),
        }

    def change_of(self, function: str) -> FunctionChange | None:
        return next((c for c in self.changes if c.function == function), None)


def parse_functions(text: str) -> tuple[str, ...]:
    """'payment-webhook, ops-manage' -> ('ops-manage', 'payment-webhook'); '' -> () (= whatever changed)."""
    return tuple(sorted({part.strip() for part in text.replace(";", ",").split(",") if part.strip()}))


def _version(value: object) -> str | None:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    text = str(value).strip()
    return text or None


def _differing(rows: pd.DataFrame, previous: str | None) -> pd.DataFrame:
    """The rows of a known version other than previous (a boolean mask: an empty frame stays a frame)."""
    mask = pd.Series([_version(v) is not None and _version(v) != previous for v in rows["version"]], index=rows.index)
    return rows[mask.astype(bool)]


def function_changes(frame: pd.DataFrame, deploy_at: datetime | None) -> tuple[FunctionChange, ...]:
    """Pure: per function, the version before the deploy and the new ones after it.

    Without a deploy time, "before" is the version of the last invocation before the range and
    every version first seen in the range that differs from it is new.
    """
    if frame.empty:
        return ()
    out = []
    data = frame.assign(first_seen=pd.to_datetime(frame["first_seen"], utc=True))
    for fn, rows in data.groupby("function_name", sort=True):
        rows = rows.sort_values("first_seen")
        previous = _version(rows["previous_version"].iloc[0])
        at = pd.Timestamp(deploy_at) if deploy_at is not None else None
        if at is not None:
            before_rows = rows[rows["first_seen"] < at]
            known_before = [v for v in (_version(x) for x in before_rows["version"]) if v]
            if known_before:
                # the version that served last before the deploy
                last = before_rows.assign(last_seen=pd.to_datetime(before_rows["last_seen"], utc=True))
                last = last[last["version"].map(_version).notna()].sort_values("last_seen")
                previous = _version(last["version"].iloc[-1])
            after_rows = rows[pd.to_datetime(rows["last_seen"], utc=True) >= at]
        else:
            after_rows = rows
        after = tuple(dict.fromkeys(_version(v) or UNKNOWN for v in after_rows["version"]))
        new_rows = _differing(after_rows, previous)
        if previous is None and at is None:
            # nothing ran before the range (a drain that started late): the first version seen in it
            # is the one running before; a later, different one is new (hand-built round, NULL columns)
            known = rows[rows["version"].map(_version).notna()]
            previous = _version(known["version"].iloc[0]) if len(known) else None
            new_rows = _differing(after_rows, previous)
        if previous is None and at is not None:
            # a version first seen after the deploy with nothing known before it: new to us
            new_rows = new_rows[new_rows["first_seen"] >= at]
        new = tuple(dict.fromkeys(str(v) for v in new_rows["version"]))
        first_new = new_rows["first_seen"].min() if len(new_rows) else None
        out.append(
            FunctionChange(
                function=str(fn),
                previous=previous,
                after=after,
                new=new,
                first_new_at=None if first_new is None or pd.isna(first_new) else first_new.to_pydatetime(),
            )
        )
    return tuple(out)


def what_changed(
    conn: Connection,
    window: Window,
    deploy_at: str = "",
    functions: str = "",
    observe_minutes: int = 60,
    release: str = "",
) -> Deployment:
    """Find the deploy (given or inferred in the window), what changed, and the windows to compare."""
    from opslib.timewindow import parse_instant

    check = checks.get("deploy.version_change")
    requested = parse_functions(functions)
    given = parse_instant(deploy_at, name="deploy_at") if deploy_at else None
    span = timedelta(minutes=observe_minutes)
    # the versions are read from one observation span before the earliest candidate deploy time
    start = (given if given is not None and given < window.since else window.since) - span
    end = window.until if given is None else max(window.until, min(given + span, window.until))
    seen = fetch(conn, "deploy.versions", {"since": start, "until": end})
    findings: list[Finding] = []
    if not seen.ok:
        findings.append(checks.error(check, seen.error or "query failed"))
        return _empty(given, release, observe_minutes, requested, seen.error or "", findings, timings(seen))
    frame = seen.frame
    inferred = False
    at = given
    if at is None:
        candidates = [
            c for c in function_changes(frame, None) if c.changed and (not requested or c.function in requested)
        ]
        starts = [c.first_new_at for c in candidates if c.first_new_at is not None and c.first_new_at >= window.since]
        if starts:
            at, inferred = min(starts), True
    if at is None:
        detail = (
            "배포 시각(deploy_at)이 없고 측정 구간에서 버전이 바뀐 함수도 없습니다: 비교할 배포가 없습니다 "
            "(no deploy time given and no version change seen in the window)"
        )
        findings.append(checks.evaluate(check, None, detail=detail))
        return _empty(None, release, observe_minutes, requested, detail, findings, timings(seen), table=frame)
    if at >= window.until:
        detail = f"배포 시각 {kst(at)}이 측정 끝({kst(window.until)}) 이후입니다 (the deploy time is after the window)"
        findings.append(checks.error(check, detail))
        return _empty(at, release, observe_minutes, requested, detail, findings, timings(seen), table=frame)
    before = Window(at - span, at)
    after = Window(at, min(at + span, window.until))
    events = fetch(conn, "deploy.deploy_events", {"since": at - span, "until": after.until})
    changes = function_changes(frame, at)
    changed = [c for c in changes if c.changed]
    judged = requested or tuple(c.function for c in changed)
    unknown = [c.function for c in changes if c.after and all(v == UNKNOWN for v in c.after)]
    if changed:
        detail = "; ".join(f"{c.function}: {c.previous or '?'} → {', '.join(c.new)}" for c in changed)
        f = checks.evaluate(check, len(changed), subject=None, detail=detail, evidence=evidence(_tidy(frame)))
    else:
        why = "배포 후 버전이 바뀐 함수 없음 (no function changed version after the deploy)"
        if unknown:
            why += f"; 버전 필드 없음 (deployment_version and metadata.version NULL): {', '.join(unknown)}"
        f = checks.evaluate(check, None, detail=why)
    findings.append(f)
    if not events.ok:
        findings.append(checks.error(check, f"ops_audit_log: {events.error}"))
    missing = [fn for fn in requested if fn not in {c.function for c in changes}]
    sentence = _sentence(at, inferred, changed, requested, missing, unknown, after, observe_minutes)
    return Deployment(
        deploy_at=at,
        inferred=inferred,
        release=release,
        before=before,
        after=after,
        observe_minutes=observe_minutes,
        observation_ends=at + span,
        changes=changes,
        judged=tuple(judged),
        requested=requested,
        table=for_display(_tidy(frame)),
        events=for_display(events.frame) if events.ok else pd.DataFrame(),
        sentence=sentence,
        findings=tuple(findings),
        timings=timings(seen, events),
    )


def _tidy(frame: pd.DataFrame) -> pd.DataFrame:
    if frame.empty:
        return frame
    out = frame.copy()
    out["version"] = [(_version(v) or UNKNOWN) for v in out["version"]]
    return out[["function_name", "version", "first_seen", "last_seen", "invocations", "previous_version"]]


def _sentence(
    at: datetime,
    inferred: bool,
    changed: Sequence[FunctionChange],
    requested: Sequence[str],
    missing: Sequence[str],
    unknown: Sequence[str],
    after: Window,
    observe_minutes: int,
) -> str:
    how = "로그에서 찾은" if inferred else "입력한"
    parts = [f"{how} 배포 시각 {kst(at)} (deploy time {'read from the logs' if inferred else 'given'})"]
    if changed:
        parts.append(
            "바뀐 함수: " + ", ".join(f"{c.function} {c.previous or '?'} → {', '.join(c.new)}" for c in changed)
        )
    else:
        parts.append("버전이 바뀐 Edge Function 없음 (no function changed version)")
    if requested:
        parts.append("판정 대상(입력): " + ", ".join(requested))
    if missing:
        parts.append("측정 구간에 호출 기록이 없는 함수: " + ", ".join(missing))
    if unknown:
        parts.append("버전을 알 수 없는 함수 (NULL version): " + ", ".join(unknown))
    minutes = after.minutes
    if minutes < observe_minutes:
        parts.append(f"관찰 {minutes:.0f}/{observe_minutes}분 경과 (observation still running)")
    return " · ".join(parts)


def _empty(
    at: datetime | None,
    release: str,
    observe_minutes: int,
    requested: tuple[str, ...],
    sentence: str,
    findings: list[Finding],
    timed: tuple[QueryTiming, ...],
    table: pd.DataFrame | None = None,
) -> Deployment:
    frame = table if table is not None else pd.DataFrame()
    return Deployment(
        deploy_at=at,
        inferred=False,
        release=release,
        before=None,
        after=None,
        observe_minutes=observe_minutes,
        observation_ends=None if at is None else at + timedelta(minutes=observe_minutes),
        changes=function_changes(frame, at) if not frame.empty else (),
        judged=requested,
        requested=requested,
        table=for_display(_tidy(frame)) if not frame.empty else pd.DataFrame(),
        events=pd.DataFrame(),
        sentence=sentence,
        findings=tuple(findings),
        timings=timed,
    )


def is_problem(f: Finding) -> bool:
    return f.outcome in (Outcome.WARN, Outcome.CRITICAL)
