"""Runbook §3-D 영향: users and uploads failed, per bucket (numbers a post-mortem can quote)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy.engine import Connection

from opslib.display import for_display
from opslib.fetch import QueryTiming, fetch, timings
from opslib.results import Finding, Outcome
from opslib.timewindow import Window, kst


@dataclass(frozen=True)
class Impact:
    by_bucket: pd.DataFrame  # bucket_id, uploads, failed_uploads, users, users_failed, first/last failure (KST)
    users_failed: int  # summed over buckets (a user failing in two buckets counts twice)
    uploads_failed: int
    markdown: str
    findings: tuple[Finding, ...]
    timings: tuple[QueryTiming, ...]


def impact(conn: Connection, window: Window) -> Impact:
    got = fetch(conn, "storage.upload_impact", window.params())
    frame = got.frame
    failed = int(frame["failed_uploads"].sum()) if not frame.empty else 0
    users = int(frame["users_failed"].sum()) if not frame.empty else 0
    if not got.ok:
        text = f"영향 집계 실패 (impact could not be measured): {got.error}"
    elif not failed:
        text = f"측정 구간 {window.label()}: 실패한 업로드 없음 (no failed uploads)"
    else:
        first = frame["first_failure_at"].dropna().min()
        last = frame["last_failure_at"].dropna().max()
        lines = [
            f"- 측정 구간 (window): {window.label()}",
            f"- 실패한 업로드 (uploads failed): **{failed:,}건** / 전체 {int(frame['uploads'].sum()):,}건",
            f"- 영향 사용자 (users with a failed upload, per bucket summed): **{users:,}명**",
            f"- 최초/최종 실패 (first/last failure): {kst(first.to_pydatetime())} ~ {kst(last.to_pydatetime())}",
        ]
        lines += [
            f"- `{r.bucket_id}`: 실패 {r.failed_uploads:,}/{r.uploads:,}건, 사용자 {r.users_failed:,}/{r.users:,}명"
            for r in frame.itertuples(index=False)
            if r.failed_uploads
        ]
        text = "\n".join(lines)
    errors = (
        ()
        if got.ok
        else (
            Finding(
                check="storage.impact",
                outcome=Outcome.ERROR,
                section="§3-D 영향",
                title="영향 (users and uploads failed)",
                detail=got.error or "",
            ),
        )
    )
    return Impact(for_display(frame), users, failed, text, errors, timings(got))
