"""What a notebook page calls: open the page, measure each step, show answers, finish with a verdict.

Every step opens its own short read-only session, so an engineer can pause between
cells in JupyterLab without holding a transaction open. Findings are emitted as a
custom MIME output in the cell that measured them, so a run that crashes later still
leaves the findings it had in the executed notebook (the runner reads them back).
"""

from __future__ import annotations

import html
import os
import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any, TypeVar

import pandas as pd
from sqlalchemy.engine import URL

from opslib import db, timewindow
from opslib.errors import ConfigError, OpsbookError
from opslib.fetch import SharedAnswers, sharing
from opslib.results import (
    FINDINGS_MIME,
    RESULT_MIME,
    ExitState,
    Finding,
    Mitigation,
    Outcome,
    Verdict,
    decide,
    group_by_cause,
    worst_severity,
)

T = TypeVar("T")

_OUTCOME_STYLE = {
    Outcome.OK: ("#e8f5e9", "#1b5e20", "정상 OK"),
    Outcome.WARN: ("#fff8e1", "#8a5a00", "경고 WARN"),
    Outcome.CRITICAL: ("#ffebee", "#b71c1c", "위험 CRITICAL"),
    Outcome.ERROR: ("#f3e5f5", "#4a148c", "측정 실패 ERROR"),
    Outcome.NOT_EVALUATED: ("#eceff1", "#37474f", "판단 보류 N/A"),
}
_VERDICT_STYLE = {
    Verdict.PASS: ("#1b5e20", "#e8f5e9"),
    Verdict.CONDITIONAL_PASS: ("#8a5a00", "#fff8e1"),
    Verdict.FAIL: ("#b71c1c", "#ffebee"),
    Verdict.ERROR: ("#4a148c", "#f3e5f5"),
}


# A prefetched answer older than this is measured again when its step runs (an engineer
# stepping through the page in JupyterLab reads the page for minutes between cells).
PREFETCH_FRESH_S = 120.0


@dataclass(frozen=True)
class Prefetched:
    """A step started ahead of its cell (Page.prefetch)."""

    fn: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    at: float
    future: Future[Any]


@cache
def _background() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=2, thread_name_prefix="opsbook-step")


