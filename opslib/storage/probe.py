"""Runbook §3-D 트리아지 3: `service_role` 키로 직접 업로드 테스트 (RLS vs 네트워크 격리).

An opt-in probe: with the service-role key from the environment it uploads a tiny object under a
named test path through the Storage REST API and deletes it again, and reports the HTTP outcome
of both. The service role bypasses RLS: if it can upload while users' uploads fail, the policies
are the cause, not the network or the storage service. The key is read from the environment,
sent only in the request headers, and never printed, logged or returned; the probe is skipped
with a note when the key or the project URL is missing; every request is bounded in time.
"""

from __future__ import annotations

import enum
import os
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import timedelta

import pandas as pd
from sqlalchemy.engine import Connection

from opslib import checks
from opslib.fetch import QueryTiming, fetch, timings
from opslib.masking import redact_text
from opslib.results import Finding
from opslib.storage.requests import BUCKET_MINUTES, READS, Kind, of_kind, tidy
from opslib.timewindow import Window

ENV_URL = "SUPABASE_URL"
ENV_KEY = "SUPABASE_SERVICE_ROLE_KEY"
PROBE_BODY = b"opsbook storage probe: safe to delete\n"
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class ProbeStep:
    name: str  # upload | delete
    status: int | None  # HTTP status; None: no answer (timeout, refused)
    ms: float
    error: str = ""  # why there was no answer, secrets redacted

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass(frozen=True)
class ProbeResult:
    ran: bool
    note: str  # why skipped, or what happened
    bucket: str = ""
    object_path: str = ""
    steps: tuple[ProbeStep, ...] = ()

    @property
    def ok(self) -> bool | None:
        return all(s.ok for s in self.steps) if self.ran and self.steps else None if not self.ran else False

    @property
    def upload_ok(self) -> bool | None:
        up = next((s for s in self.steps if s.name == "upload"), None)
        return None if up is None else up.ok


class Cause(enum.Enum):
    NONE = "none"  # no failures to explain
    RLS = "rls"  # users fail, the service role does not: the policies
    NETWORK = "network"  # the service role fails too: the service, the network or the project
    UNDETERMINED = "undetermined"

    @property
    def label_ko(self) -> str:
        return {
            "none": "실패 없음",
            "rls": "RLS/정책 (policies)",
            "network": "네트워크/스토리지 서비스 (network or the storage service)",
            "undetermined": "판단 보류 (undetermined)",
        }[self.value]


@dataclass(frozen=True)
class ServiceRoleTest:
    probe: ProbeResult
    callers: pd.DataFrame  # caller (authenticated user / no user JWT), requests, failures, failing statuses
    cause: Cause
    sentence: str
    findings: tuple[Finding, ...]
    timings: tuple[QueryTiming, ...]


def _safe_base(url: str) -> str | None:
    """The project URL when it is https (or http to this machine: a local stub); else None."""
    parts = urllib.parse.urlsplit(url.strip())
    if parts.scheme == "https" and parts.hostname:
        return f"https://{parts.netloc}"
    if parts.scheme == "http" and parts.hostname in LOCAL_HOSTS:
        return f"http://{parts.netloc}"
    return None


def _request(method: str, url: str, key: str, body: bytes | None, timeout: float) -> tuple[int | None, str]:
    headers = {"Authorization": f"Bearer {key}", "apikey": key, "x-client-info": "opsbook-probe"}
    if body is not None:
        headers.update({"Content-Type": "text/plain", "x-upsert": "true", "cache-control": "no-cache"})
    req = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return int(resp.status), ""
    except urllib.error.HTTPError as exc:
        return int(exc.code), ""
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return None, f"{type(exc).__name__}: {reason}"


def run_probe(
    bucket: str,
    path_prefix: str,
    *,
    timeout_s: float = 5.0,
    environ: dict[str, str] | None = None,
) -> ProbeResult:
    """Upload then delete `<path_prefix>/<uuid>.txt` in `bucket` with the service-role key; bounded by timeout_s."""
    env = os.environ if environ is None else environ
    key = env.get(ENV_KEY, "")
    base = _safe_base(env.get(ENV_URL, ""))
    if not key:
        return ProbeResult(False, f"건너뜀: ${ENV_KEY} 없음 (skipped: no service-role key in the environment)")
    if base is None:
        return ProbeResult(
            False, f"건너뜀: ${ENV_URL}이 없거나 https가 아님 (skipped: project URL missing or not https)"
        )
    prefix = path_prefix.strip("/") or "opsbook-probe"
    name = f"{prefix}/{uuid.uuid4().hex}.txt"
    target = f"{base}/storage/v1/object/{urllib.parse.quote(bucket)}/{urllib.parse.quote(name)}"
    deadline = time.monotonic() + timeout_s
    steps: list[ProbeStep] = []
    for step, method, body in (("upload", "POST", PROBE_BODY), ("delete", "DELETE", None)):
        left = deadline - time.monotonic()
        if left <= 0.05:
            steps.append(ProbeStep(step, None, 0.0, f"시간 초과 전에 시작 못함 (time budget {timeout_s:g}s spent)"))
            break
        started = time.perf_counter()
        status, error = _request(method, target, key, body, left)
        error = redact_text(error, [key])[0] if error else ""
        steps.append(ProbeStep(step, status, round((time.perf_counter() - started) * 1000, 1), error))
        if step == "upload" and (status is None or status >= 300):
            break  # nothing was stored: nothing to delete
    summary = ", ".join(f"{s.name} {s.status if s.status is not None else '응답 없음'} ({s.ms:.0f} ms)" for s in steps)
    return ProbeResult(True, summary, bucket, name, tuple(steps))


