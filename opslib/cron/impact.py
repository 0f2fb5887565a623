"""영향: what the post-mortem quotes: runs missed or failed per job, the dispatcher's late messages,
the business days payment-reconcile has not reconciled."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy.engine import Connection

from opslib import checks
from opslib.cron.detection import Detection
from opslib.cron.reconcile import expected_business_date
from opslib.cron.settings import detection as settings
from opslib.display import for_display
from opslib.fetch import QueryTiming, fetch, timings
from opslib.results import Finding
from opslib.timewindow import KST, Window, kst

MESSAGING_POINTER = "늦은 예약 메시지 상세는 메시징 페이지에서: `opsbook run messaging` (§3-C)"
PAYMENTS_POINTER = "대사 상세는 결제 페이지에서: `opsbook run payments` (§3-A)"


@dataclass(frozen=True)
class Impact:
    by_job: pd.DataFrame
    late_messages: pd.DataFrame
    unreconciled: pd.DataFrame
    markdown: str
    findings: tuple[Finding, ...]
    timings: tuple[QueryTiming, ...] = field(default_factory=tuple)


def impact(conn: Connection, detection: Detection, window: Window) -> Impact:
    at = detection.judged_at or window.until
    rows = []
    for h in detection.jobs:
        outcomes = list(h.runs["outcome"]) if len(h.runs) else []
        failed = [o for o in outcomes if o.is_failure]
        bad_times = [
            pd.Timestamp(s).to_pydatetime()
            for o, s in zip(outcomes, h.runs["start_time"] if len(h.runs) else [], strict=True)
            if o.is_failure
        ] + [pd.Timestamp(d).to_pydatetime() for d in h.due.loc[h.due["started_at"].isna(), "due_at"]]
        rows.append(
            {
                "job": h.job.name,
                "since": h.span.since,
                "missed": h.missed,
                "failed": len(failed),
                "first_affected": min(bad_times) if bad_times else None,
                "last_affected": max(bad_times) if bad_times else None,
            }
        )
    by_job = pd.DataFrame(rows)
    cfg = settings()
    late = fetch(conn, "cron.late_messages", {**window.params(), "at": at, "grace": cfg.late_message_grace})
    through = fetch(conn, "cron.reconciled_through", {})
    findings: list[Finding] = []
    if not late.ok:
        findings.append(checks.error(checks.get("cron.missed_runs"), f"late messages: {late.error}", "impact"))
    if not through.ok:
        findings.append(checks.error(checks.get("cron.reconcile_behind"), f"impact: {through.error}", "impact"))
    expected = expected_business_date(at, cfg.reconcile_grace)
    unrec = []
    for _, r in through.frame.iterrows() if through.ok else iter(()):
        start = r["last_period_start"]
        last = None if start is None or pd.isna(start) else pd.Timestamp(start).tz_convert(KST).date()
        unrec.append(
            {
                "provider": r["provider"],
                "last_reconciled": last,
                "expected": expected,
                "days_not_reconciled": None if last is None else max(0, (expected - last).days),
            }
        )
    unreconciled = pd.DataFrame(unrec)
    late_total = int(late.frame["messages"].sum()) if late.ok and len(late.frame) else 0
    lines = [f"**측정 구간 (window)**: {window.label()} · 판정 시각 {kst(at)}"]
    total_missed = int(by_job["missed"].sum()) if len(by_job) else 0
    total_failed = int(by_job["failed"].sum()) if len(by_job) else 0
    lines.append(f"- 놓친/지연 실행 {total_missed}회, 실패 실행 {total_failed}회 (missed/late, failed runs)")
    for r in rows:
        if r["missed"] or r["failed"]:
            lines.append(
                f"  - `{r['job']}`: missed {r['missed']}, failed {r['failed']} · "
                f"{kst(r['first_affected'])} → {kst(r['last_affected'])}"
            )
    lines.append(
        f"- 디스패처가 늦게 남긴 예약 메시지 {late_total}건 (scheduled messages left late) · {MESSAGING_POINTER}"
    )
    behind = [u for u in unrec if u["days_not_reconciled"]]
    lines.append(
        "- 대사되지 않은 영업일 (business days not reconciled): "
        + (
            ", ".join(f"{u['provider']} {u['days_not_reconciled']}일 (마지막 {u['last_reconciled']})" for u in behind)
            if behind
            else "없음 (none)"
        )
        + f" · {PAYMENTS_POINTER}"
    )
    return Impact(
        by_job=for_display(by_job) if len(by_job) else by_job,
        late_messages=for_display(late.frame) if late.ok and len(late.frame) else pd.DataFrame(),
        unreconciled=unreconciled,
        markdown="\n".join(lines),
        findings=tuple(findings),
        timings=timings(late, through),
    )
