"""The payment-reconcile job specifically: business days reconciled, failed runs, the §7 known issue.

The job runs at 03:30 KST (18:30 UTC) and reconciles yesterday (KST). The last business date
reconciled is the latest period a run completed (matched or mismatched); once 03:30 KST plus a
grace has passed, yesterday is expected. Mismatched and failed runs are the payments page's to
triage (opsbook run payments): this page points there.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta

import pandas as pd
from sqlalchemy.engine import Connection

from opslib import checks
from opslib.cron.settings import detection as settings
from opslib.display import evidence, for_display
from opslib.fetch import QueryTiming, fetch, timings
from opslib.results import Finding, Outcome
from opslib.timewindow import KST, Window

KNOWN_ISSUE = (
    "§7 알려진 이슈: `payment-reconcile`은 `Bearer service_role`을 직접 비교합니다 (`cron_auth.ts`의 "
    "timing-safe `requireCronAuth()` 패턴이 아님). 기능은 동작하지만 통일 권장. "
    "Known issue (§7): payment-reconcile compares `Bearer service_role` directly instead of the timing-safe "
    "`requireCronAuth()` pattern; it works, and is to be unified. Its 401s can therefore differ from the "
    "dispatcher's: check which secret each function compares."
)
PAYMENTS_POINTER = "대사 불일치/실패 상세는 결제 페이지에서: `opsbook run payments` (§3-A 4. 복구)"
LOOKBACK = timedelta(days=3)
RUN_AT_KST = time(3, 30)


@dataclass(frozen=True)
class Reconcile:
    through: pd.DataFrame  # per provider: last business date reconciled, expected, days behind
    runs: pd.DataFrame  # last 3 days of reconciliation_runs, display-ready
    failed: pd.DataFrame  # error / mismatched among them
    expected_date: date
    known_issue: str
    pointer: str
    findings: tuple[Finding, ...]
    timings: tuple[QueryTiming, ...] = field(default_factory=tuple)


def expected_business_date(at: datetime, grace: timedelta) -> date:
    """Yesterday (KST) once today's 03:30 KST run plus grace is over, else the day before."""
    local = at.astimezone(KST)
    ran = datetime.combine(local.date(), RUN_AT_KST, tzinfo=KST) + grace
    return local.date() - timedelta(days=1 if local >= ran else 2)


def reconcile_status(conn: Connection, window: Window) -> Reconcile:
    cfg = settings()
    at = window.until
    expected = expected_business_date(at, cfg.reconcile_grace)
    through = fetch(conn, "cron.reconciled_through", {})
    runs = fetch(conn, "cron.reconcile_runs", {"since": at - LOOKBACK, "until": at})
    behind_check = checks.get("cron.reconcile_behind")
    failed_check = checks.get("cron.reconcile_failed")
    findings: list[Finding] = []
    rows = []
    if not through.ok:
        findings.append(checks.error(behind_check, through.error or "query failed"))
    else:
        for _, r in through.frame.iterrows():
            start = r["last_period_start"]
            last = None if start is None or pd.isna(start) else pd.Timestamp(start).tz_convert(KST).date()
            behind = None if last is None else max(0, (expected - last).days)
            rows.append(
                {"provider": r["provider"], "last_reconciled": last, "expected": expected, "days_behind": behind}
            )
            detail = (
                f"reconciled through {last}, expected {expected}"
                if last is not None
                else "no completed reconciliation run at all"
            )
            f = checks.evaluate(behind_check, behind, subject=r["provider"], detail=detail)
            if last is None:
                # a database that never reconciled cannot say how far behind it is
                f = replace(f, detail=detail)
            findings.append(f)
    failed = pd.DataFrame()
    table = pd.DataFrame()
    if not runs.ok:
        findings.append(checks.error(failed_check, runs.error or "query failed"))
    else:
        table = runs.frame
        failed = table[table["status"].isin(["error", "mismatched"])]
        f = checks.evaluate(
            failed_check,
            len(failed),
            detail=(PAYMENTS_POINTER if len(failed) else f"{len(table)} run(s) in the last 3 days, none failed"),
            evidence=evidence(failed[["provider", "status", "period_start", "mismatch_count", "error", "started_at"]])
            if len(failed)
            else (),
        )
        if len(failed) and (failed["status"] == "error").any():
            f = replace(f, outcome=Outcome.CRITICAL, severity=failed_check.critical_severity)
        findings.append(f)
    return Reconcile(
        through=pd.DataFrame(rows),
        runs=for_display(table) if len(table) else pd.DataFrame(),
        failed=for_display(failed) if len(failed) else pd.DataFrame(),
        expected_date=expected,
        known_issue=KNOWN_ISSUE,
        pointer=PAYMENTS_POINTER,
        findings=tuple(findings),
        timings=timings(through, runs),
    )
