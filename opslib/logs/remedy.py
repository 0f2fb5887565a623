"""완화/복구 advice, the exit condition and the impact numbers: pure functions of the steps' findings.

The page changes nothing: a log line is fixed by a release of the function that writes it (§2 배포),
and personal data already in the logs by the log store's own retention and access controls.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from opslib.logs.window import NO_EVENTS, Detection
from opslib.results import ExitState, Finding, Outcome

ADVICE = {
    "logs.pii": (
        "완화: 로그 열람 권한을 좁히고(Logs Explorer, 드레인 대상) 해당 릴리스를 롤백하거나 마스킹 패치를 배포. "
        "복구: 보존 중인 원본 로그 삭제/만료 요청, 보안 책임자 보고(§0 데이터 유출 판단), 재발 방지 테스트 "
        "(mitigate: narrow log access and the drain's destination, roll back or ship the masking fix; "
        "recover: purge the stored lines, report to security, add a test)"
    ),
    "logs.payment_fields": (
        "§4-C 필드를 넣는 공용 로거/이벤트 빌더를 그 함수의 새 릴리스가 건너뛰는지 확인: 릴리스별 표의 첫 릴리스로 "
        "롤백 또는 핫픽스. 빠진 구간의 결제는 payment_webhook_logs·dt_purchases로 대사 (§3-A) "
        "(the release that dropped them: roll back or hotfix; reconcile the gap from the payment tables)"
    ),
    "logs.common_fields": (
        "릴리스별 표에서 필드가 사라진 릴리스를 찾아 롤백 또는 공용 로거 핫픽스 (§2 배포 후 관찰) "
        "(find the release the field disappeared with; roll back or fix the shared logger)"
    ),
    "logs.structured": (
        "console.log 문자열 대신 JSON 한 줄(§4-B 필드)로: 비구조화 줄을 낸 코드 경로를 공용 로거로 교체 "
        "(route the plain-text lines through the structured logger)"
    ),
    "logs.event_names": (
        "이벤트명을 domain.noun.verb로 정규화 (payment.webhook.received); 대시보드/알림 필터도 함께 갱신 "
        "(rename to domain.noun.verb; update the filters that match the old names)"
    ),
    "logs.payment_failure_level": (
        "결제 실패는 console.error로 (§4-A: ERROR = 항상 Sentry capture): 그동안 Sentry에 안 잡힌 실패는 "
        "payments 페이지로 확인 (log payment failures at ERROR; check the missed ones on the payments page)"
    ),
    "logs.severity_mismatch": (
        "JSON severity를 실제 console 레벨에서 만들기 (one source for both: the logger sets severity from the level)"
    ),
}


@dataclass(frozen=True)
class Advice:
    table: pd.DataFrame
    sentence: str


def advice(findings: Sequence[Finding]) -> Advice:
    """What to do for each check that fired, worst first, with the functions it fired on."""
    rows: dict[str, dict[str, object]] = {}
    for f in sorted(
        (f for f in findings if f.check.startswith("logs.") and f.outcome.is_problem),
        key=lambda f: f.severity.rank if f.severity else 9,
    ):
        row = rows.setdefault(
            f.check,
            {
                "심각도": f.severity.value if f.severity else "",
                "점검 (check)": f.title,
                "함수 (functions)": [],
                "할 일 (what to do)": ADVICE.get(f.check, ""),
            },
        )
        row["함수 (functions)"].append(str(f.subject or "-"))  # type: ignore[union-attr]
    table = pd.DataFrame(
        [{**r, "함수 (functions)": ", ".join(r["함수 (functions)"])} for r in rows.values()]  # type: ignore[arg-type]
    )
    sentence = (
        f"고칠 항목 {len(rows)}개 (checks to fix), 페이지는 아무것도 바꾸지 않음 (the page writes nothing)"
        if rows
        else "고칠 것 없음 (nothing to fix)"
    )
    return Advice(table, sentence)


@dataclass(frozen=True)
class ExitCheck:
    met: bool | None
    sentence: str
    exit_state: ExitState


def exit_condition(detection: Detection, findings: Sequence[Finding]) -> ExitCheck:
    """종료 조건: every threshold met over the window's lines. No line at all is no evidence either way."""
    mine = [f for f in findings if f.check.startswith("logs.")]
    failing = [f for f in mine if f.outcome.is_problem]
    errors = [f for f in mine if f.outcome is Outcome.ERROR]
    if errors:
        met, sentence = None, f"판정 불가: 측정 실패 {len(errors)}건 (cannot judge: a check could not run)"
    elif detection.logs.empty:
        met, sentence = None, f"판정 불가: {NO_EVENTS}"
    elif failing:
        names = sorted({f"{f.title.split(' (')[0]} [{f.subject}]" for f in failing})
        met, sentence = False, "미충족: " + "; ".join(names)
    else:
        met, sentence = (
            True,
            (
                f"충족: {detection.logs.window.label()}의 콘솔 로그 {detection.logs.total:,}줄이 모든 기준 충족 "
                "(every threshold met in the window)"
            ),
        )
    return ExitCheck(met, sentence, ExitState(met, sentence, detection.logs.window.since if met else None))


@dataclass(frozen=True)
class Impact:
    markdown: str
    by_check: pd.DataFrame


def impact(detection: Detection, findings: Sequence[Finding]) -> Impact:
    logs = detection.logs
    mine = [f for f in findings if f.check.startswith("logs.") and f.outcome.is_problem]
    by_check = pd.DataFrame(
        [
            {
                "점검 (check)": f.title,
                "함수 (function)": f.subject or "-",
                "심각도": f.severity.value if f.severity else "",
                "측정값": f.value,
                "단위": f.unit,
            }
            for f in mine
        ]
    )
    pii_lines = sum(int(f.value or 0) for f in mine if f.check == "logs.pii")
    structured = int(logs.lines["structured"].sum()) if not logs.lines.empty else 0
    md = "\n".join(
        [
            f"- 구간 (window): {logs.window.label()}",
            f"- 콘솔 로그 (console lines): {logs.total:,}줄, 함수 {len(logs.functions())}개"
            + (f" (표본 sample: {', '.join(logs.sampled)})" if logs.sampled else ""),
            f"- 구조화 (JSON): {structured:,}줄 / 읽은 줄 {len(logs.lines):,}",
            f"- 기준 미달 점검 (checks not met): {len(mine)}건",
            f"- 원본 개인정보가 든 줄 (lines with raw personal data): {pii_lines:,}",
        ]
    )
    return Impact(md, by_check)
