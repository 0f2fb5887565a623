"""Silence is not health: events in the window against the same window on previous days.

Every page runs this for its runbook id (page.open_page), from the sources in
opslib/checks/traffic.yaml. A total outage reads like a quiet database: checkout down means no
purchases, no webhooks, nothing to fail. So near-zero traffic where the same hour on previous
days had plenty is itself a finding ("no purchases in 60 min; 140 expected"), quiet hours are not
judged (too few expected), and a database with no events at all, now or before, says
"nothing to judge" in the page's headline instead of reading as a clean PASS.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from importlib import resources

import pandas as pd
import yaml
from sqlalchemy.engine import Connection

from opslib import checks, queries, timewindow
from opslib.errors import ConfigError, QueryFailed
from opslib.results import Finding, Outcome

HISTORY_DAYS = 7
DAY = timedelta(days=1)


@dataclass(frozen=True)
class Source:
    """One kind of event a page's traffic is counted by."""

    check: str
    query: str
    noun: str
    log: bool = False


@dataclass(frozen=True)
class Count:
    """A source's events in the window and in the same window on the previous days that had data."""

    source: Source
    observed: int
    history: tuple[int, ...]  # newest day first; only days on which the source already had data
    days_without_data: int

    @property
    def expected(self) -> float | None:
        return statistics.median(self.history) if self.history else None


@dataclass(frozen=True)
class Traffic:
    counts: tuple[Count, ...]
    findings: tuple[Finding, ...]
    nothing_to_judge: bool

    def headline(self) -> str | None:
        if not self.nothing_to_judge:
            return None
        nouns = ", ".join(c.source.noun for c in self.counts)
        return (
            f"아무 데이터 없음 (nothing to judge): 측정 구간에도 지난 {HISTORY_DAYS}일에도 {nouns} 기록이 없습니다. "
            # said whatever the verdict (the post-deploy page cannot judge such a run: ERROR, not PASS)
            "Nothing found here does not mean the service is healthy: an empty or wrong database, "
            "or an outage older than the history, reads the same."
        )

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            [
                {
                    "대상 (source)": c.source.noun,
                    "측정 구간 (window)": c.observed,
                    "평소 (expected, median)": c.expected,
                    "비교한 날 (days with data)": len(c.history),
                    "지난 날들 (previous days, newest first)": ", ".join(str(n) for n in c.history) or "-",
                }
                for c in self.counts
            ]
        )


@cache
def _catalogue() -> dict[str, tuple[Source, ...]]:
    raw = yaml.load(
        (resources.files("opslib") / "checks" / "traffic.yaml").read_text(encoding="utf-8"), checks.SAFE_LOADER
    )
    found: dict[str, tuple[Source, ...]] = {}
    for runbook, items in (raw.get("traffic") or {}).items():
        try:
            found[runbook] = tuple(Source(i["check"], i["query"], i["noun"], bool(i.get("log", False))) for i in items)
        except KeyError as exc:
            raise ConfigError(f"checks/traffic.yaml: a {runbook} source is missing {exc.args[0]!r}") from None
    return found


def sources(runbook: str) -> tuple[Source, ...]:
    """The traffic sources of a runbook page (none for pages without their own traffic)."""
    return _catalogue().get(runbook, ())


def runbooks() -> tuple[str, ...]:
    return tuple(_catalogue())


def measure(conn: Connection, runbook: str, window: timewindow.Window, days: int = HISTORY_DAYS) -> Traffic:
    """Count every source of the runbook in the window and on the previous days; judge each."""
    counts: list[Count] = []
    found: list[Finding] = []
    for source in sources(runbook):
        check = checks.get(source.check)
        if window.until - window.since > DAY:
            found.append(_not_judged(check, "측정 구간이 하루보다 김 (a window over a day has no same-hour days)"))
            continue
        try:
            frame = queries.run(conn, source.query, {**window.params(), "days": days}).frame
        except QueryFailed as exc:
            found.append(checks.error(check, str(exc)))
            continue
        count = count_from_rows(source, window, frame)
        counts.append(count)
        found.append(judge(check, count, window))
    nothing = bool(counts) and all(c.observed == 0 and not c.history for c in counts)
    return Traffic(tuple(counts), tuple(found), nothing)


def count_from_rows(source: Source, window: timewindow.Window, frame: pd.DataFrame) -> Count:
    """Days before the source's first event are no data (a drain that started later), not zero traffic."""
    first: datetime | None = None
    if not frame.empty and pd.notna(frame["first_event"].iloc[0]):
        first = pd.Timestamp(frame["first_event"].iloc[0]).to_pydatetime()
    observed = 0
    history: list[int] = []
    without = 0
    for row in frame.sort_values("days_back").itertuples(index=False):
        back, events = int(row.days_back), int(row.events)
        if back == 0:
            observed = events
        elif first is not None and first < window.until - back * DAY:
            history.append(events)
        else:
            without += 1
    return Count(source, observed, tuple(history), without)


def judge(check: checks.Check, count: Count, window: timewindow.Window) -> Finding:
    """Pure: the window's events as % of the same hour's median on the days with data."""
    noun, minutes = count.source.noun, f"{window.minutes:.0f}분"
    expected = count.expected
    if expected is None:
        detail = (
            f"비교할 지난 기록 없음 (no previous day with {noun} to compare with); {count.observed}건 in {minutes}"
            if count.observed
            else f"아무 데이터 없음 (nothing to judge): no {noun} in {minutes} and none on the previous days"
        )
        return _not_judged(check, detail, value=None)
    ratio = 100.0 * count.observed / expected if expected > 0 else None
    said = f"{count.observed}건 in {minutes}; 평소 {expected:g}건 expected (median of {len(count.history)} days)"
    if count.source.log:
        said += " · a log drain: silence here is an outage or a stopped drain"
    if expected < check.min_sample or ratio is None:
        return _not_judged(
            check,
            f"조용한 시간 (quiet hour): {said}; below {check.min_sample} expected a drop is not judged",
            value=None if ratio is None else round(ratio, 1),
        )
    finding = checks.evaluate(check, round(ratio, 1), detail=said)
    if finding.outcome is Outcome.CRITICAL and count.observed == 0:
        # the sentence an on-call engineer reads first
        return _replace_detail(finding, f"no {noun} in {minutes}; {expected:g} expected · {said}")
    return finding


def _not_judged(check: checks.Check, detail: str, value: float | None = None) -> Finding:
    return Finding(
        check=check.id,
        title=check.title,
        section=check.section,
        threshold=check.threshold_text(),
        unit=check.unit,
        outcome=Outcome.NOT_EVALUATED,
        value=value,
        detail=detail,
    )


def _replace_detail(f: Finding, detail: str) -> Finding:
    from dataclasses import replace

    return replace(f, detail=detail)


def facts(traffic: Traffic) -> dict[str, dict[str, float | int | None]]:
    """For result.json: per check, what was counted and what was expected."""
    return {
        c.source.check: {"observed": c.observed, "expected": c.expected, "days_with_data": len(c.history)}
        for c in traffic.counts
    }
