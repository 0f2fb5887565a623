"""Runbook §3-D 트리아지 4: 버킷 용량 한도 확인 — size and objects per bucket, limits, rejected uploads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pandas as pd
from sqlalchemy.engine import Connection

from opslib import checks
from opslib.display import evidence, for_display
from opslib.fetch import Fetched, QueryTiming, fetch, timings
from opslib.measures import pct
from opslib.results import Finding
from opslib.storage.requests import BUCKET_MINUTES, Kind, of_kind, tidy
from opslib.timewindow import Window

GB = 1024**3
TOO_LARGE = 413
BAD_MIME = 415


@dataclass(frozen=True)
class Capacity:
    usage: pd.DataFrame  # bucket_id, objects, size_gb, quota_pct, largest_mb, file_size_limit_mb, over/disallowed
    rejected: pd.DataFrame  # bucket_id, too_large_413, disallowed_mime_415, uploads
    quota_gb: float
    findings: tuple[Finding, ...]
    timings: tuple[QueryTiming, ...]


def usage_table(usage: pd.DataFrame, buckets: pd.DataFrame, quota_gb: float) -> pd.DataFrame:
    """Pure: every bucket (empty ones too) with its bytes against the quota and its own limits."""
    ids = sorted(set(buckets["bucket_id"]) if not buckets.empty else set()) or []
    ids += sorted(set(usage["bucket_id"].dropna()) - set(ids)) if not usage.empty else []
    records = []
    for bucket_id in ids:
        u = usage[usage["bucket_id"] == bucket_id] if not usage.empty else usage
        b = buckets[buckets["bucket_id"] == bucket_id] if not buckets.empty else buckets
        size = int(u["bytes"].iloc[0]) if not u.empty else 0
        limit = b["file_size_limit"].iloc[0] if not b.empty else None
        limit = None if limit is None or pd.isna(limit) else int(limit)
        records.append(
            {
                "bucket_id": bucket_id,
                "objects": int(u["objects"].iloc[0]) if not u.empty else 0,
                "size_gb": round(size / GB, 3),
                "quota_pct": pct(size, quota_gb * GB),
                "new_objects": int(u["new_objects"].iloc[0]) if not u.empty else 0,
                "new_mb": round(int(u["new_bytes"].iloc[0]) / 1024**2, 1) if not u.empty else 0.0,
                "largest_mb": round(int(u["largest_bytes"].iloc[0]) / 1024**2, 2)
                if not u.empty and pd.notna(u["largest_bytes"].iloc[0])
                else None,
                "file_size_limit_mb": round(limit / 1024**2, 1) if limit is not None else None,
                "over_size_limit": int(u["over_size_limit"].iloc[0]) if not u.empty else 0,
                "disallowed_mime": int(u["disallowed_mime"].iloc[0]) if not u.empty else 0,
                "without_size": int(u["without_size"].iloc[0]) if not u.empty else 0,
            }
        )
    return pd.DataFrame(records)


def rejected_table(requests: pd.DataFrame) -> pd.DataFrame:
    up = of_kind(requests, Kind.UPLOAD.value)
    cols = ["bucket_id", "uploads", "too_large_413", "disallowed_mime_415"]
    if up.empty:
        return pd.DataFrame(columns=cols)
    records = []
    for bucket_id, part in up.groupby("bucket_id"):
        records.append(
            {
                "bucket_id": bucket_id,
                "uploads": int(part["requests"].sum()),
                "too_large_413": int(part.loc[part["status_code"] == TOO_LARGE, "requests"].sum()),
                "disallowed_mime_415": int(part.loc[part["status_code"] == BAD_MIME, "requests"].sum()),
            }
        )
    return pd.DataFrame(records, columns=cols)


def capacity(conn: Connection, window: Window, quota_gb: float = 50.0) -> Capacity:
    usage = fetch(conn, "storage.bucket_usage", {"since": window.since})
    buckets = fetch(conn, "storage.buckets", {})
    requests = fetch(conn, "storage.requests_buckets", {**window.params(), "bucket": timedelta(minutes=BUCKET_MINUTES)})
    table = usage_table(usage.frame, buckets.frame, quota_gb)
    rejected = rejected_table(tidy(requests.frame))
    findings = capacity_findings(usage, table, quota_gb) + rejected_findings(requests, rejected)
    return Capacity(
        usage=table,
        rejected=rejected,
        quota_gb=quota_gb,
        findings=tuple(findings),
        timings=timings(usage, buckets, requests),
    )


def capacity_findings(usage: Fetched, table: pd.DataFrame, quota_gb: float) -> list[Finding]:
    check = checks.get("storage.bucket_capacity")
    if not usage.ok:
        return [checks.error(check, usage.error or "")]
    if table.empty:
        return [checks.evaluate(check, None, detail="버킷 없음 (no buckets)")]
    out = []
    for r in table.itertuples(index=False):
        detail = f"{r.bucket_id}: {r.size_gb:,.2f} GB / 한도 {quota_gb:g} GB, 객체 {r.objects:,}개"
        if r.new_objects:
            detail += f" (측정 구간 신규 {r.new_objects:,}개, {r.new_mb:,.0f} MB)"
        if r.over_size_limit:
            detail += f" · file_size_limit 초과 객체 {r.over_size_limit:,}개"
        if r.without_size:
            detail += f" · 크기 기록 없는 객체 {r.without_size:,}개 (metadata.size missing: not counted)"
        out.append(checks.evaluate(check, r.quota_pct, subject=str(r.bucket_id), detail=detail))
    return out


def rejected_findings(requests: Fetched, rejected: pd.DataFrame) -> list[Finding]:
    check = checks.get("storage.uploads_rejected")
    if not requests.ok:
        return [checks.error(check, requests.error or "")]
    large = int(rejected["too_large_413"].sum()) if not rejected.empty else 0
    mime = int(rejected["disallowed_mime_415"].sum()) if not rejected.empty else 0
    shown = (
        rejected[(rejected["too_large_413"] + rejected["disallowed_mime_415"]) > 0] if not rejected.empty else rejected
    )
    detail = f"크기 초과(413) {large:,}건, 허용되지 않은 MIME(415) {mime:,}건"
    if not shown.empty:
        detail += (
            " ("
            + ", ".join(
                f"{r.bucket_id}: 413 ×{r.too_large_413}, 415 ×{r.disallowed_mime_415}"
                for r in shown.itertuples(index=False)
            )
            + ")"
        )
    return [checks.evaluate(check, large + mime, detail=detail, evidence=evidence(for_display(shown)))]
