"""Runbook §3-C 영향: numbers a post-mortem can quote (fans waiting, messages late, longest delay, paid)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd
from sqlalchemy.engine import Connection

from opslib import checks
from opslib.display import for_display
from opslib.fetch import QueryTiming, fetch, timings
from opslib.messaging.detection import age_text
from opslib.results import Finding
from opslib.timewindow import Window, kst


@dataclass(frozen=True)
class Impact:
    window: Window
    complete: bool  # False: the query failed and the numbers are not known
    messages_late: int
    still_waiting: int  # of them, not sent at the window's end
    paid_messages: int
    fans_waiting: int  # distinct fans in the audience of a late message (followers not counted)
    followers_messages: int  # late messages to followers (audience unknown)
    longest_delay_s: float | None
    first_due: datetime | None
    markdown: str
    late: pd.DataFrame  # the late messages (masked, KST)
    findings: tuple[Finding, ...]
    timings: tuple[QueryTiming, ...]


def impact(conn: Connection, window: Window) -> Impact:
    late_after = timedelta(seconds=float(checks.get("messaging.exit_dispatch_lateness").warn or 90))
    fetched = fetch(conn, "messaging.impact", {**window.params(), "late_after": late_after})
    if not fetched.ok:
        text = f"**영향 집계 불완전 (incomplete)**: {fetched.error}"
        return Impact(window, False, 0, 0, 0, 0, 0, None, None, text, pd.DataFrame(), (), timings(fetched))
    f = fetched.frame
    fans: set[str] = set()
    for ids in f["fan_ids"] if not f.empty else []:
        if ids is not None:
            fans.update(str(i) for i in ids if i is not None)
    late = len(f)
    waiting = int(f["sent_at"].isna().sum()) if late else 0
    paid = int((f["price_dt"] > 0).sum()) if late else 0
    followers = int((f["audience"] == "followers").sum()) if late else 0
    longest = float(f["delay_s"].max()) if late else None
    first_due = pd.Timestamp(f["due_at"].min()).to_pydatetime() if late else None
    lines = [
        f"- 늦은 메시지 (messages late > {late_after.total_seconds():.0f} s): **{late:,}건**"
        f" (측정 구간 끝 아직 미발송 {waiting:,}건)",
        f"- 기다린 팬 (fans waiting): **{len(fans):,}명**"
        + (f" (+ followers 대상 {followers}건은 팔로워 수 미상)" if followers else ""),
        f"- 최장 지연 (longest delay): **{age_text(longest)}**",
        f"- 유료 메시지 (paid messages affected): **{paid:,}건**",
        "- 첫 지연 메시지 예정 시각 (first late message due): "
        + (kst(first_due, "%m-%d %H:%M KST") if first_due else "-"),
    ]
    if not late:
        lines = ["- 늦은 메시지 없음 (no message late in the window)"]
    return Impact(
        window=window,
        complete=True,
        messages_late=late,
        still_waiting=waiting,
        paid_messages=paid,
        fans_waiting=len(fans),
        followers_messages=followers,
        longest_delay_s=longest,
        first_due=first_due,
        markdown="\n".join(lines),
        late=for_display(f.drop(columns=["fan_ids"])) if late else pd.DataFrame(),
        findings=(),
        timings=timings(fetched),
    )
