"""감지: the window's console lines read once (exact counts, a bounded sample parsed in the kernel).

The JSON is parsed here, not in SQL: PostgreSQL 15 (what Supabase runs) has no pg_input_is_valid, so
a cast of a line that starts with `{` but is not JSON would fail the whole query; in the kernel a
malformed line is simply `not structured`. Every later step is a pure function of this read.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy.engine import Connection

from opslib import checks, timewindow
from opslib.fetch import Fetched, QueryTiming, fetch, timings
from opslib.logs import rules
from opslib.results import Finding

NO_EVENTS = "이 구간에 콘솔 로그 없음 (no events: no function_logs line in the window)"


@dataclass(frozen=True)
class LogWindow:
    """What the audit reads: exact counts per function and level, and the parsed sample."""

    window: timewindow.Window
    counts: pd.DataFrame  # function_name, level, lines
    lines: pd.DataFrame  # function_name, at, level, message, doc (dict | None), structured, release, event
    error: str | None
    sampled: tuple[str, ...]  # functions with more lines than the sample holds

    @property
    def total(self) -> int:
        return int(self.counts["lines"].sum()) if not self.counts.empty else 0

    @property
    def empty(self) -> bool:
        return self.error is None and self.total == 0

    def functions(self) -> list[str]:
        return sorted(self.lines["function_name"].unique()) if not self.lines.empty else []


@dataclass(frozen=True)
class Detection:
    logs: LogWindow
    table: pd.DataFrame  # per function: lines, levels, structured share, sample
    headline: str
    findings: tuple[Finding, ...]
    timings: tuple[QueryTiming, ...]


def _parse(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    docs = [rules.parse(m) for m in out.get("message", pd.Series(dtype=object))]
    out["doc"] = pd.Series(docs, index=out.index, dtype=object)
    out["structured"] = [d is not None for d in docs]
    out["release"] = [rules.text(d, "release") or "(release 없음)" for d in docs]
    out["event"] = [rules.text(d, "event") for d in docs]
    return out


def read(
    conn: Connection, window: timewindow.Window, per_function: int | None = None
) -> tuple[LogWindow, tuple[Fetched, ...]]:
    limit = per_function or rules.standard().sample_per_function
    span = {"since": window.since, "until": window.until}
    counted = fetch(conn, "logs.window_counts", span)
    got = fetch(conn, "logs.window_lines", {**span, "per_function": limit})
    error = "; ".join(str(g.error) for g in (counted, got) if not g.ok) or None
    counts = counted.frame if counted.ok else pd.DataFrame(columns=["function_name", "level", "lines"])
    empty = pd.DataFrame(columns=["function_name", "at", "level", "message"])
    lines = _parse(got.frame if got.ok and not got.frame.empty else empty)
    sampled: tuple[str, ...] = ()
    if not counts.empty:
        per_fn = counts.groupby("function_name")["lines"].sum()
        sampled = tuple(sorted(str(f) for f, n in per_fn.items() if n > limit))
    return LogWindow(window, counts, lines, error, sampled), (counted, got)


def detect(conn: Connection, window: timewindow.Window, per_function: int = 0) -> Detection:
    """감지: how many console lines each function wrote in the window, at which levels, how many structured."""
    logs, fetched = read(conn, window, per_function or None)
    check = checks.get("logs.structured")
    found: list[Finding] = []
    rows = []
    if logs.error:
        found.append(checks.error(check, f"function_logs: {logs.error}"))
    elif logs.empty:
        found.append(checks.evaluate(check, None, detail=NO_EVENTS))
    for fn in logs.functions():
        mine = logs.lines[logs.lines["function_name"] == fn]
        levels = logs.counts[logs.counts["function_name"] == fn].set_index("level")["lines"]
        structured = int(mine["structured"].sum())
        share = 100.0 * structured / len(mine) if len(mine) else None
        rows.append(
            {
                "함수 (function)": fn,
                "줄 (lines)": int(levels.sum()),
                **{lv: int(levels.get(lv, 0)) for lv in ("debug", "log", "info", "warn", "error")},
                "구조화 (JSON)": structured,
                "비구조화 (not structured)": len(mine) - structured,
                "구조화 %": round(share, 1) if share is not None else None,
                "표본 (sample)": f"최근 {len(mine):,}줄" if fn in logs.sampled else "전부 (all)",
            }
        )
        found.append(
            checks.evaluate(
                check,
                share,
                subject=fn,
                detail=f"JSON {structured:,} / {len(mine):,}줄; 비구조화 {len(mine) - structured:,}줄",
            )
        )
    table = pd.DataFrame(rows)
    if logs.error:
        headline = f"function_logs를 읽지 못함 (could not read): {logs.error}"
    elif logs.empty:
        headline = NO_EVENTS
    else:
        share = 100.0 * int(logs.lines["structured"].sum()) / max(len(logs.lines), 1)
        headline = (
            f"콘솔 로그 {logs.total:,}줄 · 함수 {len(rows)}개 · 구조화 {share:.1f}% "
            f"(console lines in the window, functions, share that is JSON)"
        )
    return Detection(logs, table, headline, tuple(found), timings(*fetched))
