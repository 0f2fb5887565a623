"""The §4-E metrics the domain pages already measure, read with their pages' own queries and checks.

Each step runs only the queries its metrics need (the board is run every few minutes by
`opsbook watch`) and judges them with the page's own finding function, so a line or a query
changed on a page is changed on the board.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
from sqlalchemy.engine import Connection

from opslib import checks
from opslib.auth import attempts
from opslib.auth.attribution import attribute
from opslib.auth.detection import login_rate_findings, read_requests
from opslib.fetch import Fetched, QueryTiming, fetch, timings
from opslib.measures import first_value
from opslib.messaging.detection import backlog_finding, read_backlog, realtime_findings
from opslib.payments import detection as payments_detection
from opslib.results import Finding, Outcome
from opslib.timewindow import Window

# A state metric is a count of bad rows now (negative balances, overdue messages): 0 over an empty table
# measured nothing. The column of alerts.state_rows that says whether its table holds any row, and why not.
NO_ROWS = {
    "payments.negative_balance": (
        "user_wallets",
        "사용자 지갑 계정 없음: 잔액을 잴 대상이 없음 (no user wallet account: nothing measured)",
    ),
    "messaging.scheduled_backlog": (
        "messages",
        "메시지 없음: 백로그를 잴 대상이 없음 (no message at all: nothing measured)",
    ),
}


def on_data(found: Sequence[Finding], state: Fetched) -> tuple[Finding, ...]:
    """Pure: a state metric whose table holds no row is NOT_EVALUATED (not OK, not a measured domain).
    A probe that failed leaves the metric as its page judged it."""
    out = []
    for f in found:
        rule = NO_ROWS.get(f.check)
        held = first_value(state.frame, rule[0]) if rule and state.ok else None
        if rule and f.outcome is Outcome.OK and held is not None and not bool(held):
            f = checks.evaluate(checks.get(f.check), None, subject=f.subject, detail=rule[1])
        out.append(f)
    return tuple(out)


@dataclass(frozen=True)
class Measured:
    """The findings of one group of board metrics and the time their queries took."""

    findings: tuple[Finding, ...]
    timings: tuple[QueryTiming, ...]


def payments_metrics(conn: Connection, window: Window) -> Measured:
    """결제: webhook 성공률 per provider and wallet_ledger 음수 잔액 (the payments page's 감지)."""
    hooks = fetch(conn, "payments.webhook_success_buckets", {**window.params(), "bucket": payments_detection.BUCKET})
    balances = fetch(conn, "payments.negative_balances", {})
    # the board shows the success rate only: the signature split is the payments page's triage
    no_reasons = Fetched("payments.signature_failure_reasons", pd.DataFrame(), None, 0.0)
    success = [
        f for f in payments_detection.webhook_findings(hooks, no_reasons) if f.check == "payments.webhook_success_rate"
    ]
    state = fetch(conn, "alerts.state_rows", {})
    found = on_data((*success, *payments_detection.balance_findings(balances)), state)
    return Measured(found, timings(hooks, balances, state))


def auth_metrics(conn: Connection, window: Window) -> Measured:
    """인증: 로그인 실패율 over every login method, attack sources left out (the auth page's 감지)."""
    who = attribute(conn, window.since, window.until)
    requests = read_requests(conn, window, who)
    frame = attempts.annotate(requests.frame) if requests.ok else attempts.annotate(pd.DataFrame())
    logins = attempts.logins(frame)
    excluded = attempts.counts(attempts.logins(frame, include_excluded=True))[0] - attempts.counts(logins)[0]
    overall = [f for f in login_rate_findings(requests, logins, excluded) if f.subject == "all"]
    return Measured(tuple(overall), timings(who.sources, who.users, requests))


def messaging_metrics(conn: Connection, window: Window) -> Measured:
    """메시지: 예약 메시지 백로그 at the window's end and Realtime 지연 P95 (the messaging page's 감지)."""
    backlog = fetch(conn, "messaging.backlog", {"until": window.until})
    realtime = fetch(conn, "messaging.realtime_latencies", window.params())
    latency = [f for f in realtime_findings(realtime) if f.check == "messaging.realtime_latency_p95"]
    state = fetch(conn, "alerts.state_rows", {})
    found = on_data((backlog_finding(backlog, read_backlog(backlog, window.until)), *latency), state)
    return Measured(found, timings(backlog, realtime, state))
