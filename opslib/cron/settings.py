"""The cron page's tunables, read once from opslib/checks/cron.yaml (`detection:`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import cache

from opslib.dispatcher import cron_yaml


@dataclass(frozen=True)
class Detection:
    start_tolerance: timedelta
    history_days: int
    min_duration_s: float
    late_message_grace: timedelta
    reconcile_grace: timedelta
    cleanup_cap: int


@cache
def detection() -> Detection:
    raw = cron_yaml()["detection"]
    return Detection(
        start_tolerance=timedelta(seconds=float(raw["start_tolerance_s"])),
        history_days=int(raw["history_days"]),
        min_duration_s=float(raw["min_duration_s"]),
        late_message_grace=timedelta(seconds=float(raw["late_message_grace_s"])),
        reconcile_grace=timedelta(minutes=float(raw["reconcile_grace_min"])),
        cleanup_cap=int(raw["cleanup_cap"]),
    )
