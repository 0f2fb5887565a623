"""Runbook §3-E 트리아지 3: SUPABASE_SERVICE_ROLE_KEY, from the function's side (its logs).

The key is never read, compared or printed here: only what ops-manage logged about it and the
status it answered. Setting it is a dashboard step (Edge Functions → Secrets); the page then
measures whether ops-manage answers 2xx again.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy.engine import Connection

from opslib import checks
from opslib.admin.detection import BUCKET, status_totals
from opslib.admin.settings import settings
from opslib.admin.versions import redacted
from opslib.display import evidence, for_display
from opslib.fetch import QueryTiming, fetch, timings
from opslib.measures import total
from opslib.results import Finding
from opslib.timewindow import Window, kst


@dataclass(frozen=True)
class KeyTriage:
    lines: pd.DataFrame  # at, level, message (redacted), status_code, deployment_version (masked)
    status: pd.DataFrame  # status class totals of ops-manage over the window
    missing: bool | None  # None: could not read the logs
    sentence: str
    findings: tuple[Finding, ...]
    timings: tuple[QueryTiming, ...]


def service_key(conn: Connection, window: Window) -> KeyTriage:
    patterns = list(settings().service_key_patterns)
    lines = fetch(conn, "admin.service_key_logs", {**window.params(), "patterns": patterns})
    status = fetch(conn, "admin.ops_manage_status", {**window.params(), "bucket": BUCKET})
    totals = status_totals(status.frame)
    check = checks.get("admin.service_role_key_missing")
    if not lines.ok:
        finding = checks.error(check, lines.error or "")
        return KeyTriage(
            pd.DataFrame(), totals, None, f"로그를 읽지 못했습니다: {lines.error}", (finding,), timings(lines, status)
        )
    frame = redacted(lines.frame, "message")
    n = len(frame)
    unauthorised = total(totals, "invocations", status_class="401")
    errors = total(totals, "invocations", status_class="5xx")
    if n:
        first = pd.to_datetime(frame["at"], utc=True).min().to_pydatetime()
        codes = ", ".join(sorted({str(int(c)) for c in frame["status_code"].dropna()})) or "?"
        text = (
            f"ops-manage가 {kst(first)}부터 {n}번 service-role 키가 없거나 거부됐다고 기록했습니다 (응답 {codes}): "
            "Dashboard → Edge Functions → Secrets에서 SUPABASE_SERVICE_ROLE_KEY를 설정하세요 "
            "(값은 보지 말고 digest로 확인). 설정 후 아래 종료 조건이 2xx 회복을 잽니다."
        )
        detail = f"키 누락/거부 로그 {n}건, 응답 {codes}"
    elif unauthorised or errors:
        text = (
            f"ops-manage 401 {unauthorised}회, 5xx {errors}회가 있지만 키에 관한 로그는 없습니다: "
            "키보다 배포(트리아지 2)나 권한(트리아지 1)을 보세요 (no key message in the logs)."
        )
        detail = "키 관련 로그 없음 (401/5xx는 있음)"
    else:
        text = "ops-manage 로그에 service-role 키 문제가 없습니다 (no key message, no 401/5xx)."
        detail = "키 관련 로그 없음"
    finding = checks.evaluate(
        check, n, detail=detail, evidence=evidence(frame, ["at", "level", "message", "status_code"])
    )
    return KeyTriage(for_display(frame), totals, n > 0, text, (finding,), timings(lines, status))
