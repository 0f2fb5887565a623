"""Runbook §3-A 감지 (detect): is something wrong with payments right now?"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy.engine import Connection

from opslib import checks
from opslib.display import evidence, for_display
from opslib.fetch import Fetched, QueryTiming, fetch, timings
from opslib.measures import join_counts, number, pct, rows, total
from opslib.payments.stages import PROVIDERS, provider_label
from opslib.results import Finding
from opslib.timewindow import Window

BUCKET = timedelta(minutes=5)
# Runbook §3-A 감지 reads payment-reconcile results "recently"; the check's note says 3 days.
RECONCILE_LOOKBACK = timedelta(days=3)
STATUS_CLASSES = ("2xx", "401", "4xx", "5xx", "other")


@dataclass(frozen=True)
class Detection:
    """What §3-A 감지 shows: webhook health, handler status codes, reconciliation, balances."""

    window: Window
    webhook_buckets: pd.DataFrame  # provider, bucket_start (KST), deliveries, successes, success_rate, ...
    webhook_totals: pd.DataFrame  # per provider over the window
    signature_reasons: pd.DataFrame  # provider, reason, failures, first_at, last_at
    function_status: pd.DataFrame  # bucket_start (KST), status_class, invocations (long, for a stacked chart)
    function_totals: pd.DataFrame  # status_class, invocations, share_pct
    reconciliation_runs: pd.DataFrame  # runs started in the last 3 days
    reconciliation_items: pd.DataFrame  # open items by provider and type
    negative_balances: pd.DataFrame  # masked accounts with a negative (or drifting) balance
    findings: tuple[Finding, ...]
    timings: tuple[QueryTiming, ...]


def detect(conn: Connection, window: Window) -> Detection:
    """Measure the §3-A 감지 signals over the window (reconciliation: last 3 days; balances: now)."""
    hooks = fetch(conn, "payments.webhook_success_buckets", {**window.params(), "bucket": BUCKET})
    reasons = fetch(conn, "payments.signature_failure_reasons", window.params())
    function = fetch(conn, "payments.webhook_function_status", {**window.params(), "bucket": BUCKET})
    runs = fetch(
        conn, "payments.reconciliation_runs_recent", {"since": window.until - RECONCILE_LOOKBACK, "until": window.until}
    )
    items = fetch(conn, "payments.reconciliation_items_open", {"until": window.until})
    balances = fetch(conn, "payments.negative_balances", {})

    findings: list[Finding] = []
    findings += webhook_findings(hooks, reasons)
    findings += function_findings(function, hooks)
    findings += reconciliation_findings(runs, items, window.until)
    findings += balance_findings(balances)

    return Detection(
        window=window,
        webhook_buckets=for_display(with_success_rate(hooks.frame)),
        webhook_totals=webhook_totals(hooks.frame),
        signature_reasons=for_display(reasons.frame),
        function_status=for_display(function.frame),
        function_totals=function_totals(function.frame),
        reconciliation_runs=for_display(runs.frame),
        reconciliation_items=for_display(items.frame),
        negative_balances=for_display(balances.frame),
        findings=tuple(findings),
        timings=timings(hooks, reasons, function, runs, items, balances),
    )


def with_success_rate(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    if out.empty:
        out["success_rate"] = pd.Series(dtype=float)
        return out
    out["success_rate"] = [pct(s, d) for s, d in zip(out["successes"], out["deliveries"], strict=True)]
    return out


def webhook_totals(buckets: pd.DataFrame) -> pd.DataFrame:
    """Per provider over the window (both providers always listed: zero is an answer too)."""
    records = []
    for provider in PROVIDERS:
        deliveries = total(buckets, "deliveries", provider=provider)
        successes = total(buckets, "successes", provider=provider)
        signed = total(buckets, "signed", provider=provider)
        failures = total(buckets, "signature_failures", provider=provider)
        records.append(
            {
                "provider": provider,
                "deliveries": deliveries,
                "successes": successes,
                "success_rate": pct(successes, deliveries),
                "signed": signed,
                "signature_failures": failures,
                "signature_failure_pct": pct(failures, signed),
            }
        )
    return pd.DataFrame(records)


def webhook_findings(hooks: Fetched, reasons: Fetched) -> list[Finding]:
    success = checks.get("payments.webhook_success_rate")
    signature = checks.get("payments.webhook_signature_failures")
    if not hooks.ok:
        return [checks.error(success, hooks.error or ""), checks.error(signature, hooks.error or "")]
    out: list[Finding] = []
    for row in webhook_totals(hooks.frame).itertuples(index=False):
        worst = with_success_rate(rows(hooks.frame, provider=row.provider)).sort_values("success_rate").head(5)
        name = provider_label(row.provider)
        out.append(
            checks.evaluate(
                success,
                number(row.success_rate),
                sample=int(row.deliveries),
                failures=int(row.deliveries) - int(row.successes),
                subject=row.provider,
                detail=f"{name} {row.successes}/{row.deliveries}건 성공"
                if row.deliveries
                else f"{name} webhook 수신 없음 (no deliveries in the window)",
                evidence=evidence(worst, ["bucket_start", "deliveries", "successes", "success_rate"]),
            )
        )
        # Toss payment webhooks are unsigned: judge a provider only when it sent signed
        # deliveries, but always PortOne (no signed delivery at all is worth a line there).
        if row.provider == "portone" or row.signed:
            out.append(signature_finding(signature, row, reasons))
    return out


def signature_finding(check: checks.Check, row: Any, reasons: Fetched) -> Finding:
    name = provider_label(row.provider)
    by_reason = rows(reasons.frame, provider=row.provider)
    detail = (
        f"{name} 서명 실패 {row.signature_failures}/{row.signed}건" if row.signed else f"{name} 서명된 webhook 없음"
    )
    if not by_reason.empty:
        detail += " (" + join_counts((str(r.reason), int(r.failures)) for r in by_reason.itertuples(index=False)) + ")"
    if not reasons.ok:
        detail += f" · 사유별 집계 실패: {reasons.error}"
    return checks.evaluate(
        check,
        number(row.signature_failure_pct),
        sample=int(row.signed),
        failures=int(row.signature_failures),
        subject=row.provider,
        detail=detail,
        evidence=evidence(by_reason),
    )


def function_totals(frame: pd.DataFrame) -> pd.DataFrame:
    counts = {c: total(frame, "invocations", status_class=c) for c in STATUS_CLASSES}
    whole = sum(counts.values())
    return pd.DataFrame([{"status_class": c, "invocations": n, "share_pct": pct(n, whole)} for c, n in counts.items()])


def function_findings(function: Fetched, hooks: Fetched | None = None) -> list[Finding]:
    """The 5xx share of payment-webhook's answers, from the function's edge logs.

    A database whose log drain holds fewer payment-webhook invocations for the window than the
    deliveries we recorded (drain not set up, partial, or lagging) still records our answer to
    every delivery in payment_webhook_logs: the share is then taken from there (5xx or no
    answer), and the detail says so.
    """
    check = checks.get("payments.webhook_function_5xx")
    if not function.ok:
        return [checks.error(check, function.error or "")]
    totals = function_totals(function.frame)
    whole = int(totals["invocations"].sum())
    deliveries = total(hooks.frame, "deliveries") if hooks is not None and hooks.ok else 0
    # Fewer invocations drained than deliveries we recorded: the drain is missing or lagging,
    # and our own record of every answer is the fuller source. (A handler that crashes at boot
    # leaves invocations without deliveries, never the other way round.)
    if deliveries > whole and hooks is not None:
        errors = total(hooks.frame, "handler_errors")
        drained = (
            f"function_edge_logs의 payment-webhook 호출 {whole}건 < 수신 {deliveries}건"
            if whole
            else "function_edge_logs에 payment-webhook 호출 기록 없음"
        )
        detail = (
            f"{drained}: payment_webhook_logs의 응답으로 판단 "
            f"(edge logs hold {whole} invocations; from our answers to {deliveries} deliveries: "
            f"5xx or no answer {errors})"
        )
        return [checks.evaluate(check, pct(errors, deliveries), sample=deliveries, failures=errors, detail=detail)]
    errors = total(totals, "invocations", status_class="5xx")
    unauthorized = total(totals, "invocations", status_class="401")
    detail = (
        f"payment-webhook 호출 {whole}건: "
        + join_counts((str(r.status_class), int(r.invocations)) for r in totals.itertuples(index=False))
        if whole
        else "payment-webhook 호출 기록 없음 (no invocations in function_edge_logs)"
    )
    if unauthorized:
        detail += f" · 401 {unauthorized}건: 서명/시크릿 거부 의심 (see 트리아지 3)"
    return [
        checks.evaluate(
            check, pct(errors, whole), sample=whole, failures=errors, detail=detail, evidence=evidence(totals)
        )
    ]


def superseded(failed: pd.DataFrame, runs: pd.DataFrame) -> pd.Series:
    """Per failed run: did a later run of the same provider, covering its period, end matched?

    The runbook's recovery is a re-run (재대사); a mismatch it cleared is no longer a signal.
    """
    if failed.empty:
        return pd.Series(False, index=failed.index, dtype=bool)
    matched = runs[runs["status"] == "matched"]

    def cleared(run: pd.Series) -> bool:
        later = matched[
            (matched["provider"] == run["provider"])
            & (matched["started_at"] > run["started_at"])
            & (matched["period_start"] <= run["period_start"])
            & (matched["period_end"] >= run["period_end"])
        ]
        return not later.empty

    return failed.apply(cleared, axis=1).astype(bool)


# A payment-reconcile run takes minutes; one still "running" after this has hung (§3-F cron).
HUNG_AFTER = timedelta(hours=2)


def reconciliation_findings(runs: Fetched, items: Fetched, now: datetime | None = None) -> list[Finding]:
    runs_check = checks.get("payments.reconciliation_runs_failed")
    items_check = checks.get("payments.reconciliation_items_open")
    out: list[Finding] = []
    if runs.ok:
        frame = runs.frame
        hung_mask = (
            (frame["status"] == "running") & (pd.to_datetime(frame["started_at"], utc=True) < now - HUNG_AFTER)
            if now is not None and not frame.empty
            else pd.Series(False, index=frame.index, dtype=bool)
        )
        failed = frame[frame["status"].isin(["mismatched", "error"]) | hung_mask] if not frame.empty else frame
        resolved = superseded(failed, frame)
        bad = failed[~resolved]
        hung = int((bad["status"] == "running").sum()) if not bad.empty else 0  # a running run is bad only once hung
        running = total(runs.frame.assign(n=1), "n", status="running") if not runs.frame.empty else 0
        detail = f"최근 3일 실행 {len(runs.frame)}회 중 불일치/실패 {len(bad)}회"
        if hung:
            detail += f" (그중 {HUNG_AFTER.seconds // 3600}시간 넘게 running {hung}회: 멈춘 실행, §3-F 크론 확인)"
        if resolved.any():
            detail += f" (재실행 일치로 해소 {int(resolved.sum())}회 제외; superseded by a matched re-run)"
        if running - hung > 0:
            detail += f", 진행 중 {running - hung}회"
        if runs.frame.empty:
            detail = "최근 3일 payment-reconcile 실행 기록 없음 (no runs: is the cron job running?)"
        out.append(
            checks.evaluate(
                runs_check,
                len(bad),
                detail=detail,
                evidence=evidence(bad, ["provider", "period_start", "status", "mismatch_count", "error", "started_at"]),
            )
        )
    else:
        out.append(checks.error(runs_check, runs.error or ""))
    if items.ok:
        n = total(items.frame, "open_items")
        by_type = (
            items.frame.groupby("mismatch_type")["open_items"].sum() if not items.frame.empty else pd.Series(dtype=int)
        )
        detail = f"미해결 {n}건" + (f" ({join_counts((str(k), int(v)) for k, v in by_type.items())})" if n else "")
        out.append(checks.evaluate(items_check, n, detail=detail, evidence=evidence(items.frame)))
    else:
        out.append(checks.error(items_check, items.error or ""))
    return out


def balance_findings(balances: Fetched) -> list[Finding]:
    check = checks.get("payments.negative_balance")
    if not balances.ok:
        return [checks.error(check, balances.error or "")]
    frame = balances.frame
    negative = rows(frame, kind="negative")
    drift = len(frame) - len(negative)
    detail = f"음수 잔액 계정 {len(negative)}개"
    if drift:
        detail += f" · balance_dt와 원장 합계가 다른 계정 {drift}개 (drift, not negative)"
    return [
        checks.evaluate(
            check,
            len(negative),
            detail=detail,
            evidence=evidence(
                negative, ["user_id", "balance_dt", "ledger_sum_dt", "last_balance_after", "last_entry_at"]
            ),
        )
    ]
