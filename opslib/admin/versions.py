"""Runbook §3-E 트리아지 2: ops-manage errors by message and deployment version."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pandas as pd
from sqlalchemy.engine import Connection

from opslib import checks
from opslib.display import evidence, for_display
from opslib.fetch import Fetched, QueryTiming, fetch, timings
from opslib.masking import redact_text
from opslib.results import Finding
from opslib.timewindow import Window, kst

# Versions are read this far back, so that the one already running before the incident is known
# even after a quiet night (ops-manage is called in office hours).
DEPLOY_LOOKBACK = timedelta(days=3)


@dataclass(frozen=True)
class VersionTriage:
    errors: pd.DataFrame  # message (redacted, masked), level, deployment_version, lines, status_codes, first/last
    deployments: pd.DataFrame  # versions seen in the lookback with their status mix
    new_version: str | None  # the version that served the first error, when it was new
    sentence: str
    findings: tuple[Finding, ...]
    timings: tuple[QueryTiming, ...]


def errors_by_version(conn: Connection, window: Window) -> VersionTriage:
    errors = fetch(conn, "admin.ops_manage_errors", window.params())
    deploys = fetch(
        conn, "admin.ops_manage_deployments", {"since": window.since - DEPLOY_LOOKBACK, "until": window.until}
    )
    finding, new_version, text = judge(deploys, errors, window)
    return VersionTriage(
        errors=for_display(redacted(errors.frame, "message")),
        deployments=for_display(deploys.frame),
        new_version=new_version,
        sentence=text,
        findings=(finding,),
        timings=timings(errors, deploys),
    )


def redacted(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """A log line can carry a key or a JWT the function printed: redact before anyone sees it."""
    if frame.empty or column not in frame.columns:
        return frame
    out = frame.copy()
    out[column] = [redact_text(str(v))[0] if v is not None else v for v in out[column]]
    return out


def judge(deploys: Fetched, errors: Fetched, window: Window) -> tuple[Finding, str | None, str]:
    """Did a new version start serving shortly before the first error of the window?"""
    check = checks.get("admin.error_after_deploy")
    if not deploys.ok:
        return checks.error(check, deploys.error or ""), None, f"배포 버전을 읽지 못했습니다: {deploys.error}"
    frame = deploys.frame
    if frame.empty:
        return (
            checks.evaluate(check, None, detail="ops-manage 호출 기록 없음 (no invocations in 3 days)"),
            None,
            "최근 3일 ops-manage 호출 기록이 없습니다 (no ops-manage invocations drained in 3 days).",
        )
    first_errors = pd.to_datetime(frame["first_error_at"], utc=True)
    in_window = first_errors[(first_errors >= pd.Timestamp(window.since)) & (first_errors < pd.Timestamp(window.until))]
    log_first = None
    if errors.ok and not errors.frame.empty:
        log_first = pd.to_datetime(errors.frame["first_at"], utc=True).min()
    candidates = [
        t for t in (in_window.min() if len(in_window) else None, log_first) if t is not None and not pd.isna(t)
    ]
    if not candidates:
        return (
            checks.evaluate(check, None, detail="창 안에 ops-manage 에러 없음 (no errors in the window)"),
            None,
            "창 안에 ops-manage 에러가 없습니다 (no 5xx/401 and no error lines in the window).",
        )
    first_error = min(candidates)
    seen = frame.assign(first_seen=pd.to_datetime(frame["first_seen"], utc=True)).sort_values("first_seen")
    serving = seen[seen["first_seen"] <= first_error]
    if serving.empty:
        version, started = str(seen.iloc[0]["deployment_version"]), seen.iloc[0]["first_seen"]
    else:
        version, started = str(serving.iloc[-1]["deployment_version"]), serving.iloc[-1]["first_seen"]
    older = seen[seen["first_seen"] < started]
    if older.empty:
        detail = f"첫 에러 {kst(first_error.to_pydatetime())}: 이미 돌던 버전 {version} (no new deployment)"
        return (
            checks.evaluate(check, None, detail=detail),
            None,
            f"첫 에러({kst(first_error.to_pydatetime())})는 최근 3일 내내 돌던 {version}에서 났습니다: 배포보다 설정·"
            "시크릿·데이터·정책 변경을 의심하세요 (no new version before the first error).",
        )
    minutes = max(0.0, (first_error - started).total_seconds() / 60)
    previous = str(older.iloc[-1]["deployment_version"])
    detail = f"{previous} → {version} 배포 {kst(started.to_pydatetime())}, 첫 에러 {minutes:.0f}분 후"
    finding = checks.evaluate(check, round(minutes, 1), subject=version, detail=detail, evidence=evidence(seen.tail(3)))
    text = (
        f"새 버전 {version}이 {kst(started.to_pydatetime())}에 처음 호출됐고 {minutes:.0f}분 뒤 첫 에러가 났습니다 "
        f"(직전 버전 {previous}): 배포 롤백을 먼저 검토하세요 (a new version coincides with the first error)."
        if finding.outcome.is_problem
        else f"첫 에러는 {version} 배포 {minutes:.0f}분 뒤: 배포와의 관련은 약합니다 "
        "(the error came long after the deploy)."
    )
    return finding, version, text