def own_peak_rss_mib() -> float | None:
    """This process's peak resident memory since it started (Linux VmHWM; None elsewhere).

    Not ru_maxrss: Linux carries that over fork and exec, so a kernel started by a process
    that had just seeded millions of rows would report its parent's peak.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def _display(bundle: dict[str, Any]) -> None:
    from IPython.display import display

    display(bundle, raw=True)


@dataclass
class Page:
    """One runbook page being measured."""

    runbook: str
    environment: str
    window: timewindow.Window
    url: URL
    wi_id: str = ""
    identity: db.DatabaseIdentity | None = None
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    # What the top of the report says to do now, and the exit condition's state: declared by a
    # step's result (a `mitigation` / `exit_state` attribute, e.g. an action's dry-run) or by
    # the page itself (Page.mitigate, Page.exit_state).
    mitigations: list[Mitigation] = field(default_factory=list)
    exit: ExitState | None = None
    # What the incident page (§1) reads back from every run of a WI (result.json "incident"): the
    # earliest bad bucket a step measured (`first_bad_at` on a step's result) and the affected
    # items keyed so that two pages' counts of one order add up once (`affected_keys`, opslib.affected).
    incident: dict[str, Any] = field(default_factory=dict)
    # Per step: its wall time in the kernel and its queries' times, for result.json.
    steps: list[dict[str, Any]] = field(default_factory=list)
    # The first sentences a reader needs before the findings (the run's real cause, "nothing to judge").
    headline: list[str] = field(default_factory=list)
    _prefetched: list[Prefetched] = field(default_factory=list, repr=False)
    # What the prefetched steps asked, shared between them (a re-run cell measures anew)
    _shared: SharedAnswers = field(default_factory=lambda: SharedAnswers(PREFETCH_FRESH_S), repr=False)

    def session(self):  # -> contextmanager[Connection]
        return db.read_only(self.url, self.runbook)

    def measure(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run one step in its own read-only session; record and show its findings.

        A step prefetched with the same arguments less than PREFETCH_FRESH_S ago is taken
        instead of measuring again (once: running the cell again measures anew).
        """
        t0 = time.perf_counter()
        started = self._take_prefetched(fn, args, kwargs)
        result = started.future.result() if started is not None else self._run(fn, args, kwargs)
        self._time_step(fn, result, time.perf_counter() - t0, prefetched=started is not None)
        return self.take(result, step=getattr(fn, "__name__", None))

    def take(self, result: T, step: str | None = None) -> T:
        """Record a step's result as measure() does: its findings, its mitigation(s) and exit state.

        For steps that measure outside the database (a browser, a file given by a tester), so that no
        read-only session is held open while they run.
        """
        found = tuple(getattr(result, "findings", ()) or ())
        if found:
            self.record(found)
        mitigation = getattr(result, "mitigation", None)
        if isinstance(mitigation, Mitigation):
            self.mitigate(mitigation)
        for each in getattr(result, "mitigations", ()) or ():  # several, in the order to do them
            if isinstance(each, Mitigation):
                self.mitigate(each)
        state = getattr(result, "exit_state", None)
        if isinstance(state, ExitState):
            self.exit_state(state.met, state.sentence, state.since, state.hold_minutes)
        # a one-line answer for the top of the report (e.g. the RLS audit's "RLS 23/24 tables")
        headline = getattr(result, "headline", None)
        if isinstance(headline, str) and headline and headline not in self.headline:
            self.headline.append(headline)
        self._note_incident(step or type(result).__name__, result)
        return result

    def _note_incident(self, step: str, result: Any) -> None:
        from opslib import affected

        first = getattr(result, "first_bad_at", None)
        if isinstance(first, datetime):
            at = timewindow.iso_utc(first)
            if at < self.incident.get("first_bad_at", "9999"):  # ISO UTC strings sort as times
                self.incident["first_bad_at"] = at
                self.incident["first_bad_step"] = step
        keys = getattr(result, "affected_keys", None)
        if isinstance(keys, affected.Affected):
            self.incident["affected"] = affected.merge(
                affected.Affected.from_json(self.incident.get("affected") or {}), keys
            ).to_json()

    def _time_step(self, fn: Callable[..., Any], result: Any, waited: float, *, prefetched: bool) -> None:
        queries = [
            {"query": t.name, "seconds": round(t.seconds, 4), "rows": t.rows}
            for t in getattr(result, "timings", ()) or ()
            if hasattr(t, "seconds")
        ]
        self.steps.append(
            {
                "step": getattr(fn, "__qualname__", getattr(fn, "__name__", "?")),
                # a prefetched step's wait is what was left of it when its cell ran
                "waited_s": round(waited, 4),
                "prefetched": prefetched,
                "sql_s": round(sum(q["seconds"] for q in queries), 4),
                "queries": queries,
            }
        )

    def mitigate(self, mitigation: Mitigation) -> None:
        """Declare a mitigation the verdict banner lists under "what to do now" (once per action)."""
        self.mitigations = [m for m in self.mitigations if m.action != mitigation.action] + [mitigation]

    def exit_state(
        self, met: bool | None, sentence: str, since: datetime | None = None, hold_minutes: int | None = None
    ) -> None:
        """Declare the exit condition's state (None: could not judge) for the verdict banner; since:
        when it began to hold without a break (the incident page's timeline reads it)."""
        self.exit = ExitState(met, sentence, since, hold_minutes)

    def prefetch(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Start a step's reads now, in a background thread with its own read-only session.

        The database works on the page's later steps while the kernel draws the earlier
        ones' charts (two cores: PostgreSQL on one, Python on the other). The step's
        findings are recorded, and its errors raised, where the page measures it.
        """
        future = _background().submit(self._run, fn, args, kwargs, shared=True)
        self._prefetched.append(Prefetched(fn, args, kwargs, time.monotonic(), future))

    def _run(self, fn: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any], *, shared: bool = False) -> T:
        with self.session() as conn:
            if not shared:
                return fn(conn, *args, **kwargs)
            with sharing(self._shared):
                return fn(conn, *args, **kwargs)

    def _take_prefetched(
        self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Prefetched | None:
        for started in self._prefetched:
            if started.fn is fn and started.args == args and started.kwargs == kwargs:
                self._prefetched.remove(started)
                if time.monotonic() - started.at <= PREFETCH_FRESH_S:
                    return started
                started.future.cancel()
                return None
        return None

    def record(self, found: Iterable[Finding], *, show: bool = True) -> None:
        items = list(found)
        self.findings.extend(items)
        payload = {"runbook": self.runbook, "findings": [f.to_json() for f in items]}
        bundle: dict[str, Any] = {FINDINGS_MIME: payload, "text/plain": findings_text(items)}
        if show:
            bundle["text/html"] = findings_html(items)
        _display(bundle)

    def fact(self, name: str, value: Any) -> None:
        """A named answer for result.json (e.g. the broken pipeline stage); enums by value."""
        self.facts[name] = getattr(value, "value", value)

    def timings(self) -> dict[str, Any]:
        """Where the page's time went: each step (and its SQL, query by query) and the charts."""
        from opslib import charts

        return {
            "steps": self.steps,
            "sql_s": round(sum(s["sql_s"] for s in self.steps), 4),
            "charts_s": round(charts.seconds_spent(), 4),
            "charts": charts.count_drawn(),
        }

    def business_day(self, business_date: str = "") -> timewindow.Window:
        """The KST day to reconcile: the given YYYY-MM-DD, else the last full day before the window's end."""
        day = (
            timewindow.parse_day(business_date, name="business_date")
            if business_date
            else timewindow.last_business_day(self.window.until)
        )
        return timewindow.kst_day(day)

    def finish(self) -> None:
        """The verdict banner (runbook §6) and the machine-readable result of the run."""
        if self._prefetched:
            # a prefetch no step took (different arguments?): a page to fix, not an incident
            names = ", ".join(getattr(p.fn, "__name__", "?") for p in self._prefetched)
            self.notes.append(f"미리 시작했지만 쓰지 않은 조회 (prefetched, never measured): {names}")
            for p in self._prefetched:
                p.future.cancel()
            self._prefetched.clear()
        verdict = decide(self.findings)
        payload = {
            "runbook": self.runbook,
            "environment": self.environment,
            "wi_id": self.wi_id,
            "verdict": verdict.value,
            "headline": self.headline,
            "window": self.window.to_json(),
            "database": self.identity.to_json() if self.identity else None,
            "notes": self.notes,
            "facts": self.facts,
            "mitigations": [m.to_json() for m in self.mitigations],
            "exit_state": self.exit.to_json() if self.exit else None,
            "incident": self.incident,
            "cause_groups": [
                {"cause": g.cause, "items": g.items, "checks": sorted({f.key for f in g.findings})}
                for g in group_by_cause(self.findings)[0]
            ],
            "timings": self.timings(),
            "kernel_peak_rss_mib": own_peak_rss_mib(),
        }
        _display(
            {
                RESULT_MIME: payload,
                "text/html": verdict_html(verdict, self.findings, self),
                "text/plain": verdict.label_ko,
            }
        )


def open_page(
    runbook: str,
    *,
    environment: str = "demo",
    since: str = "",
    until: str = "",
    window_minutes: int = 60,
    wi_id: str = "",
) -> Page:
    """Resolve the database (never from a notebook cell), fix the window, check visibility."""
    url = db.resolve_url()
    embedded_default = db.configured_url() is None
    if embedded_default and not until:
        until = _demo_as_of(url) or ""
    window = timewindow.window_from_parameters(since, until, window_minutes)
    page = Page(runbook, "demo" if embedded_default else environment, window, url, wi_id)
    if embedded_default and environment not in ("", "demo"):
        page.notes.append(demo_note(environment))
    if embedded_default and until:
        page.notes.append(f"데모 데이터는 {timewindow.kst(window.until)}까지 있습니다: 그 시각까지 측정합니다.")
    from opslib import charts, privileges, traffic, visibility

    # matplotlib loads while the page waits on its first queries (not on a step's worker)
    threading.Thread(target=charts.warm_up, name="opsbook-charts-warm-up", daemon=True).start()
    with page.session() as conn:
        page.identity = db.identify(conn, url)
        visible = visibility.check(conn)
        writable = privileges.check(conn)
        blind = visibility.blind_sentence(visible, page.identity.current_user)
        # silence is not health: the page's own traffic against the same hour on previous days
        counted = None if blind else traffic.measure(conn, runbook, window)
    _display({"text/html": header_html(page), "text/plain": header_text(page)})
    page.record(visible, show=any(f.outcome is not Outcome.OK for f in visible))
    # shown whenever the role can write anything, PUBLIC's grants included: never silently OK
    page.record(writable, show=any(f.outcome is not Outcome.OK or f.subject == "PUBLIC" for f in writable))
    if blind:
        page.headline.append(blind)
        page.finish()
        raise ConfigError(blind)
    own = privileges.own_privileges(writable)
    if own is not None:
        page.headline.append(own.detail)
    if counted is not None and counted.findings:
        page.record(counted.findings)
        page.fact("traffic", traffic.facts(counted))
        headline = counted.headline()
        if headline:
            page.headline.append(headline)
    return page


def demo_note(environment: str) -> str:
    """The embedded demo database is the demo, whatever a parameter file says (production, staging)."""
    return (
        f"environment={environment} 대신 demo: 내장 데모 데이터베이스입니다 "
        f"(labelled demo, not {environment}: this is the embedded demo database)"
    )


def _demo_as_of(url: URL) -> str | None:
    """The embedded demo's data ends when it was seeded; measure up to then, not now."""
    import sqlalchemy as sa

    try:
        with db.read_only(url, "opsbook") as conn:
            exists = conn.execute(sa.text("SELECT to_regclass('opsbook_demo.seed_runs') IS NOT NULL")).scalar()
            if not exists:
                return None
            value = conn.execute(sa.text("SELECT max(as_of) FROM opsbook_demo.seed_runs")).scalar()
    except OpsbookError:
        return None
    except Exception:
        return None
    return value.isoformat() if value is not None else None


# --- rendering --------------------------------------------------------------------------


def header_text(page: Page) -> str:
    ident = page.identity
    return (
        f"{page.runbook} | {page.environment} | window {page.window.label()} | "
        f"db {ident.host if ident else '?'} ({ident.current_user if ident else '?'})"
    )


def header_html(page: Page) -> str:
    ident = page.identity
    replica = " · 읽기 전용 복제본 (replica)" if ident and ident.is_replica else ""
    rows = [
        ("환경 (environment)", page.environment),
        ("측정 구간 (window)", f"{page.window.label()} ({page.window.minutes:.0f}분)"),
        (
            "데이터베이스",
            f"{ident.host} · PostgreSQL {ident.server_version} · role {ident.current_user}{replica}" if ident else "?",
        ),
        ("WI", page.wi_id or "-"),
    ]
    rows += [("참고 (note)", n) for n in page.notes]
    cells = "".join(
        f"<tr><th style='text-align:left;padding-right:1em'>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>"
        for k, v in rows
    )
    return f"<div class='opsbook-header'><table>{cells}</table></div>"


def human_duration(seconds: float) -> str:
    """2201.839 → '36분 42초'; under a minute to one decimal ('4.2초'); hours as '1시간 5분'."""
    if seconds < 60:
        return f"{seconds:.1f}".rstrip("0").rstrip(".") + "초"
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}시간 {minutes}분" if minutes else f"{hours}시간"
    return f"{minutes}분 {secs}초" if secs else f"{minutes}분"


