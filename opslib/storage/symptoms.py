"""Runbook §3-D 트리아지 1: 증상 분리 — (1) 업로드 실패 (2) URL 생성 실패 (3) 권한으로 읽기 실패.

Three symptoms, three fixes: upload failures point at the service or the insert policies, URL
generation failures at signing (or at public URLs handed out for a private bucket), read
denials at the select policies. Each is measured apart, with its rate and masked examples.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import timedelta

import pandas as pd
from sqlalchemy.engine import Connection

from opslib import checks
from opslib.display import evidence, for_display
from opslib.fetch import Fetched, QueryTiming, fetch, timings
from opslib.measures import pct
from opslib.results import Finding
from opslib.storage.policies import public_flag
from opslib.storage.requests import BUCKET_MINUTES, READS, Kind, of_kind, status_mix, tidy, tidy_rows
from opslib.timewindow import Window

EXAMPLES_PER_SYMPTOM = 5
FAILED_ROWS = 500


class Symptom(enum.Enum):
    UPLOAD = "upload"
    URL = "url"
    READ = "read"

    @property
    def label(self) -> str:
        return {
            "upload": "(1) 업로드(put) 실패 (upload POST/PUT failing)",
            "url": "(2) URL 생성 실패 (signed URL / public URL of a private bucket)",
            "read": "(3) 권한으로 읽기 실패 (reads denied 403)",
        }[self.value]

    @property
    def short(self) -> str:
        return self.label.split(" (")[0]


@dataclass(frozen=True)
class Symptoms:
    """The three symptoms side by side, each with examples; the worst one named."""

    table: pd.DataFrame  # symptom, requests, failures, rate_pct, statuses, buckets
    examples: pd.DataFrame  # symptom, at (KST), method, path (masked), status_code, platform, event_message
    private_public_reads: int  # GETs of /object/public/<private bucket>/...
    leading: Symptom | None
    sentence: str
    findings: tuple[Finding, ...]
    timings: tuple[QueryTiming, ...]


def private_buckets(buckets: pd.DataFrame) -> set[str]:
    if buckets.empty:
        return set()
    # public NULL (the contract allows it) serves nothing publicly: private too
    return {
        str(b) for b, public in zip(buckets["bucket_id"], buckets["public"], strict=True) if not public_flag(public)
    }


def split(requests: pd.DataFrame, private: set[str]) -> dict[Symptom, pd.DataFrame]:
    """The tidy request rows behind each symptom (requests = the symptom's denominator)."""
    uploads = of_kind(requests, Kind.UPLOAD.value)
    signs = of_kind(requests, Kind.URL_SIGN.value)
    public_private = of_kind(requests, Kind.READ_PUBLIC.value)
    public_private = (
        public_private[public_private["bucket_id"].isin(private)] if not public_private.empty else public_private
    )
    # a public URL of a private bucket is a generation failure whatever the gateway answered
    forced = (
        public_private.assign(ok=0, failed=public_private["requests"]) if not public_private.empty else public_private
    )
    reads = of_kind(requests, *READS)
    if not reads.empty:
        denied = reads["status_code"] == 403
        reads = reads.assign(ok=reads["requests"].where(~denied, 0), failed=reads["requests"].where(denied, 0))
    return {Symptom.UPLOAD: uploads, Symptom.URL: pd.concat([signs, forced]), Symptom.READ: reads}


def table(parts: dict[Symptom, pd.DataFrame]) -> pd.DataFrame:
    records = []
    for symptom, frame in parts.items():
        n = int(frame["requests"].sum()) if not frame.empty else 0
        bad = int(frame["failed"].sum()) if not frame.empty else 0
        by_bucket = (
            frame[frame["failed"] > 0].groupby("bucket_id")["failed"].sum().sort_values(ascending=False)
            if bad
            else pd.Series(dtype=int)
        )
        records.append(
            {
                "symptom": symptom.label,
                "requests": n,
                "failures": bad,
                "rate_pct": pct(bad, n),
                "statuses": status_mix(frame) if bad else "",
                "buckets": ", ".join(f"{b} ×{int(c)}" for b, c in by_bucket.items()),
            }
        )
    return pd.DataFrame(records)


def examples(failed: pd.DataFrame, private: set[str]) -> pd.DataFrame:
    rows = tidy_rows(failed)
    if rows.empty:
        return pd.DataFrame(columns=["symptom", "at", "method", "path", "status_code", "platform", "event_message"])
    wanted = {
        Symptom.UPLOAD: rows["kind"] == Kind.UPLOAD.value,
        Symptom.URL: (rows["kind"] == Kind.URL_SIGN.value)
        | ((rows["kind"] == Kind.READ_PUBLIC.value) & rows["bucket_id"].isin(private)),
        Symptom.READ: rows["kind"].isin(READS) & (rows["status_code"] == 403),
    }
    parts = [rows[mask].head(EXAMPLES_PER_SYMPTOM).assign(symptom=symptom.short) for symptom, mask in wanted.items()]
    cols = ["symptom", "at", "method", "path", "status_code", "platform", "event_message"]
    return for_display(pd.concat(parts)[cols]) if parts else pd.DataFrame(columns=cols)


def symptoms(conn: Connection, window: Window) -> Symptoms:
    requests = fetch(conn, "storage.requests_buckets", {**window.params(), "bucket": timedelta(minutes=BUCKET_MINUTES)})
    failed = fetch(conn, "storage.failed_requests", {**window.params(), "max_rows": FAILED_ROWS})
    buckets = fetch(conn, "storage.buckets", {})
    private = private_buckets(buckets.frame)
    parts = split(tidy(requests.frame), private)
    summary = table(parts)
    shown = examples(failed.frame, private)
    leading = _leading(summary)
    findings = url_findings(requests, buckets, parts[Symptom.URL], shown) + read_findings(
        requests, parts[Symptom.READ], shown
    )
    public_private = of_kind(tidy(requests.frame), Kind.READ_PUBLIC.value)
    n_public_private = int(public_private.loc[public_private["bucket_id"].isin(private), "requests"].sum())
    return Symptoms(
        table=summary,
        examples=shown,
        private_public_reads=n_public_private,
        leading=leading,
        sentence=_sentence(summary, leading, failed),
        findings=tuple(findings),
        timings=timings(requests, failed, buckets),
    )


def _leading(summary: pd.DataFrame) -> Symptom | None:
    if summary.empty or int(summary["failures"].sum()) == 0:
        return None
    worst = summary.sort_values(["failures"], ascending=False).iloc[0]
    return next(s for s in Symptom if s.label == worst["symptom"])


def _sentence(summary: pd.DataFrame, leading: Symptom | None, failed: Fetched) -> str:
    if leading is None:
        return "세 증상 모두 실패 없음 (no upload, URL or read failures in the window)"
    parts = [
        f"{r.symptom.split(' (')[0]} {r.failures:,}/{r.requests:,}건"
        for r in summary.itertuples(index=False)
        if r.failures
    ]
    note = "" if failed.ok else f" · 예시 조회 실패: {failed.error}"
    return f"주 증상: {leading.label} — " + "; ".join(parts) + note


def url_findings(requests: Fetched, buckets: Fetched, frame: pd.DataFrame, shown: pd.DataFrame) -> list[Finding]:
    check = checks.get("storage.url_generation_failures")
    if not requests.ok:
        return [checks.error(check, requests.error or "")]
    n = int(frame["requests"].sum()) if not frame.empty else 0
    bad = int(frame["failed"].sum()) if not frame.empty else 0
    detail = f"URL 생성 요청 {n:,}건 중 실패 {bad:,}건" + (f" ({status_mix(frame)})" if bad else "")
    if not buckets.ok:
        detail += f" · 버킷 목록 조회 실패 (private buckets unknown): {buckets.error}"
    ex = shown[shown["symptom"] == Symptom.URL.short] if not shown.empty else shown
    return [checks.evaluate(check, pct(bad, n), sample=n, failures=bad, detail=detail, evidence=evidence(ex))]


def read_findings(requests: Fetched, frame: pd.DataFrame, shown: pd.DataFrame) -> list[Finding]:
    check = checks.get("storage.read_denials")
    if not requests.ok:
        return [checks.error(check, requests.error or "")]
    if frame.empty:
        return [checks.evaluate(check, None, detail="측정 구간에 미디어 읽기 없음 (no reads in the window)")]
    ex = shown[shown["symptom"] == Symptom.READ.short] if not shown.empty else shown
    out = []
    for bucket_id, part in frame.groupby("bucket_id"):
        n, bad = int(part["requests"].sum()), int(part["failed"].sum())
        mine = ex[ex["path"].astype(str).str.contains(f"/{bucket_id}/", regex=False)] if not ex.empty else ex
        out.append(
            checks.evaluate(
                check,
                pct(bad, n),
                sample=n,
                failures=bad,
                subject=str(bucket_id),
                detail=f"{bucket_id}: 읽기 {n:,}건 중 403 {bad:,}건",
                evidence=evidence(mine),
            )
        )
    return out
