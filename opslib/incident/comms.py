"""Runbook §1 소통: the next #ops-incidents update, in the channel's style, ready to paste.

incident.md §1 declares in one thread as `[SEV-P?] <제목> | 시작: <시간> | 영향: <범위>`; slack.md
keeps a channel post to "WI 링크 1개 + 요약 5줄". The text is built from the evidence only and
masked (opslib.masking.mask_text) before anyone sees it: no email, phone, user id or name.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from opslib.incident.cadence import Cadence
from opslib.incident.closing import Classification, Close
from opslib.incident.impact import Impact
from opslib.incident.timeline import Event, Kind
from opslib.masking import mask_text
from opslib.timewindow import kst

SUMMARY_LINES = 5


def scope(impact: Impact) -> str:
    parts = []
    if impact.users:
        parts.append(f"사용자 {impact.users:,}명")
    if impact.orders:
        parts.append(f"주문 {impact.orders:,}건 {impact.krw:,}원")
    if impact.dt:
        parts.append(f"DT {impact.dt:,}")
    if impact.messages:
        parts.append(f"메시지 {impact.messages:,}건")
    if impact.unkeyed_pages:
        parts.append(f"{'/'.join(impact.unkeyed_pages)} 영향 집계 중")
    return ", ".join(parts) or "집계 중 (being measured)"


def update_text(
    wi_id: str,
    title: str,
    classification: Classification,
    started: datetime | None,
    impact: Impact,
    events: Sequence[Event],
    close: Close,
    cadence: Cadence,
) -> str:
    sev = classification.severity.value if classification.severity else "P?"
    head = f"[SEV-{sev}] {title} | 시작: {kst(started) if started else '-'} | 영향: {scope(impact)}"
    actions = [e for e in events if e.kind is Kind.ACTION]
    causes = [e for e in events if e.kind is Kind.CAUSE]
    if close.allowed:
        status = "상태: 복구 확인, 모든 종료 조건 충족" + (" · 종결" if close.requested else "")
    else:
        status = "상태: 진행 중 · " + close.sentence
    lines = [status]
    if actions:
        lines.append("조치: " + "; ".join(f"{kst(a.at, '%H:%M')} {a.text}" for a in actions[-3:]))
    else:
        lines.append("조치: 실행된 완화 조치 없음 (dry-run만 확인)")
    if causes:
        lines.append("원인 (추정, 확인 중): " + causes[0].text)
    if cadence.next_due is not None and not close.requested:
        lines.append(f"다음 업데이트: {kst(cadence.next_due, '%H:%M KST')} ({sev} {cadence.minutes}분 주기)")
    lines.append(f"WI: {wi_id}")
    body = [head, *[f"- {line}" for line in lines[:SUMMARY_LINES]]]
    return mask_text("\n".join(body))