_SECONDS_UNITS = ("초", "s", "sec", "seconds")


def format_value(value: Any, unit: str = "") -> str:
    """A measured value as a person reads it: durations in 분/초, counts grouped, no float noise."""
    if value is None or (isinstance(value, float) and value != value):
        return "-"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float) and unit.strip() in _SECONDS_UNITS:
        return human_duration(float(value))
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer() and abs(value) >= 1000):
        return f"{int(value):,}{unit}"
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".") + unit
    return f"{value}{unit}"


def findings_text(items: Sequence[Finding]) -> str:
    lines = []
    for f in items:
        sev = f" {f.severity.value}" if f.severity and f.outcome.is_problem else ""
        value = format_value(f.value, f.unit)
        lines.append(f"[{f.outcome.value}{sev}] {f.title}{' · ' + f.subject if f.subject else ''}: {value}  {f.detail}")
    return "\n".join(lines)


def findings_frame(items: Sequence[Finding]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "판정 (outcome)": f.outcome.value,
                "심각도": f.severity.value if f.severity and f.outcome.is_problem else "",
                "항목 (check)": f.title,
                "대상": f.subject or "",
                "측정값": format_value(f.value, f.unit),
                "기준 (threshold)": f.threshold or "",
                "설명": f.detail,
                "런북": f.section,
            }
            for f in items
        ]
    )


