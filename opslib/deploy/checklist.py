"""The §2 post-deploy checklist, each line measured or marked manual; payments and cron reused.

The payments and cron lines call those pages' own steps (opslib.payments.detect: webhook failures,
reconciliation runs and open items, balances; opslib.cron.detect: failed, missed and 'succeeded
but 401/500' runs) over the after window, so their checks and thresholds are theirs, not copies.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy.engine import Connection

from opslib import cron, payments
from opslib.deploy.changes import Deployment
from opslib.fetch import QueryTiming
from opslib.results import Finding, Outcome, Verdict, decide, worst_severity
from opslib.timewindow import Window


@dataclass(frozen=True)
class PaymentsCron:
    payments: payments.Detection | None
    cron: cron.Detection | None
    window: Window
    findings: tuple[Finding, ...]
    timings: tuple[QueryTiming, ...] = field(default_factory=tuple)

    @property
    def payments_findings(self) -> tuple[Finding, ...]:
        return self.payments.findings if self.payments else ()

    @property
    def cron_findings(self) -> tuple[Finding, ...]:
        return self.cron.findings if self.cron else ()


def payments_and_cron(conn: Connection, deployment: Deployment, window: Window) -> PaymentsCron:
    """The payments and cron pages' detection over the after window (the page's window without a deploy)."""
    span = deployment.after or window
    paid = payments.detect(conn, span)
    jobs = cron.detect(conn, span)
    return PaymentsCron(
        payments=paid,
        cron=jobs,
        window=span,
        findings=(*paid.findings, *jobs.findings),
        timings=(*paid.timings, *jobs.timings),
    )


def line_state(found: Iterable[Finding]) -> str:
    """A checklist line's state from its findings: problem first, then failure to measure, then manual."""
    items = list(found)
    problems = [f for f in items if f.outcome.is_problem]
    if problems:
        worst = worst_severity(problems)
        return f"이상 (abnormal, {worst.value})" if worst else "이상 (abnormal)"
    if any(f.outcome is Outcome.ERROR for f in items):
        return "측정 실패 (ERROR)"
    if not items or all(f.outcome is Outcome.NOT_EVALUATED for f in items):
        return "수동 확인 (manual)"
    return "정상 (OK)"


def _summary(found: Sequence[Finding]) -> str:
    problems = [f for f in found if f.outcome.is_problem]
    if problems:
        return "; ".join(f"{f.title.split(' (')[0]}{' · ' + f.subject if f.subject else ''}" for f in problems[:4]) + (
            f" 외 {len(problems) - 4}건" if len(problems) > 4 else ""
        )
    judged = [f for f in found if f.outcome is Outcome.OK]
    return f"{len(judged)}개 점검 정상" if judged else "측정할 것 없음 (nothing measured)"


def checklist(
    sentry: Any,
    smoke: Any,
    reused: PaymentsCron,
    *comparisons: Any,
    every: Sequence[Finding] = (),
) -> pd.DataFrame:
    """Pure: the five §2 lines, each with how it was measured and its state.

    sentry and smoke are their steps' results (a `findings` and a `sentence`); comparisons are the
    before/after steps (functions, gateway, signatures, logs) that make the Supabase Logs line.
    """
    logs = [f for c in comparisons for f in c.findings]
    verdict = decide(every)
    declare = (
        "지금 #ops-incidents 선언 (declare now, §1)"
        if verdict is Verdict.FAIL
        else "선언 불필요 (nothing abnormal)"
        if verdict is Verdict.PASS
        else "조건부: 이상 항목 확인 후 판단 (check the items)"
        if verdict is Verdict.CONDITIONAL_PASS
        else "측정 실패 항목 먼저 확인 (measure what failed first)"
    )
    rows = [
        (
            "Sentry 신규 에러/급증 확인 (릴리즈 태그 기준)",
            "Sentry export / API (opt-in)",
            sentry.sentence,
            line_state(sentry.findings),
        ),
        (
            "Supabase Logs에서 Edge Function 5xx/서명 실패/권한 오류 확인",
            "logs.function_edge_logs · logs.edge_logs · function_logs · payment_webhook_logs (배포 전 vs 후)",
            _summary(logs),
            line_state(logs),
        ),
        ("스모크 테스트 실행 (→ §6)", "evidence의 smoke 번들 (같은 WI)", smoke.sentence, line_state(smoke.findings)),
        (
            "결제/크론 관련: 대사/실패 로그 확인",
            "opslib.payments.detect · opslib.cron.detect (배포 후 구간)",
            _summary(reused.findings),
            line_state(reused.findings),
        ),
        ("이상 시 즉시 #ops-incidents 선언 (→ §1)", "이 페이지의 판정 (verdict)", verdict.value, declare),
    ]
    return pd.DataFrame(rows, columns=["체크리스트 (§2)", "측정 (how)", "결과 (result)", "상태 (state)"])
