"""Runbook §3-C 트리아지 1, third layer: is `scheduled-dispatcher` turning pending into sent?

Its invocations and answers (function_edge_logs), messages stuck in 'processing' with an old
lock, messages the dispatcher keeps retrying, and the messages.scheduled_dispatch kill switch.
The pg_cron runs of its job joined to their real HTTP outcome (a 'succeeded' run can hide a
401) come from opslib.dispatcher, shared with the cron page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd
from sqlalchemy.engine import Connection

from opslib import checks, dispatcher
from opslib.display import evidence, for_display
from opslib.fetch import Fetched, QueryTiming, fetch, timings
from opslib.measures import first_value, join_counts, pct, total
from opslib.messaging.detection import age_text
from opslib.results import Finding, Outcome
from opslib.timewindow import Window, kst

FUNCTION = "scheduled-dispatcher"
FLAG = "messages.scheduled_dispatch"
BUCKET = timedelta(minutes=5)
STATUS_CLASSES = ("2xx", "401", "4xx", "5xx", "other")
# Failed messages are listed when created up to this long before the window's end.
FAILED_LOOKBACK = timedelta(days=2)


@dataclass(frozen=True)
class DispatcherLayer:
    """What scheduled-dispatcher did in the window and what it left behind."""

    window: Window
    stuck_lock_minutes: int
    cron_runs: pd.DataFrame  # the job's pg_cron runs with their real HTTP outcome (KST, masked)
    cron_outcomes: pd.DataFrame  # outcome, runs: how many runs ended how (a 'succeeded' run can hide a 401)
    function_status: pd.DataFrame  # bucket_start (KST), status_class, invocations (long, for a stacked chart)
    function_totals: pd.DataFrame  # status_class, invocations, share_pct
    last_invocation: datetime | None
    stuck: pd.DataFrame  # processing messages with their lock age (masked, KST)
    retries: pd.DataFrame  # not-sent messages retried or failing, by status and error
    kill_switch: pd.DataFrame  # one row: the flag and its last change
    kill_switch_on: bool | None  # None: not measured
    findings: tuple[Finding, ...]
    timings: tuple[QueryTiming, ...]


def dispatcher_layer(conn: Connection, window: Window, stuck_lock_minutes: int = 10) -> DispatcherLayer:
    """Measure the dispatcher layer over the window; locks older than stuck_lock_minutes are stuck."""
    runs = dispatcher.job_runs(conn, FUNCTION, window)
    status = fetch(conn, "common.function_status", {"function_name": FUNCTION, **window.params(), "bucket": BUCKET})
    drain = fetch(conn, "common.function_drain", window.params())
    stuck = fetch(
        conn,
        "messaging.stuck_processing",
        {"until": window.until, "cutoff": window.until - timedelta(minutes=stuck_lock_minutes)},
    )
    retries = fetch(conn, "messaging.dispatch_retries", {"failed_since": window.until - FAILED_LOOKBACK})
    backlog = fetch(conn, "messaging.backlog", {"until": window.until})
    flag = fetch(conn, "messaging.kill_switch", {"flag": FLAG})

    totals = function_totals(status.frame)
    last = status.frame["last_at"].max() if status.ok and not status.frame.empty else None
    last_at = pd.Timestamp(last).to_pydatetime() if last is not None and not pd.isna(last) else None
    findings = [
        *runs.findings,
        *function_findings(status, totals, drain, window, last_at),
        stuck_finding(stuck, stuck_lock_minutes),
        retries_finding(retries),
        kill_switch_finding(flag, backlog),
    ]
    enabled = first_value(flag.frame, "enabled") if flag.ok else None
    return DispatcherLayer(
        window=window,
        stuck_lock_minutes=stuck_lock_minutes,
        # latest first: the page shows the runs closest to now
        cron_runs=runs.table.iloc[::-1].reset_index(drop=True),
        cron_outcomes=pd.DataFrame(
            [{"outcome": o.value, "runs": n} for o, n in runs.counts.items() if n], columns=["outcome", "runs"]
        ),
        function_status=for_display(status.frame.drop(columns=["last_at"], errors="ignore")),
        function_totals=totals,
        last_invocation=last_at,
        stuck=for_display(stuck.frame),
        retries=for_display(retries.frame),
        kill_switch=for_display(flag.frame),
        kill_switch_on=None if enabled is None else bool(enabled),
        findings=tuple(findings),
        timings=(*runs.timings, *timings(status, drain, stuck, retries, backlog, flag)),
    )


def function_totals(frame: pd.DataFrame) -> pd.DataFrame:
    counts = {c: total(frame, "invocations", status_class=c) for c in STATUS_CLASSES}
    whole = sum(counts.values())
    return pd.DataFrame([{"status_class": c, "invocations": n, "share_pct": pct(n, whole)} for c, n in counts.items()])


def function_findings(
    status: Fetched, totals: pd.DataFrame, drain: Fetched, window: Window, last_at: datetime | None
) -> list[Finding]:
    errors_check = checks.get("messaging.dispatcher_errors")
    silent_check = checks.get("messaging.dispatcher_silent")
    if not status.ok:
        return [checks.error(errors_check, status.error or ""), checks.error(silent_check, status.error or "")]
    whole = int(totals["invocations"].sum())
    bad = whole - total(totals, "invocations", status_class="2xx")
    unauthorized = total(totals, "invocations", status_class="401")
    detail = (
        f"{FUNCTION} 호출 {whole}건: "
        + join_counts((str(r.status_class), int(r.invocations)) for r in totals.itertuples())
        if whole
        else f"function_edge_logs에 {FUNCTION} 호출 없음"
    )
    if unauthorized:
        detail += (
            f" · 401 {unauthorized}건: Vault cron_secret ↔ Edge CRON_SECRET 불일치 의심 (최소 완화: 다이제스트 비교)"
        )
    out = [
        checks.evaluate(
            errors_check, pct(bad, whole), sample=whole, failures=bad, detail=detail, evidence=evidence(totals)
        )
    ]
    drained = total(drain.frame, "invocations") if drain.ok else 0
    others = drained - whole
    if not drain.ok:
        out.append(checks.error(silent_check, drain.error or ""))
    elif others <= 0:
        # An empty (or dispatcher-only) drain cannot tell "not called" from "not drained".
        out.append(
            checks.evaluate(
                silent_check,
                None,
                detail="function_edge_logs에 다른 함수 호출도 없음: 드레인이 비어 호출 여부 판단 불가 "
                "(log drain holds nothing else for the window: cannot tell silence from a missing drain)",
            )
        )
    else:
        since_last = (window.until - (last_at or window.since)).total_seconds() / 60
        detail = (
            f"마지막 호출 {kst(last_at, '%H:%M:%S KST')} ({since_last:.0f}분 전)"
            if last_at
            else f"측정 구간 {window.minutes:.0f}분 동안 호출 없음 (다른 함수 호출 {others}건은 드레인됨)"
        )
        out.append(checks.evaluate(silent_check, round(since_last, 1), detail=detail))
    return out


def stuck_finding(stuck: Fetched, lock_minutes: int) -> Finding:
    check = checks.get("messaging.stuck_processing")
    if not stuck.ok:
        return checks.error(check, stuck.error or "")
    frame = stuck.frame
    held = frame[frame["stuck"]] if not frame.empty else frame
    oldest = float(held["lock_age_s"].max()) if not held.empty and held["lock_age_s"].notna().any() else None
    detail = f"processing {len(frame)}건 중 락이 {lock_minutes}분 넘은 것 {len(held)}건"
    if len(held):
        detail += f" · 가장 오래된 락 {age_text(oldest)}"
        if held["locked_at"].isna().any():
            detail += f" · locked_at 없음 {int(held['locked_at'].isna().sum())}건"
    cols = ["message_id", "locked_by", "locked_at", "lock_age_s", "dispatch_attempts", "last_dispatch_error"]
    return checks.evaluate(check, len(held), detail=detail, evidence=evidence(held, cols))


def retries_finding(retries: Fetched) -> Finding:
    check = checks.get("messaging.dispatch_retries")
    if not retries.ok:
        return checks.error(check, retries.error or "")
    frame = retries.frame
    n = total(frame, "messages")
    by_status = frame.groupby("status")["messages"].sum() if n else pd.Series(dtype=int)
    detail = f"재시도/실패 메시지 {n}건" + (
        f" ({join_counts((str(k), int(v)) for k, v in by_status.items())})" if n else ""
    )
    if n:
        top = frame.iloc[0]
        detail += (
            f" · 가장 많은 오류: {top['last_dispatch_error']}"
            f" ({int(top['messages'])}건, 최대 {int(top['max_attempts'])}회)"
        )
    return checks.evaluate(check, n, detail=detail, evidence=evidence(frame))


def kill_switch_finding(flag: Fetched, backlog: Fetched) -> Finding:
    check = checks.get("messaging.scheduled_dispatch_kill_switch")
    if not flag.ok:
        return checks.error(check, flag.error or "")
    row = flag.frame.iloc[0] if not flag.frame.empty else None
    if row is None:
        return checks.error(check, "kill switch query returned no row")
    changed = row.get("last_change_at")
    when = (
        f" · 마지막 변경 {kst(pd.Timestamp(changed).to_pydatetime(), '%m-%d %H:%M KST')}"
        f" ({row.get('last_change_action')})"
        if changed is not None and not pd.isna(changed)
        else ""
    )
    if bool(row["enabled"]):
        return _ok(check, f"{FLAG} 켜짐 (on: dispatch allowed){when}")
    waiting = total(backlog.frame, "overdue") if backlog.ok else None
    missing = "" if bool(row["flag_exists"]) else " · feature_flags에 행이 없음: is_feature_enabled()가 false로 읽음"
    detail = f"{FLAG} 꺼짐 (off): claim_due_messages()가 아무것도 가져가지 않음{missing}{when}"
    if waiting is None:
        detail += f" · 밀린 메시지 수는 측정 실패 ({backlog.error})"
    else:
        detail += f" · 그동안 밀린 메시지 {waiting}건"
    # off is at least a warning even when the backlog could not be counted
    return checks.evaluate(check, waiting or 0, detail=detail, evidence=evidence(flag.frame))


def _ok(check: checks.Check, detail: str) -> Finding:
    """A state check that holds (nothing to compare with a threshold): OK with its detail."""
    return Finding(
        check=check.id,
        title=check.title,
        section=check.section,
        threshold=check.threshold_text(),
        unit=check.unit,
        outcome=Outcome.OK,
        value=0,
        detail=detail,
    )


@dataclass(frozen=True)
class CronSecretCheck:
    """§3-C 최소 완화 "dispatcher 401": Vault cron_secret vs Edge CRON_SECRET, by SHA-256 digest only."""

    status: str  # MATCH | MISMATCH | VAULT_MISSING | NOT_EVALUATED | ERROR
    table: pd.DataFrame  # side, sha256 prefix (8 characters), updated_at
    sentence: str
    findings: tuple[Finding, ...]
    timings: tuple[QueryTiming, ...]


def cron_secret(conn: Connection) -> CronSecretCheck:
    """Compare the two digests (opslib.dispatcher); neither secret is read, only prefixes are shown.

    Credentials: the Vault side needs EXECUTE on opsbook.cron_secret_sha256() (a SECURITY DEFINER
    function shipped in opslib/sql/roles.sql; the reader has nothing on vault); the Edge side is the
    digest Supabase's Management API lists for CRON_SECRET, in $OPSBOOK_EDGE_CRON_SECRET_SHA256.
    """
    compared = dispatcher.compare_cron_secret(
        conn, severity=checks.get("messaging.dispatcher_errors").critical_severity
    )
    sentences = {
        "MATCH": "Vault cron_secret과 Edge CRON_SECRET의 다이제스트가 같음: 401의 원인은 시크릿이 아님 (digests match)",
        "MISMATCH": "다이제스트가 다름: Vault cron_secret ↔ Edge CRON_SECRET 불일치 → 한쪽 값을 다른 쪽에 즉시 맞춤 "
        "(cron.md; digests differ: set one to the other)",
        "VAULT_MISSING": "Vault에 cron_secret이 없음: invoke_edge_function이 빈 헤더를 보냄 (no cron_secret in Vault)",
    }
    status = compared.status.value
    sentence = sentences.get(status, f"비교 못함 (not compared): {compared.detail}")
    return CronSecretCheck(status, compared.table, sentence, (compared.finding,), compared.timings)