def findings_html(items: Sequence[Finding]) -> str:
    head = "".join(
        f"<th>{h}</th>" for h in ("판정", "심각도", "항목 (check)", "대상", "측정값", "기준", "설명", "런북")
    )
    body = []
    for f in items:
        bg, fg, label = _OUTCOME_STYLE[f.outcome]
        sev = f.severity.value if f.severity and f.outcome.is_problem else ""
        value = format_value(f.value, f.unit)
        cells = [label, sev, f.title, f.subject or "", value, f.threshold or "", f.detail, f.section]
        tds = "".join(f"<td>{html.escape(str(c))}</td>" for c in cells)
        body.append(f"<tr style='background:{bg};color:{fg}'>{tds}</tr>")
    table = f"<table class='opsbook-findings'><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    return f"<div class='opsbook-scroll'>{table}</div>"


# How many problems the banner lists one per line before it says "and N more below".
BANNER_LINES = 10


# A banner line quotes at most this much of a finding's detail.
LINE_DETAIL_CHARS = 200


def _finding_line(f: Finding) -> str:
    subj = f" · {f.subject}" if f.subject else ""
    shown = format_value(f.value, f.unit)
    if shown == "-" and f.detail:
        # a check without a number (the smoke's T1 login, a case that failed) says what happened:
        # its P0 line in the banner read "…리다이렉트: -"
        detail = " ".join(f.detail.split())
        shown = detail if len(detail) <= LINE_DETAIL_CHARS else detail[: LINE_DETAIL_CHARS - 1] + "…"
    return f"{f.title}{subj}: {shown}"


