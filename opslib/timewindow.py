"""Time windows: stored and queried in UTC, shown in KST (Asia/Seoul) with the offset."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from opslib.errors import ConfigError

KST = ZoneInfo("Asia/Seoul")


@dataclass(frozen=True)
class Window:
    """A half-open interval [since, until) in UTC."""

    since: datetime
    until: datetime

    def __post_init__(self) -> None:
        if self.since.tzinfo is None or self.until.tzinfo is None:
            raise ValueError("window bounds must be timezone-aware")
        if self.until <= self.since:
            raise ConfigError("the window is empty: `until` must be later than `since`")

    @property
    def minutes(self) -> float:
        return (self.until - self.since).total_seconds() / 60

    def params(self) -> dict[str, datetime]:
        return {"since": self.since, "until": self.until}

    def label(self) -> str:
        return f"{kst(self.since)} → {kst(self.until)}"

    def to_json(self) -> dict[str, str]:
        return {"since": iso_utc(self.since), "until": iso_utc(self.until)}

    def shifted_back(self, minutes: float) -> Window:
        return Window(self.since - timedelta(minutes=minutes), self.until)


# The instants a page is asked about: this century. Outside it, the window arithmetic overflows.
FIRST_YEAR, LAST_YEAR = 2000, 2099
MAX_WINDOW_MINUTES = 366 * 24 * 60


def now_utc() -> datetime:
    return datetime.now(UTC)


def parse_instant(text: str, *, name: str) -> datetime:
    """ISO-8601 instant; a value without offset is read as KST, the runbook's clock."""
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"parameter {name}={text!r} is not an ISO-8601 time (e.g. 2026-11-26T03:30+09:00)") from None
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        # year 1 or 9999 (a typo, a placeholder) overflowed datetime arithmetic: a traceback with exit 1
        # before the page started, or a cell that raised once it had
        raise ConfigError(f"parameter {name}={text!r} is out of range (a time between {FIRST_YEAR} and {LAST_YEAR})")
    if value.tzinfo is None:
        value = value.replace(tzinfo=KST)
    return value.astimezone(UTC)


def window_from_parameters(since: str = "", until: str = "", window_minutes: int = 60) -> Window:
    """The window a page measures: `until` defaults to now, `since` to until − window_minutes."""
    if window_minutes <= 0:
        raise ConfigError(f"parameter window_minutes={window_minutes} must be a positive number of minutes")
    if window_minutes > MAX_WINDOW_MINUTES:
        raise ConfigError(
            f"parameter window_minutes={window_minutes} must be at most {MAX_WINDOW_MINUTES} (one year); "
            "for an older window give since and until"
        )
    end = parse_instant(until, name="until") if until else now_utc()
    start = parse_instant(since, name="since") if since else end - timedelta(minutes=window_minutes)
    return Window(start, end)


def kst_day(day: date) -> Window:
    """One KST business day [00:00, 24:00) KST as a UTC window."""
    start = datetime.combine(day, time(0), tzinfo=KST)
    return Window(start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC))


def last_business_day(at: datetime | None = None) -> date:
    """The last complete KST day before `at` (yesterday in Seoul)."""
    moment = (at or now_utc()).astimezone(KST)
    return moment.date() - timedelta(days=1)


def parse_day(text: str, *, name: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ConfigError(f"parameter {name}={text!r} is not a date (YYYY-MM-DD, KST)") from None


def kst(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M KST") -> str:
    if value is None:
        return "-"
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(KST).strftime(fmt)


def kst_hhmm(value: datetime | None) -> str:
    return kst(value, "%H:%M KST")


def iso_utc(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