def callers(requests: pd.DataFrame) -> pd.DataFrame:
    """Uploads and reads by caller: with a user's JWT (authenticated) or without (service role, anon)."""
    rows = of_kind(requests, Kind.UPLOAD.value, *READS)
    cols = ["caller", "requests", "failures", "failing_pct"]
    if rows.empty:
        return pd.DataFrame(columns=cols)
    records = []
    for as_user, label in ((True, "authenticated (user JWT)"), (False, "no user JWT (service_role / anon)")):
        part = rows[rows["as_user"] == as_user]
        n, bad = int(part["requests"].sum()), int(part["failed"].sum())
        records.append({"caller": label, "requests": n, "failures": bad, "failing_pct": 100.0 * bad / n if n else None})
    return pd.DataFrame(records, columns=cols)


def infer(user_failures: int, probe: ProbeResult, other_requests: int, other_failures: int) -> tuple[Cause, str]:
    """Pure: failures only for authenticated users with no service-role failure mean RLS."""
    if probe.ran and probe.upload_ok is False:
        return Cause.NETWORK, (
            "service_role 업로드도 실패: RLS가 아니라 네트워크/스토리지 서비스/프로젝트 문제 "
            "(the service role fails too: not RLS)"
        )
    if user_failures == 0:
        return Cause.NONE, "사용자 요청 실패 없음 (no user request failed)"
    if probe.ran and probe.ok:
        return Cause.RLS, (
            f"사용자(authenticated) 실패 {user_failures:,}건, service_role 업로드·삭제 정상: RLS/정책 문제 "
            "(failures only for authenticated users, none for the service role: RLS) → 트리아지 2의 정책 확인"
        )
    if other_requests and other_failures == 0:
        return Cause.RLS, (
            f"사용자 실패 {user_failures:,}건, JWT 없는 호출 {other_requests:,}건은 모두 성공: RLS/정책 의심 "
            "(from the logs; run the probe to confirm)"
        )
    if other_failures:
        return Cause.NETWORK, (
            f"JWT 없는 호출도 {other_failures:,}건 실패: 정책만의 문제가 아님, 서비스/네트워크 의심 "
            "(non-user calls fail too)"
        )
    return Cause.UNDETERMINED, (
        f"사용자 실패 {user_failures:,}건; 비교할 service_role 호출 없음: probe를 실행하세요 "
        "(service_role_probe = True with the key in the environment)"
    )


def service_role_test(
    conn: Connection,
    window: Window,
    run: bool = False,
    bucket: str = "message-media",
    path_prefix: str = "opsbook-probe",
    timeout_s: float = 5.0,
) -> ServiceRoleTest:
    requests = fetch(conn, "storage.requests_buckets", {**window.params(), "bucket": timedelta(minutes=BUCKET_MINUTES)})
    table = callers(tidy(requests.frame)) if requests.ok else pd.DataFrame()
    probe = (
        run_probe(bucket, path_prefix, timeout_s=timeout_s)
        if run
        else ProbeResult(False, "건너뜀: 옵트인 아님 (skipped: set service_role_probe = True to run it)")
    )

    def cell(i: int, col: str) -> int:
        return int(table[col].iloc[i]) if len(table) > i else 0

    cause, sentence = infer(cell(0, "failures"), probe, cell(1, "requests"), cell(1, "failures"))
    check = checks.get("storage.service_role_probe")
    if not probe.ran:
        finding = checks.evaluate(check, None, detail=probe.note)
    else:
        finding = checks.evaluate(check, 0 if probe.ok else 1, detail=f"{bucket}/{probe.object_path}: {probe.note}")
    out = [finding]
    if not requests.ok:
        out.append(checks.error(check, f"호출자별 집계 실패: {requests.error}", subject="callers"))
    return ServiceRoleTest(probe, table, cause, sentence, tuple(out), timings(requests))
