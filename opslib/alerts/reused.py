"""The §4-E metrics the domain pages already measure, read with their pages' own queries and checks.

Each step runs only the queries its metrics need (the board is run every few minutes by
`opsbook watch`) and judges them with the page's own finding function, so a line or a query
changed on a page is changed on the board.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy.engine import Connection

from opslib.auth import attempts
from opslib.auth.attribution import attribute
from opslib.auth.detection import login_rate_findings, read_requests
from opslib.fetch import Fetched, QueryTiming, fetch, timings
from opslib.messaging.detection import backlog_finding, read_backlog, realtime_findings
from opslib.payments import detection as payments_detection
from opslib.results import Finding
from opslib.timewindow import Window


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
    found = (*success, *payments_detection.balance_findings(balances))
    return Measured(found, timings(hooks, balances))


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
    return Measured(
        (backlog_finding(backlog, read_backlog(backlog, window.until)), *latency), timings(backlog, realtime)
    )