def _seen_by(found: Sequence[Finding]) -> str:
    """'PG 승인 완료인데 DB 미반영 [portone] · 대사: 상태 불일치 [window; 2026-12-02]': each check once."""
    subjects: dict[str, list[str]] = {}
    for f in found:
        short = f.title.split(" (")[0]
        subjects.setdefault(short, [])
        if f.subject and f.subject not in subjects[short]:
            subjects[short].append(f.subject)
    return " · ".join(f"{t} [{'; '.join(s)}]" if s else t for t, s in subjects.items())


def _errors_by_cause(errors: Sequence[Finding]) -> dict[str, list[Finding]]:
    """Checks that could not run, one entry per cause: the smoke's six cases blocked by one failed login
    (and their six missing screenshots) are one line, not six. Without a cause, the same title and
    detail is the same line."""
    out: dict[str, list[Finding]] = {}
    for f in errors:
        out.setdefault(f.cause or f"{f.title}: {f.detail}", []).append(f)
    return out


def verdict_html(verdict: Verdict, items: Sequence[Finding], page: Page | None = None) -> str:
    """The top of the report: verdict, severity and cadence, what to do now, each P0/P1 in one line
    (one cause seen by several checks said once), the exit condition, then where to read on."""
    fg, bg = _VERDICT_STYLE[verdict]
    problems = [f for f in items if f.outcome.is_problem]
    errors = [f for f in items if f.outcome is Outcome.ERROR]
    worst = worst_severity(items)
    groups, singles = group_by_cause(items)
    e = html.escape
    lines = [f"<div class='opsbook-verdict-title'>판정 (verdict): {e(verdict.label_ko)}</div>"]
    if page is not None:
        lines += [f"<div class='opsbook-headline'><b>{e(h)}</b></div>" for h in page.headline]
    summary = []
    if worst:
        cadence = f"상황 업데이트 주기 {worst.update_cadence} (status update cadence)"
        summary.append(f"<b>심각도 {worst.value}</b> · {cadence}")
    causes = len(groups) + len(singles)
    summary.append(
        f"문제 {len(problems)}건"
        + (f" (원인 {causes}개: 같은 원인을 여러 점검이 봄)" if causes < len(problems) else "")
        + f" · 측정 실패 {len(errors)}건 · 점검 {len(items)}개 항목"
    )
    lines.append(f"<div>{' · '.join(summary)}</div>")
    if page is not None and verdict is Verdict.FAIL:
        todo = [m for m in page.mitigations if m.needed]
        done = [m for m in page.mitigations if not m.needed]
        if todo or done:
            steps = "".join(f"<li>{e(m.label)}: <code>{e(m.command)}</code></li>" for m in todo) + "".join(
                f"<li>{e(m.label)}: 이미 적용됨 (already in place)</li>" for m in done
            )
            lines.append(f"<div class='opsbook-todo'><b>지금 할 일 (what to do now)</b><ol>{steps}</ol></div>")
    urgent = [g for g in groups if g.severity and g.severity.rank <= 1]
    urgent_singles = [f for f in singles if f.severity and f.severity.rank <= 1]
    rows = []
    for g in urgent:
        seen = _seen_by(g.findings)
        sev = g.severity.value if g.severity else ""
        rows.append(
            f"<li><b>[{sev}]</b> {e(g.cause)}: <b>{g.items:,}건</b> "
            f"<span class='opsbook-seen'>(같은 건을 {len(g.findings)}개 점검이 봄, 한 번만 셈 · "
            f"one cause, counted once; seen by: {e(seen)})</span></li>"
        )
    for f in urgent_singles:
        sev = f.severity.value if f.severity else ""
        rows.append(f"<li><b>[{sev}]</b> {e(_finding_line(f))}</li>")
    said = set(page.headline) if page is not None else set()
    unsaid = {why: m for why, m in _errors_by_cause(errors).items() if not {f.detail for f in m} <= said}
    for why, members in list(unsaid.items())[:5]:
        if len(members) == 1:
            rows.append(f"<li><b>[측정 실패 ERROR]</b> {e(members[0].title)}: {e(members[0].detail)}</li>")
        else:
            rows.append(
                f"<li><b>[측정 실패 ERROR]</b> {e(why)} <span class='opsbook-seen'>({len(members)}개 점검, "
                f"같은 원인 · {len(members)} checks, one cause: {e(_seen_by(members))})</span></li>"
            )
    shown = rows[:BANNER_LINES]
    if shown:
        lines.append(f"<ul class='opsbook-problems'>{''.join(shown)}</ul>")
    rest = len(rows) - len(shown)
    minor = len([f for f in singles if f.severity and f.severity.rank > 1]) + sum(
        len(g.findings) for g in groups if not (g.severity and g.severity.rank <= 1)
    )
    if rest or minor:
        more = [f"P0/P1 {rest}건 더" if rest else "", f"P2/P3 {minor}건" if minor else ""]
        lines.append(f"<div>… {' · '.join(m for m in more if m)}: 아래 섹션의 표 (in the sections below)</div>")
    if page is not None and page.exit is not None:
        state = {True: "충족 (met)", False: "미충족 (not met)", None: "판정 불가 (cannot judge)"}[page.exit.met]
        lines.append(f"<div><b>종료 조건 (exit condition): {state}</b> · {e(page.exit.sentence)}</div>")
    if page is not None:
        lines.append(
            f"<div style='opacity:.8'>{e(page.runbook)} · {e(page.environment)} · {e(page.window.label())}"
            f"{' · ' + e(page.wi_id) if page.wi_id else ''}</div>"
        )
    inner = "".join(lines)
    return (
        f"<div class='opsbook-verdict' data-verdict='{verdict.value}' "
        f"style='border:3px solid {fg};background:{bg};color:{fg};padding:14px 18px;border-radius:8px;margin:8px 0'>"
        f"{inner}</div>"
    )


