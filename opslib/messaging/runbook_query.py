"""Runbook §3-C 트리아지 3: the runbook's own backlog query, shown word for word with its answer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Connection

from opslib import queries
from opslib.fetch import QueryTiming, fetch, timings
from opslib.measures import first_value, total
from opslib.timewindow import kst


@dataclass(frozen=True)
class RunbookQuery:
    """The verbatim query, its answer at NOW(), and the same question at the window's end."""

    sql: str
    at_now: int | None
    at_until: int | None
    until: datetime
    send_now_missed: int
    sentence: str
    timings: tuple[QueryTiming, ...]

    @property
    def markdown(self) -> str:
        """The query as the runbook prints it, as a SQL block."""
        return f"```sql\n{self.sql}\n```"


def runbook_backlog(conn: Connection, until: datetime) -> RunbookQuery:
    """Run OPS_RUNBOOK §3-C 트리아지 3's query as written, and the page's backlog at `until`."""
    verbatim = queries.get("messaging.runbook_backlog").sql.strip()
    now = fetch(conn, "messaging.runbook_backlog", {})
    at_until = fetch(conn, "messaging.backlog", {"until": until})
    n_now = int(first_value(now.frame, "count") or 0) if now.ok else None  # type: ignore[arg-type]
    n_until = total(at_until.frame, "overdue") if at_until.ok else None
    send_now = total(at_until.frame, "overdue_send_now") if at_until.ok else 0
    if n_now is None:
        sentence = f"런북 쿼리 실행 실패: {now.error}"
    else:
        sentence = f"런북 쿼리 답 (NOW() 기준): {n_now}건"
        if n_until is not None:
            sentence += f" · 측정 구간 끝 {kst(until, '%H:%M KST')} 기준 미발송 {n_until}건"
        if send_now:
            sentence += f" (그중 scheduled_at NULL 즉시 발송 {send_now}건은 런북 쿼리에 안 잡힘)"
    return RunbookQuery(verbatim, n_now, n_until, until, send_now, sentence, timings(now, at_until))
