"""What the database says the smoke's pages should show, and T2's dt_purchases query (read-only steps)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy.engine import Connection

from opslib import display, timewindow
from opslib.fetch import QueryTiming, fetch, timings
from opslib.measures import first_value, total
from opslib.results import Finding, Outcome
from opslib.smoke.cases import Plan

SECTION = "§6 스모크 테스트 Quick 7"


@dataclass(frozen=True)
class AccountFacts:
    """Counts a case can be checked against (None: unknown), shown as a table."""

    facts: dict[str, int | None]
    table: pd.DataFrame
    findings: tuple[Finding, ...] = field(default_factory=tuple)
    timings: tuple[QueryTiming, ...] = field(default_factory=tuple)


def _error(check: str, title: str, reason: str) -> Finding:
    return Finding(check=check, outcome=Outcome.ERROR, section=SECTION, title=title, detail=reason)


def account_facts(conn: Connection, plan: Plan) -> AccountFacts:
    """The test account's live subscriptions (T3's cross-check), active packages and campaigns."""
    found: list[Finding] = []
    email = plan.accounts["main"].email if "main" in plan.accounts else ""
    subs = fetch(conn, "smoke.account_subscriptions", {"email": email}) if email else None
    counts = fetch(conn, "smoke.catalogue_counts", {})
    facts: dict[str, int | None] = {"subscriptions": None, "packages": None, "campaigns": None}
    if subs is not None and not subs.ok:
        found.append(_error("smoke.db_facts", "DB 교차 확인 (database cross-check)", subs.error or ""))
    elif subs is not None and total(subs.frame, "accounts"):
        facts["subscriptions"] = total(subs.frame, "live_subscriptions")
    if not counts.ok:
        found.append(_error("smoke.db_facts", "DB 교차 확인 (database cross-check)", counts.error or ""))
    else:
        for key, col in (("packages", "active_packages"), ("campaigns", "active_campaigns")):
            value = first_value(counts.frame, col)
            facts[key] = int(value) if value is not None else None
    known = "계정 있음 (account found)" if facts["subscriptions"] is not None else "계정 없음/확인 불가 (not found)"
    table = pd.DataFrame(
        [
            {
                "무엇 (what)": "T3 테스트 계정의 구독 (live subscriptions of the test account)",
                "DB": facts["subscriptions"],
                "비고": known,
            },
            {"무엇 (what)": "T2 활성 DT 패키지 (active packages)", "DB": facts["packages"], "비고": ""},
            {"무엇 (what)": "T6 진행 중 캠페인 (active campaigns)", "DB": facts["campaigns"], "비고": ""},
        ]
    )
    fetched = [f for f in (subs, counts) if f is not None]
    return AccountFacts(facts, table, tuple(found), timings(*fetched))


@dataclass(frozen=True)
class Purchases:
    """T2's pairing: purchases since the deploy by provider and status, and the newest ten."""

    by_status: pd.DataFrame
    recent: pd.DataFrame
    findings: tuple[Finding, ...]
    timings: tuple[QueryTiming, ...]
    sentence: str


def dt_purchases(conn: Connection, window: timewindow.Window) -> Purchases:
    grouped = fetch(conn, "smoke.dt_purchases", window.params())
    recent = fetch(conn, "smoke.dt_purchases_recent", window.params())
    title = "T2 dt_purchases 쿼리 (purchases since the deploy)"
    found: list[Finding] = []
    for f in (grouped, recent):
        if not f.ok:
            found.append(_error("smoke.dt_purchases", title, f.error or ""))
    n = total(grouped.frame, "purchases")
    paid = total(grouped.frame, "purchases", status="paid")
    sentence = f"{timewindow.kst(window.since)} 이후 구매 {n}건, 결제 완료 {paid}건 (purchases since the window start)"
    if grouped.ok:
        found.append(
            Finding(
                check="smoke.dt_purchases",
                outcome=Outcome.OK,
                section=f"{SECTION} T2",
                title=title,
                value=n,
                unit="건",
                detail=sentence
                + " · 판정은 결제 페이지(§3-A)가 합니다 (shown as T2's evidence; judged by the payments page)",
            )
        )
    return Purchases(
        display.for_display(grouped.frame),
        display.for_display(recent.frame),
        tuple(found),
        timings(grouped, recent),
        sentence,
    )


def facts_for_browser(facts: AccountFacts | None) -> dict[str, Any]:
    return dict(facts.facts) if facts is not None else {}
