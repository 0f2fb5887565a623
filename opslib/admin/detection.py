"""Runbook §3-E 감지 (detect): ops-manage errors, publish failures, audit-log gaps."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pandas as pd
from sqlalchemy.engine import Connection

from opslib import checks
from opslib.display import evidence, for_display
from opslib.fetch import Fetched, QueryTiming, fetch, timings
from opslib.measures import number, pct
from opslib.results import Finding
from opslib.timewindow import Window

BUCKET = timedelta(minutes=5)
# An admin act this far back makes a user a "recent admin" (role gaps, rate limits, who lost access).
ADMIN_LOOKBACK = timedelta(days=7)
STATUS_CLASSES = ("2xx", "401", "403", "429", "4xx", "5xx", "other")
FAILED_CLASSES = ("5xx", "other")  # 'other' is no status at all: the function never answered


@dataclass(frozen=True)
class Detection:
    """What §3-E 감지 shows."""

    window: Window
    status_buckets: pd.DataFrame  # bucket_start (KST), status_class, invocations (long, for a stacked chart)
    status_totals: pd.DataFrame  # status_class, invocations, share_pct, writes
    publish: pd.DataFrame  # source, attempts, failed, failed_pct
    asset_uploads: pd.DataFrame  # status_class, uploads, first_at, last_at
    audit_gaps: pd.DataFrame  # target_type, target_id, change, changed_at, state (masked)
    role_gaps: pd.DataFrame  # user_id (masked), role, status, changed_at, gap
    findings: tuple[Finding, ...]
    timings: tuple[QueryTiming, ...]


def detect(conn: Connection, window: Window) -> Detection:
    status = fetch(conn, "admin.ops_manage_status", {**window.params(), "bucket": BUCKET})
    uploads = fetch(conn, "admin.banner_asset_uploads", window.params())
    content = fetch(conn, "admin.audit_gaps_content", window.params())
    roles = fetch(conn, "admin.audit_gaps_roles", {**window.params(), "lookback": window.until - ADMIN_LOOKBACK})
    totals = status_totals(status.frame)
    publish = publish_attempts(status.frame, uploads.frame)
    findings = [
        status_finding(status, totals),
        publish_finding(status, uploads, publish),
        gap_finding("admin.audit_gap_content", content),
        gap_finding("admin.audit_gap_roles", roles),
    ]
    chart = status.frame
    if not chart.empty:
        chart = chart.groupby(["bucket_start", "status_class"], as_index=False)["invocations"].sum()
    return Detection(
        window=window,
        status_buckets=for_display(chart),
        status_totals=totals,
        publish=publish,
        asset_uploads=for_display(uploads.frame),
        audit_gaps=for_display(content.frame),
        role_gaps=for_display(roles.frame),
        findings=tuple(findings),
        timings=timings(status, uploads, content, roles),
    )


def _count(frame: pd.DataFrame, column: str, **where: object) -> int:
    if frame.empty:
        return 0
    rows = frame
    for key, value in where.items():
        rows = rows[rows[key] == value]
    return int(pd.to_numeric(rows[column], errors="coerce").fillna(0).sum())


def status_totals(frame: pd.DataFrame) -> pd.DataFrame:
    """Every status class with its count over the window (zero is an answer too)."""
    counts = {c: _count(frame, "invocations", status_class=c) for c in STATUS_CLASSES}
    writes = {c: _count(frame, "invocations", status_class=c, is_write=True) for c in STATUS_CLASSES}
    whole = sum(counts.values())
    return pd.DataFrame(
        [
            {"status_class": c, "invocations": n, "share_pct": pct(n, whole), "writes": writes[c]}
            for c, n in counts.items()
        ]
    )


def publish_attempts(status: pd.DataFrame, uploads: pd.DataFrame) -> pd.DataFrame:
    """Writes through ops-manage and banner asset uploads, and how many did not answer 2xx."""
    writes = _count(status, "invocations", is_write=True)
    ok_writes = _count(status, "invocations", is_write=True, status_class="2xx")
    up = _count(uploads, "uploads")
    ok_up = _count(uploads, "uploads", status_class="2xx")
    rows = [
        {"source": "ops-manage 쓰기 (POST/PUT/PATCH/DELETE)", "attempts": writes, "failed": writes - ok_writes},
        {"source": "배너 자산 업로드 (storage banners/)", "attempts": up, "failed": up - ok_up},
    ]
    for r in rows:
        r["failed_pct"] = pct(r["failed"], r["attempts"])
    return pd.DataFrame(rows)


def status_finding(status: Fetched, totals: pd.DataFrame) -> Finding:
    check = checks.get("admin.ops_manage_5xx")
    if not status.ok:
        return checks.error(check, status.error or "")
    whole = int(totals["invocations"].sum())
    failed = int(totals[totals["status_class"].isin(FAILED_CLASSES)]["invocations"].sum())
    mix = ", ".join(f"{r.status_class} {r.invocations}" for r in totals.itertuples(index=False) if r.invocations)
    detail = f"ops-manage {whole}회 호출 ({mix})" if whole else "ops-manage 호출 없음 (no invocations in the window)"
    worst = totals[totals["invocations"] > 0]
    return checks.evaluate(
        check,
        number(pct(failed, whole)),
        sample=whole,
        failures=failed,
        detail=detail,
        evidence=evidence(worst, ["status_class", "invocations", "share_pct"]),
    )


def publish_finding(status: Fetched, uploads: Fetched, publish: pd.DataFrame) -> Finding:
    check = checks.get("admin.publish_failures")
    if not status.ok:
        return checks.error(check, status.error or "")
    attempts = int(publish["attempts"].sum())
    failed = int(publish["failed"].sum())
    detail = "; ".join(f"{r.source}: 실패 {r.failed}/{r.attempts}" for r in publish.itertuples(index=False))
    if not uploads.ok:
        detail += f" · 자산 업로드 집계 실패: {uploads.error}"
    if not attempts:
        detail = "퍼블리시 시도 없음 (no publish attempts in the window)"
    return checks.evaluate(
        check,
        number(pct(failed, attempts)),
        sample=attempts,
        failures=failed,
        detail=detail,
        evidence=evidence(publish),
    )


def gap_finding(check_id: str, gaps: Fetched) -> Finding:
    check = checks.get(check_id)
    if not gaps.ok:
        return checks.error(check, gaps.error or "")
    n = len(gaps.frame)
    if not n:
        detail = "감사로그 누락 없음 (every change in the window has its audit row)"
    elif "gap" in gaps.frame.columns:
        detail = ", ".join(f"{g} {c}명" for g, c in gaps.frame["gap"].value_counts().items())
    else:
        detail = (
            ", ".join(f"{t} {c}건" for t, c in gaps.frame["target_type"].value_counts().items())
            + " (변경은 있는데 admin_audit_log 행 없음)"
        )
    return checks.evaluate(check, n, detail=detail, evidence=evidence(gaps.frame))
