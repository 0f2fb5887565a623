"""Runbook §0/§1 소통: status updates due by severity (P0 every 15 min, P1 every 30 min) and which were late.

An update is due every cadence from the declaration to the close (or now). A due moment is
covered when an update was posted in the cadence before it; otherwise it is overdue. Without
the update times (the `update_times` parameter) nothing can be called overdue: the due moments
are listed and the check is not evaluated.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd

from opslib.results import Severity
from opslib.timewindow import KST

CADENCE_MINUTES = {Severity.P0: 15, Severity.P1: 30}  # P2 필요 시, P3 다음 스프린트: no schedule


@dataclass(frozen=True)
class Cadence:
    severity: Severity | None
    minutes: int | None  # None: no schedule (P2/P3, or no severity)
    due: tuple[datetime, ...]
    overdue: tuple[datetime, ...]
    updates: tuple[datetime, ...] | None  # None: not given
    next_due: datetime | None
    sentence: str

    def frame(self) -> pd.DataFrame:
        rows = [
            {
                "due_at": pd.Timestamp(d).tz_convert(KST),
                "status": "-" if self.updates is None else ("overdue" if d in self.overdue else "ok"),
            }
            for d in self.due
        ]
        return pd.DataFrame(rows, columns=["due_at", "status"])


def _no_schedule(severity: Severity | None) -> str:
    if severity is None:
        return "심각도 없음: 정기 업데이트 없음 (no severity, no schedule)"
    return f"{severity.value}: 정기 업데이트 없음 ({severity.update_cadence})"


def schedule(
    severity: Severity | None,
    declared: datetime | None,
    end: datetime,
    updates: Sequence[datetime] | None,
) -> Cadence:
    minutes = CADENCE_MINUTES.get(severity) if severity else None
    if minutes is None or declared is None:
        why = "선언 시각 없음 (no declared_at)" if declared is None else _no_schedule(severity)
        return Cadence(severity, minutes, (), (), tuple(updates) if updates is not None else None, None, why)
    step = timedelta(minutes=minutes)
    due = []
    t = declared + step
    while t <= end:
        due.append(t)
        t += step
    posted = sorted(updates) if updates is not None else None
    overdue = tuple(d for d in due if posted is not None and not any(d - step < u <= d for u in posted))
    label = f"{severity.value if severity else ''} {minutes}분마다 (every {minutes} min)"
    if posted is None:
        sentence = f"{label}: 업데이트 {len(due)}회 기한 도래, 게시 시각 미입력 (update_times not given: not judged)"
    elif overdue:
        sentence = f"{label}: {len(due)}회 중 {len(overdue)}회 기한 초과 (overdue at close)"
    else:
        sentence = f"{label}: {len(due)}회 모두 제때 게시 (every update on time)"
    return Cadence(severity, minutes, tuple(due), overdue, tuple(posted) if posted is not None else None, t, sentence)
