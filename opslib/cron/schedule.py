"""pg_cron schedules as due times: which instants a job should have run at.

Parsing and iteration are cronsim's (the parser healthchecks.io runs on; vixie-cron semantics,
as pg_cron: when both day-of-month and day-of-week are restricted, either matches). On top of
it, what pg_cron accepts and cronsim does not: the `@daily`-style macros, `$` for the last day
of the month, and pg_cron's interval syntax `'<1-59> seconds'`. pg_cron evaluates schedules in
`cron.timezone` (GMT unless changed), so due times are computed in that zone and returned in UTC.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError

from opslib.timewindow import KST

_MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_SECONDS = re.compile(r"^\s*([1-9]|[1-5][0-9])\s+seconds?\s*$", re.IGNORECASE)
# a due time is searched at most this many times per call: a '* * * * *' job over 7 days is 10 080
MAX_DUE_TIMES = 50_000


class ScheduleError(ValueError):
    """A schedule pg_cron would accept but this page cannot read, or one it would not accept."""


@dataclass(frozen=True)
class Schedule:
    text: str  # as written in cron.job.schedule
    cron: str | None  # the 5-field expression cronsim reads (None for an interval)
    every: timedelta | None  # pg_cron interval jobs ('30 seconds')
    tz: ZoneInfo

    def due_times(self, since: datetime, until: datetime) -> list[datetime]:
        """Due instants in [since, until), in UTC."""
        out: list[datetime] = []
        for at in self._forward(since - timedelta(microseconds=1)):
            if at >= until or len(out) >= MAX_DUE_TIMES:
                break
            out.append(at)
        return out

    def next_due(self, after: datetime) -> datetime | None:
        """The first due instant strictly after `after`."""
        return next(self._forward(after), None)

    def previous_due(self, at_or_before: datetime) -> datetime | None:
        """The last due instant at or before `at_or_before`."""
        if self.every is not None:
            # interval jobs run every N seconds from when pg_cron started: no fixed grid
            return None
        start = at_or_before.astimezone(self.tz) + timedelta(seconds=1)
        it = CronSim(self.cron or "", start.replace(second=0, microsecond=0) + timedelta(minutes=1), reverse=True)
        for candidate in it:
            if candidate.astimezone(UTC) <= at_or_before:
                return candidate.astimezone(UTC)
        return None

    def period_hint(self, at: datetime) -> timedelta | None:
        """Time from the due instant at/before `at` to the next one (for tolerance)."""
        if self.every is not None:
            return self.every
        prev = self.previous_due(at)
        nxt = self.next_due(prev) if prev else None
        return (nxt - prev) if prev and nxt else None

    def _forward(self, after: datetime) -> Iterator[datetime]:
        if self.every is not None:
            return iter(())  # interval jobs have no calendar: no due times to miss
        local = after.astimezone(self.tz)
        return (t.astimezone(UTC) for t in CronSim(self.cron or "", local))

    def describe_kst(self) -> str:
        """The schedule in the runbook's clock, for the common shapes; otherwise the UTC text."""
        if self.every is not None:
            return f"{int(self.every.total_seconds())}초마다 (every {int(self.every.total_seconds())} s)"
        fields = (self.cron or "").split()
        minute, hour, dom, month, dow = fields
        if fields == ["*"] * 5:
            return "매분 (every minute)"
        if minute.startswith("*/") and hour == dom == month == dow == "*":
            return f"{minute[2:]}분마다 (every {minute[2:]} min)"
        if minute.isdigit() and hour == dom == month == dow == "*":
            return f"매시 {int(minute):02d}분 (hourly at :{int(minute):02d})"
        if minute.isdigit() and hour.isdigit() and dom == month == "*":
            moment = datetime(2026, 1, 5, int(hour), int(minute), tzinfo=self.tz).astimezone(KST)
            shift = (moment.date() - datetime(2026, 1, 5).date()).days
            days = "매일 (daily)" if dow == "*" else f"요일 {dow} (UTC 기준{', KST +1일' if shift else ''})"
            return f"{days} {moment:%H:%M} KST"
        return f"{self.text} ({self.tz.key} 기준)"


def parse(text: str, timezone: str = "GMT") -> Schedule:
    """A pg_cron schedule; ScheduleError with one sentence when it cannot be read."""
    try:
        tz = ZoneInfo(timezone or "GMT")
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(f"cron.timezone {timezone!r} is not a known time zone") from None
    raw = (text or "").strip()
    seconds = _SECONDS.match(raw)
    if seconds:
        return Schedule(raw, None, timedelta(seconds=int(seconds.group(1))), tz)
    expr = _MACROS.get(raw.lower(), raw)
    fields = expr.split()
    if len(fields) != 5:
        raise ScheduleError(f"schedule {text!r} is not a 5-field cron expression")
    fields[2] = fields[2].replace("$", "L")  # pg_cron's last day of the month
    expr = " ".join(fields)
    try:
        CronSim(expr, datetime(2026, 1, 1, tzinfo=tz))
    except CronSimError as exc:
        raise ScheduleError(f"schedule {text!r} cannot be read: {exc}") from None
    return Schedule(raw, expr, None, tz)
