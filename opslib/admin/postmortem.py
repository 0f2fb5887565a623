"""Runbook §3-E 영향: numbers a post-mortem can quote (OPS_RUNBOOK §1 template)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy.engine import Connection

from opslib.admin.detection import ADMIN_LOOKBACK, BUCKET, FAILED_CLASSES, publish_attempts
from opslib.fetch import QueryTiming, fetch, timings
from opslib.results import Finding
from opslib.timewindow import Window, kst


@dataclass(frozen=True)
class Impact:
    totals: pd.DataFrame  # measure, value
    markdown: str
    complete: bool
    findings: tuple[Finding, ...]
    timings: tuple[QueryTiming, ...]


def impact(conn: Connection, window: Window) -> Impact:
    status = fetch(conn, "admin.ops_manage_status", {**window.params(), "bucket": BUCKET})
    uploads = fetch(conn, "admin.banner_asset_uploads", window.params())
    former = fetch(conn, "admin.former_admins", {"lookback": window.until - ADMIN_LOOKBACK, "until": window.until})
    gaps = fetch(conn, "admin.audit_gaps_content", window.params())
    complete = all(f.ok for f in (status, uploads, former, gaps))
    s = status.frame
    invocations = int(s["invocations"].sum()) if not s.empty else 0
    failed = s[s["status_class"].isin((*FAILED_CLASSES, "401"))] if not s.empty else s
    refused = s[s["status_class"].isin(("403", "429"))] if not s.empty else s
    publish = publish_attempts(s, uploads.frame)
    first = pd.to_datetime(failed["bucket_start"], utc=True).min() if len(failed) else None
    last = pd.to_datetime(failed["bucket_start"], utc=True).max() if len(failed) else None
    rows = [
        ("ops-manage 호출 (invocations)", invocations),
        ("실패 응답 5xx/401/무응답 (failed)", int(failed["invocations"].sum()) if len(failed) else 0),
        ("거부 응답 403/429 (refused)", int(refused["invocations"].sum()) if len(refused) else 0),
        ("실패한 퍼블리시/업로드 (failed publishes)", int(publish["failed"].sum())),
        ("권한을 잃은 최근 관리자 (admins who lost access)", len(former.frame) if former.ok else 0),
        ("감사로그 없는 배너/플래그 변경 (unaudited changes)", len(gaps.frame) if gaps.ok else 0),
    ]
    totals = pd.DataFrame(rows, columns=["measure", "value"])
    lines = [f"- {m}: **{v:,}**" for m, v in rows]
    if first is not None:
        lines.append(f"- 첫/마지막 실패 (5분 단위): {kst(first.to_pydatetime())} → {kst(last.to_pydatetime())}")  # type: ignore[union-attr]
    if not complete:
        broken = [f.name for f in (status, uploads, former, gaps) if not f.ok]
        lines.append(f"- **불완전 (incomplete)**: 측정 실패 {', '.join(broken)}")
    return Impact(totals, "\n".join(lines), complete, (), timings(status, uploads, former, gaps))