def unfinished_html(items: Sequence[Finding], error: str) -> str:
    """The top of a report whose page stopped before its verdict: ERROR, why, and what it had found."""
    stopped = (
        f"<div><b>페이지가 끝나지 않았습니다 (the page stopped before its verdict)</b>"
        f"{': ' + html.escape(error) if error else ''}</div>"
    )
    banner = verdict_html(Verdict.ERROR, items)
    return banner.replace("</div>", "</div>" + stopped, 1)


# A long table shows its first rows; the rest (up to max_rows) folds into <details>.
FIRST_ROWS = 10


def show_table(frame: pd.DataFrame, title: str = "", *, max_rows: int = 50, first_rows: int = FIRST_ROWS) -> None:
    """A readable table: a title and its row count, the first rows, the rest up to max_rows
    folded (HTML <details>), how many were left out; wide tables scroll sideways, never cut."""
    from IPython.display import HTML, display

    display(HTML(table_html(frame, title, max_rows=max_rows, first_rows=first_rows)))


def table_html(frame: pd.DataFrame, title: str = "", *, max_rows: int = 50, first_rows: int = FIRST_ROWS) -> str:
    e = html.escape
    n = len(frame)
    head = f"<h4>{e(title)} <span class='opsbook-count'>({n:,}행)</span></h4>" if title else ""
    if frame.empty:
        return f"{head}<p><i>해당 없음 (no rows)</i></p>"

    def block(part: pd.DataFrame) -> str:
        return f"<div class='opsbook-scroll'>{readable(part).to_html()}</div>"

    parts = [head, block(frame.head(first_rows))]
    folded = frame.iloc[first_rows:max_rows]
    if len(folded):
        parts.append(
            f"<details class='opsbook-more'><summary>{len(folded):,}행 더 보기 (show {len(folded):,} more rows)"
            f"</summary>{block(folded)}</details>"
        )
    if n > max_rows:
        parts.append(
            f"<p><i>{max_rows:,}행까지 표시, {n - max_rows:,}행 생략 "
            f"(first {max_rows:,} of {n:,} rows shown, {n - max_rows:,} left out)</i></p>"
        )
    return "".join(parts)


