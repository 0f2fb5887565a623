"""Push deliveries (channel 'push': FCM/APNs) failing, by error, apart from inbox deliveries."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy.engine import Connection

from opslib import checks
from opslib.display import evidence, for_display
from opslib.fetch import Fetched, QueryTiming, fetch, timings
from opslib.measures import join_counts, pct, rows, total
from opslib.results import Finding
from opslib.timewindow import Window


@dataclass(frozen=True)
class PushDeliveries:
    """Delivery rows of the window's sent messages by channel and status, and push failures by error."""

    window: Window
    by_channel: pd.DataFrame  # channel, status, deliveries
    push_errors: pd.DataFrame  # error, deliveries, recipients, first_at, last_at (failed push only)
    findings: tuple[Finding, ...]
    timings: tuple[QueryTiming, ...]


def push_deliveries(conn: Connection, window: Window) -> PushDeliveries:
    fetched = fetch(conn, "messaging.push_deliveries", window.params())
    frame = fetched.frame
    by_channel = (
        frame.groupby(["channel", "status"], as_index=False)["deliveries"].sum()
        if fetched.ok and not frame.empty
        else pd.DataFrame(columns=["channel", "status", "deliveries"])
    )
    failed = rows(frame, channel="push", status="failed") if fetched.ok else frame
    return PushDeliveries(
        window=window,
        by_channel=by_channel,
        push_errors=for_display(failed.drop(columns=["channel", "status"], errors="ignore")),
        findings=(push_finding(fetched),),
        timings=timings(fetched),
    )


def push_finding(fetched: Fetched) -> Finding:
    check = checks.get("messaging.push_failure_rate")
    if not fetched.ok:
        return checks.error(check, fetched.error or "")
    push = rows(fetched.frame, channel="push")
    whole = total(push, "deliveries")
    failed = rows(push, status="failed")
    n_failed = total(failed, "deliveries")
    inbox_failed = total(rows(fetched.frame, channel="inbox", status="failed"), "deliveries")
    detail = (
        f"push {whole}건 중 실패 {n_failed}건"
        + (f" ({join_counts((str(r.error), int(r.deliveries)) for r in failed.itertuples())})" if n_failed else "")
        if whole
        else "측정 구간에 발송된 메시지의 push 행 없음 (no push deliveries)"
    )
    detail += f" · inbox 실패 {inbox_failed}건 (따로 셈)"
    return checks.evaluate(
        check, pct(n_failed, whole), sample=whole, failures=n_failed, detail=detail, evidence=evidence(failed)
    )
