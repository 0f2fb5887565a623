"""Runbook §3-A 트리아지 3: signature failures, whether they began with a deploy, and an offline check."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy.engine import Connection

from opslib import checks
from opslib.display import for_display
from opslib.fetch import QueryTiming, fetch, timings
from opslib.measures import pct
from opslib.payments import standard_webhooks
from opslib.results import Finding
from opslib.timewindow import KST, Window, kst_hhmm

# "within ±10 minutes": a deploy rolls out over a few minutes and PortOne retries after minutes.
COINCIDENCE = timedelta(minutes=10)
DEFAULT_LOOKBACK_HOURS = 3
BUCKET = timedelta(minutes=5)


@dataclass(frozen=True)
class SignatureBucket:
    start: datetime
    signed: int
    failures: int
    first_failure_at: datetime | None


@dataclass(frozen=True)
class Deployment:
    version: str
    first_seen: datetime
    last_seen: datetime
    invocations: int
    status_401: int
    status_5xx: int


@dataclass(frozen=True)
class SignatureTriage:
    window: Window
    reasons: pd.DataFrame  # provider, reason, failures, webhook_ids, first_at, last_at (KST)
    deployments: pd.DataFrame  # payment-webhook versions seen from lookback start, KST
    first_failure_at: datetime | None  # in the window
    last_failure_at: datetime | None
    onset_at: datetime | None  # start of the current run of failing buckets (may precede the window)
    deployment: Deployment | None  # the new deployment that coincides with the onset, if any
    coincides: bool | None  # None: no failures to explain
    sentence: str
    findings: tuple[Finding, ...]
    timings: tuple[QueryTiming, ...]


@dataclass(frozen=True)
class SignatureCheck:
    """An offline re-verification of one stored delivery. Holds no secret, only the verdict."""

    delivery_id: int | None
    provider: str | None
    webhook_id: str | None  # masked
    received_at: datetime | None
    stored_valid: bool | None  # what the handler recorded
    stored_error: str | None
    match: bool | None  # None: could not check (reason says why)
    reason: str
    secret_env: str  # the variable's NAME
    signatures_checked: int = 0


# --- pure logic ------------------------------------------------------------------------


def failure_onset(buckets: Sequence[SignatureBucket], threshold_pct: float) -> datetime | None:
    """When did the current burst of signature failures begin?

    A bucket fails when its failure share exceeds the threshold. From the last failing bucket
    walk back over failing or silent (unsigned-only) buckets; the onset is the first failure
    of the earliest bucket in that run. A steady trickle below the threshold is not a burst.
    """
    ordered = sorted(buckets, key=lambda b: b.start)

    def failing(b: SignatureBucket) -> bool:
        share = pct(b.failures, b.signed)
        return b.failures > 0 and share is not None and share > threshold_pct

    last = max((i for i, b in enumerate(ordered) if failing(b)), default=None)
    if last is None:
        return None
    first = last
    for i in range(last - 1, -1, -1):
        b = ordered[i]
        if failing(b):
            first = i
        elif b.signed == 0:
            continue
        else:
            break
    onset = ordered[first]
    return onset.first_failure_at or onset.start


def new_deployments(deployments: Sequence[Deployment]) -> tuple[Deployment, ...]:
    """Versions that appeared after the one already running at the start of the range."""
    ordered = sorted(deployments, key=lambda d: d.first_seen)
    return tuple(ordered[1:])


def coinciding(onset: datetime | None, deployments: Sequence[Deployment]) -> Deployment | None:
    if onset is None:
        return None
    near = [d for d in new_deployments(deployments) if abs(d.first_seen - onset) <= COINCIDENCE]
    return min(near, key=lambda d: abs(d.first_seen - onset)) if near else None


TOSS_DEPOSIT_SECRET = (
    " · Toss 실패는 입금 콜백(DEPOSIT_CALLBACK)의 secret이 결제의 Payment.secret과 다른 것: 환경변수가 아니라 "
    "결제별 secret 저장/전달 확인 (Toss failures: the deposit callback's secret differs from the payment's own "
    "secret; check how each payment's secret is stored, not an environment variable)"
)


# Failure reasons that a wrong secret does not cause, with what to check instead.
NOT_THE_SECRET = {
    "TIMESTAMP_TOO_OLD": (
        "webhook-timestamp가 너무 오래됨: 서버 시계(NTP) 또는 오래된 전송의 재전송(replay) 확인",
        "timestamps too old: check the server clock or replays of old deliveries",
    ),
    "TIMESTAMP_TOO_NEW": ("webhook-timestamp가 미래: 서버 시계(NTP) 확인", "timestamps in the future: check the clock"),
    "MISSING_REQUIRED_HEADERS": (
        "webhook-id/timestamp/signature 헤더 누락: 프록시·게이트웨이가 헤더를 지우는지 확인",
        "signature headers missing: check a proxy or gateway stripping them",
    ),
}


def triage_sentence(
    onset: datetime | None,
    deployments: Sequence[Deployment],
    failures: int,
    providers: frozenset[str] = frozenset(),
    reasons: frozenset[str] = frozenset(),
) -> str:
    """providers: which PGs the failures came from (PortOne signs with the env secret; Toss
    deposit callbacks carry a per-payment secret); reasons: the failure reasons seen."""
    if reasons and reasons <= NOT_THE_SECRET.keys():
        hints = [NOT_THE_SECRET[r] for r in sorted(reasons)]
        when = f"첫 실패 {kst_hhmm(onset)}, " if onset is not None else ""
        return (
            f"서명 실패 {failures}건은 시크릿 불일치가 아님 ({when}{', '.join(sorted(reasons))}): "
            + "; ".join(ko for ko, _ in hints)
            + f" / Not a secret mismatch ({', '.join(sorted(reasons))}): "
            + "; ".join(en for _, en in hints)
        )
    toss_only = bool(providers) and providers <= {"tosspayments"}
    toss_note = TOSS_DEPOSIT_SECRET if "tosspayments" in providers else ""
    other = sorted(reasons & NOT_THE_SECRET.keys())
    other_note = (" · 그 밖: " + "; ".join(NOT_THE_SECRET[r][0] for r in other)) if other else ""
    return _sentence(onset, deployments, failures, toss_only) + toss_note + other_note


def _sentence(onset: datetime | None, deployments: Sequence[Deployment], failures: int, toss_only: bool) -> str:
    if failures == 0 and onset is None:
        return "서명 실패 없음 (no signature failures in the window)"
    if onset is None:
        return (
            f"서명 실패 {failures}건이 있으나 임계값을 넘는 집중 발생 없음: 재시도/시계 오차 수준 "
            f"({failures} signature failures, no burst above the threshold)"
        )
    match = coinciding(onset, deployments)
    if match is not None:
        minutes = abs(match.first_seen - onset).total_seconds() / 60
        return (
            f"첫 서명 실패 {kst_hhmm(onset)}가 payment-webhook 새 배포 {match.version} "
            f"(첫 호출 {kst_hhmm(match.first_seen)}, {minutes:.0f}분 차이)와 겹침: 배포와 함께 시크릿 또는 검증 코드가 "
            f"바뀌었을 가능성" + ("" if toss_only else " → 환경변수(PORTONE_WEBHOOK_SECRET) 즉시 확인") + " "
            f"/ The first signature failure at {kst_hhmm(onset)} coincides with deployment {match.version} "
            f"({minutes:.0f} min apart): suspect the secret or the verification code changed with the deploy."
        )
    newer = new_deployments(deployments)
    if newer:
        nearest = min(newer, key=lambda d: abs(d.first_seen - onset))
        return (
            f"첫 서명 실패 {kst_hhmm(onset)} 전후 10분 안에 새 배포 없음 (가장 가까운 배포 {nearest.version} "
            f"{kst_hhmm(nearest.first_seen)}): PG 콘솔의 시크릿 재발급/로테이션 또는 환경변수 변경 확인 "
            f"/ No deployment within ±10 min of the first failure at {kst_hhmm(onset)}: check a secret "
            f"rotation at the PG console or an environment change."
        )
    return (
        f"첫 서명 실패 {kst_hhmm(onset)}, 조회 구간에 payment-webhook 새 배포 없음: PG 콘솔의 시크릿 "
        f"재발급/로테이션 또는 환경변수 변경 확인 / First signature failure at {kst_hhmm(onset)}; no new "
        f"payment-webhook deployment in the range: check a secret rotation or an environment change."
    )


def mask_webhook_id(value: str | None) -> str | None:
    if not value:
        return value
    return value[:8] + "…" if len(value) > 8 else value[:2] + "…"


# --- measuring -------------------------------------------------------------------------


def _buckets(frame: pd.DataFrame) -> list[SignatureBucket]:
    if frame.empty:
        return []
    out = []
    for start, part in frame.groupby("bucket_start"):
        firsts = [v for v in part["first_signature_failure_at"] if v is not None and not pd.isna(v)]
        out.append(
            SignatureBucket(
                start=pd.Timestamp(start).to_pydatetime(),
                signed=int(part["signed"].sum()),
                failures=int(part["signature_failures"].sum()),
                first_failure_at=pd.Timestamp(min(firsts)).to_pydatetime() if firsts else None,
            )
        )
    return out


def _deployments(frame: pd.DataFrame) -> list[Deployment]:
    return [
        Deployment(
            version=str(r.deployment_version),
            first_seen=pd.Timestamp(r.first_seen).to_pydatetime(),
            last_seen=pd.Timestamp(r.last_seen).to_pydatetime(),
            invocations=int(r.invocations),
            status_401=int(r.status_401),
            status_5xx=int(r.status_5xx),
        )
        for r in frame.itertuples(index=False)
    ]


def signatures(conn: Connection, window: Window, lookback_hours: int = DEFAULT_LOOKBACK_HOURS) -> SignatureTriage:
    check = checks.get("payments.webhook_signature_failures")
    extended = {"since": window.since - timedelta(hours=lookback_hours), "until": window.until}
    reasons = fetch(conn, "payments.signature_failure_reasons", window.params())
    buckets = fetch(conn, "payments.webhook_success_buckets", {**extended, "bucket": BUCKET})
    deploys = fetch(conn, "payments.webhook_deployments", extended)

    findings: list[Finding] = []
    for fetched in (reasons, buckets, deploys):
        if not fetched.ok:
            findings.append(checks.error(check, f"트리아지 3 측정 실패: {fetched.error}", subject="triage"))

    first = last = None
    failures = 0
    if reasons.ok and not reasons.frame.empty:
        first = pd.Timestamp(reasons.frame["first_at"].min()).to_pydatetime()
        last = pd.Timestamp(reasons.frame["last_at"].max()).to_pydatetime()
        failures = int(reasons.frame["failures"].sum())
    threshold = check.warn if check.warn is not None else 0.0
    onset = failure_onset(_buckets(buckets.frame), threshold) if buckets.ok else None
    deployments = _deployments(deploys.frame) if deploys.ok else []
    match = coinciding(onset, deployments)
    providers = (
        frozenset(str(p) for p in reasons.frame["provider"]) if reasons.ok and not reasons.frame.empty else frozenset()
    )
    seen = frozenset(str(r) for r in reasons.frame["reason"]) if reasons.ok and not reasons.frame.empty else frozenset()
    sentence = triage_sentence(onset, deployments, failures, providers, seen)
    if not reasons.ok or not buckets.ok:
        # no failure counted because none could be read: never say "no signature failures"
        error = reasons.error if not reasons.ok else buckets.error
        sentence = f"서명 실패를 측정하지 못함: {error} (could not read the signature failures)"
    if not deploys.ok:
        sentence += f" (배포 기록 조회 실패: {deploys.error})"
    return SignatureTriage(
        window=window,
        reasons=for_display(reasons.frame),
        deployments=for_display(deploys.frame),
        first_failure_at=first.astimezone(KST) if first else None,
        last_failure_at=last.astimezone(KST) if last else None,
        onset_at=onset.astimezone(KST) if onset else None,
        deployment=match,
        coincides=None if onset is None else match is not None,
        sentence=sentence,
        findings=tuple(findings),
        timings=timings(reasons, buckets, deploys),
    )


def _header(headers: Mapping[str, Any] | None, name: str) -> str | None:
    if not isinstance(headers, Mapping):
        return None
    for key, value in headers.items():
        if str(key).lower() == name:
            return None if value is None else str(value)
    return None


def verify_delivery(
    conn: Connection,
    delivery_id: int | None = None,
    secret_env: str = "PORTONE_WEBHOOK_SECRET",
) -> SignatureCheck:
    """Re-verify a stored PortOne delivery's signature against the secret in `secret_env`.

    With no id: the most recent failed PortOne delivery (else the most recent signed one).
    The secret is read from the environment at call time and never leaves this function.
    """
    if delivery_id is None:
        found = fetch(conn, "payments.latest_signed_delivery", {})
    else:
        found = fetch(conn, "payments.webhook_delivery", {"delivery_id": int(delivery_id)})
    if not found.ok:
        return SignatureCheck(delivery_id, None, None, None, None, None, None, f"조회 실패: {found.error}", secret_env)
    if found.frame.empty:
        what = f"delivery {delivery_id}" if delivery_id is not None else "signed PortOne delivery"
        return SignatureCheck(
            delivery_id, None, None, None, None, None, None, f"저장된 webhook 없음 (no {what} found)", secret_env
        )
    row = found.frame.iloc[0]
    base = {
        "delivery_id": int(row["delivery_id"]),
        "provider": str(row["provider"]),
        "webhook_id": mask_webhook_id(row["webhook_id"]),
        "received_at": pd.Timestamp(row["received_at"]).to_pydatetime().astimezone(KST),
        "stored_valid": None if pd.isna(row["signature_valid"]) else bool(row["signature_valid"]),
        "stored_error": row["signature_error"] or None,
        "secret_env": secret_env,
    }
    return SignatureCheck(**base, **_check(row["headers"], row["payload"], secret_env))


def _check(headers: Any, payload: Any, secret_env: str) -> dict[str, Any]:
    webhook_id = _header(headers, "webhook-id")
    timestamp = _header(headers, "webhook-timestamp")
    signature = _header(headers, "webhook-signature")
    if not (webhook_id and timestamp and signature):
        return {"match": None, "reason": "저장된 헤더에 webhook-id/timestamp/signature 없음 (MISSING_REQUIRED_HEADERS)"}
    candidates = standard_webhooks.header_signatures(signature)
    if not candidates:
        return {"match": None, "reason": "webhook-signature 헤더에 v1 서명이 없음 (redacted or malformed header)"}
    secret = os.environ.get(secret_env, "")
    if not secret.strip():
        return {"match": None, "reason": f"환경변수 {secret_env} 가 설정되지 않음 (set it to check the secret)"}
    try:
        key = standard_webhooks.secret_key(secret)
    except standard_webhooks.SecretFormatError as exc:
        return {"match": None, "reason": f"{secret_env}: {exc}"}
    finally:
        del secret
    body = standard_webhooks.portone_body(payload)
    ok = standard_webhooks.verify(key, webhook_id, timestamp, body, signature)
    reason = (
        f"서명 일치: {secret_env}의 시크릿으로 서명이 맞음 (signature matches the configured secret)"
        if ok
        else f"서명 불일치: {secret_env}의 시크릿으로 만든 서명과 다름 (no match with the configured secret)"
    )
    return {"match": ok, "reason": reason, "signatures_checked": len(candidates)}