def show_markdown(text: str) -> None:
    from IPython.display import Markdown, display

    display(Markdown(text))


def show_action(outcome: Any) -> None:
    """A dry-run plan as a before/after table plus the command that would execute it."""
    from IPython.display import HTML, display

    before = outcome.before or {}
    after = outcome.after or {}
    rows = []
    for key in sorted(set(before) | set(after)):
        b, a = before.get(key), after.get(key)
        mark = "→ 변경 (changes)" if b != a else ""
        rows.append(
            f"<tr><td>{html.escape(str(key))}</td><td>{html.escape(_cell(b))}</td>"
            f"<td>{html.escape(_cell(a))}</td><td>{mark}</td></tr>"
        )
    audit = "".join(
        f"<li>admin_audit_log · {html.escape(str(r.get('action')))} · {html.escape(str(r.get('target_type')))}"
        f"/{html.escape(str(r.get('target_id')))}</li>"
        for r in outcome.audit_rows
    )
    mode = "실행됨 (EXECUTED)" if outcome.executed else "DRY-RUN: 아무것도 쓰지 않음 (nothing written)"
    display(
        HTML(
            f"<div class='opsbook-action'><b>{html.escape(outcome.name)}</b> · {html.escape(outcome.target)} · {mode}"
            f"<p>{html.escape(outcome.message)}</p>"
            + (
                f"<p>실행 명령 (to execute): <code>{html.escape(outcome.command)}</code></p>"
                if getattr(outcome, "command", "") and not outcome.executed
                else ""
            )
            + "<table class='opsbook-findings'><thead>"
            f"<tr><th>column</th><th>before</th><th>after</th><th></th></tr>"
            f"</thead><tbody>{''.join(rows)}</tbody></table>"
            f"{'<p>audit row(s):</p><ul>' + audit + '</ul>' if audit else ''}</div>"
        )
    )


