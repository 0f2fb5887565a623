"""What one seeding run will produce: the scale turned into counts and instants."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from opslib.seed import profile

INCIDENT_MINUTES = 40  # scenario incidents are ongoing: they start this long before as_of


@dataclass(frozen=True)
class Plan:
    scale: int
    as_of: datetime
    days: int = profile.DAYS  # history length: more days, same rate (the window stays as busy)

    @classmethod
    def make(cls, scale: int, as_of: datetime | None, days: int | None = None) -> Plan:
        if not isinstance(scale, int) or isinstance(scale, bool) or scale < 1:
            raise ValueError(f"scale must be a positive integer, not {scale!r}")
        days = profile.DAYS if days is None else days
        if not isinstance(days, int) or isinstance(days, bool) or not 3 <= days <= 365:
            raise ValueError(f"days must be a whole number of days from 3 to 365, not {days!r}")
        moment = as_of or datetime.now(UTC)
        if moment.tzinfo is None:
            raise ValueError("as_of must be timezone-aware")
        # Whole milliseconds: PortOne timestamps and the uuid7 ids carry milliseconds only.
        moment = moment.astimezone(UTC).replace(microsecond=moment.microsecond // 1000 * 1000)
        return cls(scale, moment, days)

    @property
    def start(self) -> datetime:
        return self.as_of - timedelta(days=self.days)

    @property
    def incident_start(self) -> datetime:
        return self.as_of - timedelta(minutes=INCIDENT_MINUTES)

    @property
    def creators(self) -> int:
        return profile.CREATORS_PER_SCALE * self.scale

    @property
    def fans(self) -> int:
        return profile.FANS_PER_SCALE * self.scale

    @property
    def fans_before_window(self) -> int:
        return round(self.fans * (1 - profile.NEW_USER_SHARE))

    @property
    def first_fan(self) -> int:
        """User numbers: admins 1..3, then creators, then fans."""
        return profile.ADMINS + self.creators + 1

    @property
    def purchases_per_hour(self) -> float:
        """Mean purchases per hour at weight 1.0 of the KST profile."""
        mean_weight = sum(profile.KST_HOURLY_WEIGHT) / 24
        return profile.PURCHASES_PER_DAY_PER_SCALE * self.scale / 24 / mean_weight

    @property
    def weights(self) -> list[float]:
        return list(profile.KST_HOURLY_WEIGHT)
