"""How a case appears in the report: its screenshot (inline PNG), what it saw, the calls that failed."""

from __future__ import annotations

import html

import pandas as pd

from opslib import page, timewindow
from opslib.masking import mask_email
from opslib.smoke.bleed import StopTheBleed
from opslib.smoke.cases import Plan
from opslib.smoke.judge import CaseResult

_STATUS = {
    "passed": ("#1b5e20", "통과 (passed)"),
    "passed with issues": ("#8a5a00", "통과, 문제 있음 (passed with issues)"),
    "failed": ("#b71c1c", "실패 (failed)"),
    "blocked": ("#4a148c", "실행 불가 (not run)"),
    "error": ("#4a148c", "측정 실패 (error)"),
    "missing": ("#4a148c", "결과/증적 없음 (missing)"),
}


def case(result: CaseResult) -> None:
    """One case: status line, the screenshot (kept as a file in the bundle too), steps, failing calls."""
    from IPython.display import HTML, Image, display

    colour, label = _STATUS.get(result.status, ("#37474f", result.status))
    mode = "수동 (by hand)" if result.mode == "manual" else "headless Chromium"
    where = f" · 파일 {html.escape(result.screenshot.name)}" if result.screenshot is not None else ""
    display(
        HTML(
            f"<div style='border-left:5px solid {colour};padding:4px 10px;margin:6px 0'>"
            f"<b style='color:{colour}'>{html.escape(result.case.id)} {label}</b> · {mode}{where}<br>"
            f"{html.escape(result.detail)}</div>"
        )
    )
    if result.image:
        alt = f"{result.case.id} {result.case.area} 스크린샷 (screenshot): {result.case.title}"
        display(Image(data=result.image, format="png", width=900, metadata={"alt": alt}))
    else:
        display(HTML("<p><b>스크린샷 없음 (no screenshot): 증적 누락</b></p>"))
    if not result.steps.empty:
        page.show_table(
            result.steps, "단계 (steps)" if result.mode == "browser" else "수동 결과 (result given by hand)"
        )
    if not result.calls.empty:
        page.show_table(result.calls, "실패한 호출 (failing calls: the error/log link of §6 증적)")


def plan_summary(plan: Plan) -> None:
    """What this run tests and how: the app, the accounts (masked), manual cases, where screenshots go."""
    rows = [
        {"항목": "웹 앱 (base URL)", "값": plan.base_url or "-"},
        {"항목": "릴리즈 (release)", "값": plan.release or "-"},
        {"항목": "배포 시각 (deploy)", "값": timewindow.kst(plan.deploy_time) if plan.deploy_time else "-"},
        {"항목": "브라우저 (browser)", "값": f"headless Chromium {plan.chromium or '(not found)'}"},
        {"항목": "수동 케이스 (by hand)", "값": ", ".join(plan.manual_cases) or "-"},
        {"항목": "공유 정책 T5 (share policy)", "값": plan.share_policy},
        {"항목": "스크린샷 (screenshots)", "값": str(plan.screenshots.name)},
    ]
    for role, acc in plan.accounts.items():
        rows.append({"항목": f"계정 {role} (account)", "값": f"{mask_email(acc.email)} · 비밀번호 ${acc.password_env}"})
    rows += [{"항목": "참고 (note)", "값": n} for n in plan.notes]
    page.show_table(pd.DataFrame(rows), "이번 스모크 (this smoke run)")


def bleed(result: StopTheBleed) -> None:
    """The stop-the-bleed order, then each kill switch's dry-run (exact before/after)."""
    page.say(result.sentence)
    if not result.table.empty:
        page.show_table(result.table, "지금 할 일 순서 (stop the bleed, in order)")
    for outcome in result.dry_runs:
        page.show_action(outcome)
