"""Runbook §3-D 감지: uploads failing, media loads failing (403/404), storage_upload_failed events."""

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
from opslib.storage.requests import BUCKET_MINUTES, READS, Kind, of_kind, status_mix, tidy
from opslib.timewindow import Window

BUCKET = timedelta(minutes=BUCKET_MINUTES)


@dataclass(frozen=True)
class Detection:
    """What §3-D 감지 shows."""

    window: Window
    upload_buckets: pd.DataFrame  # bucket_id, bucket_start (KST), uploads, successes, success_rate
    upload_totals: pd.DataFrame  # per storage bucket over the window
    media_loads: pd.DataFrame  # per storage bucket and read kind: reads, 403, 404, failing share
    upload_failed_events: pd.DataFrame  # per function: events, first/last, latest message (masked)
    findings: tuple[Finding, ...]
    timings: tuple[QueryTiming, ...]


def upload_buckets(requests: pd.DataFrame) -> pd.DataFrame:
    """Uploads per storage bucket and 5-minute bucket, with the success rate (None when there were none)."""
    up = of_kind(requests, Kind.UPLOAD.value)
    if up.empty:
        return pd.DataFrame(columns=["bucket_id", "bucket_start", "uploads", "successes", "success_rate"])
    out = (
        up.groupby(["bucket_id", "bucket_start"], as_index=False)
        .agg(uploads=("requests", "sum"), successes=("ok", "sum"))
        .sort_values(["bucket_id", "bucket_start"])
    )
    out["success_rate"] = [pct(s, n) for s, n in zip(out["successes"], out["uploads"], strict=True)]
    return out


def upload_totals(requests: pd.DataFrame) -> pd.DataFrame:
    up = of_kind(requests, Kind.UPLOAD.value)
    if up.empty:
        return pd.DataFrame(columns=["bucket_id", "uploads", "successes", "failures", "success_rate", "statuses"])
    records = []
    for bucket_id, part in up.groupby("bucket_id"):
        n, ok = int(part["requests"].sum()), int(part["ok"].sum())
        records.append(
            {
                "bucket_id": bucket_id,
                "uploads": n,
                "successes": ok,
                "failures": n - ok,
                "success_rate": pct(ok, n),
                "statuses": status_mix(part),
            }
        )
    return pd.DataFrame(records)


def media_loads(requests: pd.DataFrame) -> pd.DataFrame:
    reads = of_kind(requests, *READS)
    if reads.empty:
        return pd.DataFrame(columns=["bucket_id", "kind", "reads", "denied_403", "missing_404", "failing_pct"])
    records = []
    for (bucket_id, kind), part in reads.groupby(["bucket_id", "kind"]):
        n = int(part["requests"].sum())
        denied = int(part.loc[part["status_code"] == 403, "requests"].sum())
        missing = int(part.loc[part["status_code"] == 404, "requests"].sum())
        records.append(
            {
                "bucket_id": bucket_id,
                "kind": kind,
                "reads": n,
                "denied_403": denied,
                "missing_404": missing,
                "failing_pct": pct(denied + missing, n),
            }
        )
    return pd.DataFrame(records)


def detect(conn: Connection, window: Window) -> Detection:
    """Measure the §3-D 감지 signals over the window."""
    requests = fetch(conn, "storage.requests_buckets", {**window.params(), "bucket": BUCKET})
    events = fetch(conn, "storage.upload_failed_events", window.params())
    frame = tidy(requests.frame)
    buckets = upload_buckets(frame)
    totals = upload_totals(frame)
    loads = media_loads(frame)
    findings = upload_findings(requests, totals, buckets) + load_findings(requests, loads) + event_findings(events)
    return Detection(
        window=window,
        upload_buckets=for_display(buckets),
        upload_totals=totals,
        media_loads=loads,
        upload_failed_events=for_display(events.frame),
        findings=tuple(findings),
        timings=timings(requests, events),
    )


def upload_findings(requests: Fetched, totals: pd.DataFrame, buckets: pd.DataFrame) -> list[Finding]:
    check = checks.get("storage.upload_success_rate")
    if not requests.ok:
        return [checks.error(check, requests.error or "")]
    if totals.empty:
        return [checks.evaluate(check, None, detail="측정 구간에 업로드 없음 (no uploads in the window)")]
    out = []
    for row in totals.itertuples(index=False):
        worst = buckets[buckets["bucket_id"] == row.bucket_id].sort_values("success_rate").head(5)
        detail = f"{row.bucket_id}: {row.successes:,}/{row.uploads:,}건 성공"
        if row.failures:
            detail += f" (실패 {row.statuses})"
        out.append(
            checks.evaluate(
                check,
                row.success_rate,
                sample=int(row.uploads),
                failures=int(row.failures),
                subject=str(row.bucket_id),
                detail=detail,
                evidence=evidence(worst, ["bucket_start", "uploads", "successes", "success_rate"]),
            )
        )
    return out


def load_findings(requests: Fetched, loads: pd.DataFrame) -> list[Finding]:
    check = checks.get("storage.media_load_failures")
    if not requests.ok:
        return [checks.error(check, requests.error or "")]
    n = int(loads["reads"].sum()) if not loads.empty else 0
    bad = int((loads["denied_403"] + loads["missing_404"]).sum()) if not loads.empty else 0
    if not n:
        return [checks.evaluate(check, None, detail="측정 구간에 미디어 읽기 없음 (no media reads in the window)")]
    worst = loads.sort_values("failing_pct", ascending=False).head(5)
    detail = f"미디어 읽기 {n:,}건 중 403/404 {bad:,}건"
    if bad:
        parts = [
            f"{r.bucket_id} {r.kind}: 403 ×{r.denied_403}, 404 ×{r.missing_404}"
            for r in worst.itertuples(index=False)
            if r.denied_403 or r.missing_404
        ]
        detail += " (" + "; ".join(parts) + ")"
    return [checks.evaluate(check, pct(bad, n), sample=n, failures=bad, detail=detail, evidence=evidence(worst))]


def event_findings(events: Fetched) -> list[Finding]:
    check = checks.get("storage.upload_failed_events")
    if not events.ok:
        return [checks.error(check, events.error or "")]
    n = int(events.frame["events"].sum()) if not events.frame.empty else 0
    detail = (
        "function_logs에 storage_upload_failed 없음 (none logged; Sentry 자체는 DB 밖)"
        if not n
        else "함수별: " + ", ".join(f"{r.function_name} ×{r.events}" for r in events.frame.itertuples(index=False))
    )
    return [
        checks.evaluate(
            check,
            n,
            detail=detail,
            evidence=evidence(events.frame, ["function_name", "events", "first_at", "last_at", "latest_message"]),
        )
    ]
