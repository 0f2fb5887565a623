"""What a notebook page calls: open the page, measure each step, show answers, finish with a verdict.

Every step opens its own short read-only session, so an engineer can pause between
cells in JupyterLab without holding a transaction open. Findings are emitted as a
custom MIME output in the cell that measured them, so a run that crashes later still
leaves the findings it had in the executed notebook (the runner reads them back).
"""

from __future__ import annotations

import html
import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from typing import Any, TypeVar

import pandas as pd
from sqlalchemy.engine import URL

from opslib import db, timewindow
from opslib.errors import ConfigError, OpsbookError
from opslib.results import FINDINGS_MIME, RESULT_MIME, Finding, Outcome, Verdict, decide, worst_severity

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
    # The first sentences a reader needs before the findings (the run's real cause, "nothing to judge").
    headline: list[str] = field(default_factory=list)
    _prefetched: list[Prefetched] = field(default_factory=list, repr=False)

    def session(self):  # -> contextmanager[Connection]
        return db.read_only(self.url, self.runbook)

    def measure(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run one step in its own read-only session; record and show its findings.

        A step prefetched with the same arguments less than PREFETCH_FRESH_S ago is taken
        instead of measuring again (once: running the cell again measures anew).
        """
        started = self._take_prefetched(fn, args, kwargs)
        result = started.future.result() if started is not None else self._run(fn, args, kwargs)
        found = tuple(getattr(result, "findings", ()) or ())
        if found:
            self.record(found)
        return result

    def prefetch(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Start a step's reads now, in a background thread with its own read-only session.

        The database works on the page's later steps while the kernel draws the earlier
        ones' charts (two cores: PostgreSQL on one, Python on the other). The step's
        findings are recorded, and its errors raised, where the page measures it.
        """
        future = _background().submit(self._run, fn, args, kwargs)
        self._prefetched.append(Prefetched(fn, args, kwargs, time.monotonic(), future))

    def _run(self, fn: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]) -> T:
        with self.session() as conn:
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
    page = Page(runbook, environment, window, url, wi_id)
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


def findings_text(items: Sequence[Finding]) -> str:
    lines = []
    for f in items:
        sev = f" {f.severity.value}" if f.severity and f.outcome.is_problem else ""
        value = "-" if f.value is None else f"{f.value}{f.unit}"
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
                "측정값": "-"
                if f.value is None
                else f"{f.value:,}{f.unit}"
                if isinstance(f.value, int)
                else f"{f.value}{f.unit}",
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
        value = "-" if f.value is None else f"{f.value:,}{f.unit}" if isinstance(f.value, int) else f"{f.value}{f.unit}"
        cells = [label, sev, f.title, f.subject or "", value, f.threshold or "", f.detail, f.section]
        tds = "".join(f"<td>{html.escape(str(c))}</td>" for c in cells)
        body.append(f"<tr style='background:{bg};color:{fg}'>{tds}</tr>")
    return f"<table class='opsbook-findings'><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def verdict_html(verdict: Verdict, items: Sequence[Finding], page: Page | None = None) -> str:
    fg, bg = _VERDICT_STYLE[verdict]
    problems = [f for f in items if f.outcome.is_problem]
    errors = [f for f in items if f.outcome is Outcome.ERROR]
    worst = worst_severity(items)
    lines = [f"<div style='font-size:1.6em;font-weight:700'>판정 (verdict): {html.escape(verdict.label_ko)}</div>"]
    if page is not None:
        lines += [f"<div class='opsbook-headline'><b>{html.escape(h)}</b></div>" for h in page.headline]
    if worst:
        lines.append(f"<div>최고 심각도 {worst.value} · 업데이트 주기 {worst.update_cadence}</div>")
    lines.append(f"<div>문제 {len(problems)}건 · 측정 실패 {len(errors)}건 · 점검 {len(items)}개 항목</div>")
    for f in sorted(problems, key=lambda x: x.severity.rank if x.severity else 9)[:8]:
        sev = f.severity.value if f.severity else ""
        subj = f" · {f.subject}" if f.subject else ""
        lines.append(
            f"<div>▸ [{sev}] {html.escape(f.title + subj)}: {html.escape(str(f.value))}{html.escape(f.unit)}</div>"
        )
    for f in errors[:5]:
        lines.append(f"<div>▸ [ERROR] {html.escape(f.title)}: {html.escape(f.detail)}</div>")
    if page is not None:
        lines.append(f"<div style='opacity:.8'>{html.escape(page.runbook)} · {html.escape(page.window.label())}</div>")
    inner = "".join(lines)
    return (
        f"<div class='opsbook-verdict' data-verdict='{verdict.value}' "
        f"style='border:3px solid {fg};background:{bg};color:{fg};padding:14px 18px;border-radius:8px;margin:8px 0'>"
        f"{inner}</div>"
    )


def show_table(frame: pd.DataFrame, title: str = "", *, max_rows: int = 50) -> None:
    """A readable table: a title, at most max_rows rows, and how many were left out."""
    from IPython.display import HTML, display

    if title:
        display(HTML(f"<h4>{html.escape(title)}</h4>"))
    if frame.empty:
        display(HTML("<p><i>해당 없음 (no rows)</i></p>"))
        return
    display(readable(frame.head(max_rows)))
    if len(frame) > max_rows:
        display(HTML(f"<p><i>… {len(frame) - max_rows:,}행 더 있음 (more rows not shown)</i></p>"))


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
            f"<table class='opsbook-findings'><thead><tr><th>column</th><th>before</th><th>after</th><th></th></tr>"
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
    """Times as 'MM-DD HH:MM:SS' (KST, as the page's columns already are), numbers grouped, no index."""
    out = frame.copy()
    for col in out.columns:
        series = out[col]
        if isinstance(series.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_any_dtype(series.dtype):
            out[col] = series.dt.strftime("%m-%d %H:%M:%S").fillna("-")
        elif pd.api.types.is_float_dtype(series.dtype):
            out[col] = series.map(lambda v: "-" if pd.isna(v) else f"{v:,.2f}".rstrip("0").rstrip("."))
        elif pd.api.types.is_integer_dtype(series.dtype):
            out[col] = series.map(lambda v: f"{v:,}")
        else:
            # object columns: None / NaN read as an empty cell's "-", never as the words None / nan
            out[col] = series.map(lambda v: "-" if v is None or (isinstance(v, float) and v != v) else v)
    return out.reset_index(drop=True).style.hide(axis="index")


def say(text: str) -> None:
    """A one-sentence answer, shown as a callout."""
    from IPython.display import Markdown, display

    display(Markdown(f"> **{text}**"))


def in_kernel_env(name: str) -> bool:
    return bool(os.environ.get(name))