def _cell(value: Any) -> str:
    import json

    from opslib.masking import mask_text

    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    # a flag's metadata keeps who pulled it and why: evidence shows it masked
    text = mask_text(text)
    return text if len(text) <= 160 else text[:157] + "..."


def readable(frame: pd.DataFrame) -> Any:  # a pandas Styler
    """Times as 'MM-DD HH:MM:SS' (KST, as the page's columns already are), numbers grouped, no index;
    JSON objects as masked `key: value` text (display.mapping_text)."""
    from opslib.display import readable_objects

    out = readable_objects(frame).copy()
    for col in out.columns:
        series = out[col]
        if isinstance(series.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_any_dtype(series.dtype):
            out[col] = series.dt.strftime("%m-%d %H:%M:%S").fillna("-")
        elif pd.api.types.is_numeric_dtype(series.dtype) and str(col).endswith("_s"):
            # seconds for people: 2201.8 → 36분 42초
            out[col] = series.map(lambda v: "-" if pd.isna(v) else human_duration(float(v)))
        elif pd.api.types.is_float_dtype(series.dtype):
            out[col] = series.map(lambda v: "-" if pd.isna(v) else f"{v:,.2f}".rstrip("0").rstrip("."))
        elif pd.api.types.is_integer_dtype(series.dtype):
            out[col] = series.map(lambda v: f"{v:,}")
        else:
            # object columns: None / NaN read as an empty cell's "-", never as the words None / nan
            out[col] = series.map(lambda v: "-" if v is None or (isinstance(v, float) and v != v) else v)
    # Cells hold what the database holds (log lines, message text, names): the Styler writes them as
    # raw HTML unless told, so a stack trace's "<anonymous>" vanished and an <img src=...> in a row
    # would be fetched by whoever opens the report.
    styled = out.reset_index(drop=True).style.hide(axis="index")
    styled = styled.format(escape="html").format_index(escape="html", axis=1)
    # Numbers stay right-aligned to compare by eye; words read from the left (JupyterLab's CSS
    # right-aligns every cell, so a sentence column read as a ragged right edge).
    words = [i for i, col in enumerate(frame.columns) if _is_text(frame[col])]
    styled = styled.set_table_styles(
        [{"selector": f"td.col{i}, th.col{i}", "props": "text-align: left"} for i in words], overwrite=False
    )
    return styled


def _is_text(series: pd.Series) -> bool:
    kind = series.dtype
    return not (
        pd.api.types.is_numeric_dtype(kind)
        or pd.api.types.is_datetime64_any_dtype(kind)
        or isinstance(kind, pd.DatetimeTZDtype)
    )


# A Markdown code span (`...`, or ``...``), which shows its text as written.
_CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.DOTALL)


def markdown_text(text: str) -> str:
    """Text for a Markdown cell that shows as written: <, > and & outside code spans become entities.

    Sentences carry data and placeholders ("Releases → <release> → New Issues", a log line's
    "<anonymous>"); Markdown passes a <word> through as an HTML tag, which the browser then hides.
    Code spans keep their text: Markdown already shows it literally there.
    """
    parts: list[str] = []
    at = 0
    for m in _CODE_SPAN.finditer(text):
        parts.append(html.escape(text[at : m.start()], quote=False))
        parts.append(m.group(0))
        at = m.end()
    parts.append(html.escape(text[at:], quote=False))
    return "".join(parts)


def say(text: str) -> None:
    """A one-sentence answer, shown as a callout."""
    from IPython.display import Markdown, display

    display(Markdown(f"> **{markdown_text(text)}**"))


def in_kernel_env(name: str) -> bool:
    return bool(os.environ.get(name))
