"""Runbook §3-D 복구: Storage 관련 에러 추적 (by path prefix and status over time); CORS 설정 확인."""

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
from opslib.storage.requests import BUCKET_MINUTES, Kind, of_kind, succeeded, tidy
from opslib.timewindow import Window


@dataclass(frozen=True)
class Recovery:
    errors_over_time: pd.DataFrame  # bucket_start (KST), prefix, status, failures (long, for a stacked chart)
    errors_by_prefix: pd.DataFrame  # prefix, status, failures, first/last bucket
    preflights: pd.DataFrame  # origin, status_code, platform, requests, first_at, last_at
    web_uploads: pd.DataFrame  # bucket_start (KST), web uploads, preflights, failed preflights
    findings: tuple[Finding, ...]
    timings: tuple[QueryTiming, ...]


def prefix(area: str, bucket_id: str) -> str:
    """'/object/sign/message-media', '/object/avatars': where in the Storage API a request went."""
    middle = "upload/sign/" if area == "upload" else f"{area}/" if area else ""
    return f"/object/{middle}{bucket_id}"


def status_label(status: object) -> str:
    return "응답 없음" if status is None or pd.isna(status) else str(int(status))  # type: ignore[call-overload]


def errors(requests: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    bad = requests[requests["failed"] > 0] if not requests.empty else requests
    if bad.empty:
        return (
            pd.DataFrame(columns=["bucket_start", "series", "failures"]),
            pd.DataFrame(columns=["prefix", "status", "failures", "first_bucket", "last_bucket"]),
        )
    bad = bad.assign(
        prefix=[prefix(a or "", b or "") for a, b in zip(bad["area"], bad["bucket_id"], strict=True)],
        status=bad["status_code"].map(status_label),
    )
    bad = bad.assign(series=bad["prefix"] + " " + bad["status"])
    over_time = (
        bad.groupby(["bucket_start", "series"], as_index=False)["failed"].sum().rename(columns={"failed": "failures"})
    )
    by_prefix = (
        bad.groupby(["prefix", "status"], as_index=False)
        .agg(failures=("failed", "sum"), first_bucket=("bucket_start", "min"), last_bucket=("bucket_start", "max"))
        .sort_values("failures", ascending=False)
    )
    return over_time, by_prefix


def web_uploads(requests: pd.DataFrame) -> pd.DataFrame:
    """Per 5 minutes: web uploads that arrived, and the preflights before them (a failed preflight stops one)."""
    web = requests[requests["platform"] == "web"] if not requests.empty else requests
    cols = ["bucket_start", "web_uploads", "preflights", "failed_preflights"]
    if web.empty:
        return pd.DataFrame(columns=cols)
    up = of_kind(web, Kind.UPLOAD.value).groupby("bucket_start")["requests"].sum()
    pre = of_kind(web, Kind.PREFLIGHT.value)
    total = pre.groupby("bucket_start")["requests"].sum()
    failed = pre.groupby("bucket_start")["failed"].sum()
    out = pd.DataFrame({"web_uploads": up, "preflights": total, "failed_preflights": failed}).fillna(0).astype(int)
    return out.reset_index(names="bucket_start").reindex(columns=cols)


def recovery(conn: Connection, window: Window) -> Recovery:
    requests = fetch(conn, "storage.requests_buckets", {**window.params(), "bucket": timedelta(minutes=BUCKET_MINUTES)})
    pre = fetch(conn, "storage.preflights", window.params())
    frame = tidy(requests.frame)
    over_time, by_prefix = errors(frame)
    return Recovery(
        errors_over_time=for_display(over_time),
        errors_by_prefix=for_display(by_prefix),
        preflights=for_display(pre.frame),
        web_uploads=for_display(web_uploads(frame)),
        findings=tuple(cors_findings(pre)),
        timings=timings(requests, pre),
    )


def cors_findings(pre: Fetched) -> list[Finding]:
    check = checks.get("storage.cors_preflight_failures")
    if not pre.ok:
        return [checks.error(check, pre.error or "")]
    frame = pre.frame
    n = int(frame["requests"].sum()) if not frame.empty else 0
    if not n:
        return [
            checks.evaluate(
                check, None, detail="측정 구간에 storage preflight(OPTIONS) 없음 (no web upload preflights logged)"
            )
        ]
    good = frame["status_code"].map(succeeded).astype(bool)
    bad_rows = frame[~good]
    bad = int(bad_rows["requests"].sum())
    detail = f"preflight {n:,}건 중 실패 {bad:,}건"
    if bad:
        by_origin = bad_rows.groupby("origin")["requests"].sum().sort_values(ascending=False)
        detail += " (origin: " + ", ".join(f"{o or '(없음)'} ×{int(c)}" for o, c in by_origin.items()) + ")"
        detail += " → Storage CORS 허용 origin 확인 (check the allowed origins)"
    return [
        checks.evaluate(check, pct(bad, n), sample=n, failures=bad, detail=detail, evidence=evidence(bad_rows.head(10)))
    ]
