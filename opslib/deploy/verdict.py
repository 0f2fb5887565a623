"""종료 조건 and 영향: the observation window over with no regression; the extra failures it caused."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

from opslib.deploy.changes import Deployment
from opslib.deploy.functions import RATE_CHECKS, FunctionComparison
from opslib.deploy.settings import settings
from opslib.results import ExitState, Finding, Outcome, Severity
from opslib.timewindow import kst

COMPARED = "deploy.compared"
COMPARED_TITLE = "배포 전후 비교 (anything compared before vs after?)"
COMPARED_SECTION = "§2 배포 후 관찰 (판정)"
# Error log lines have no denominator: a window with no function logs at all reads as 0 errors an hour,
# so they alone never make a deploy judged (they still fire when they find errors).
COUNTS_ALONE = ("deploy.function_log_errors",)


@dataclass(frozen=True)
class ExitCondition:
    met: bool | None
    sentence: str
    exit_state: ExitState
    # deploy.compared: ERROR when nothing was compared (the verdict says it could not judge, exit 4)
    findings: tuple[Finding, ...] = field(default_factory=tuple)
    headline: str = ""


def compared(deployment: Deployment, found: Sequence[Finding]) -> Finding:
    """Was anything compared before vs after? No deploy, no traffic on either side (an empty database,
    a window with no function logs), or none of the deployed functions invoked: ERROR, never PASS."""
    rates = [c for c in settings().tests if c not in COUNTS_ALONE]
    judged = [f for f in found if f.check in rates and f.outcome in (Outcome.OK, Outcome.WARN, Outcome.CRITICAL)]
    functions = [f for f in judged if f.check in (*RATE_CHECKS, "deploy.cold_start_time")]
    why = ""
    if deployment.deploy_at is None or deployment.after is None:
        why = "관찰할 배포가 없습니다: deploy_at도 없고 측정 구간에 버전이 바뀐 함수도 없음 (no deploy to observe)"
    elif not judged:
        why = (
            "배포 전후 모두 비교할 트래픽이 없습니다: 함수 호출, gateway 요청, webhook 모두 없음 "
            "(no traffic before or after the deploy: nothing to compare; are the logs drained?)"
        )
    elif deployment.judged and not functions:
        names = ", ".join(deployment.judged)
        why = (
            f"배포한 함수({names})의 배포 후 호출이 없어 비교할 수 없습니다 "
            "(no invocation of the deployed functions after the deploy: re-run later)"
        )
    if why:
        return Finding(
            COMPARED, Outcome.ERROR, COMPARED_SECTION, COMPARED_TITLE, detail=f"판정 불가 (cannot judge): {why}"
        )
    detail = f"배포 전후 비교 {len(judged)}개, 데이터로 판정 (comparisons judged on data)"
    return Finding(COMPARED, Outcome.OK, COMPARED_SECTION, COMPARED_TITLE, value=len(judged), unit="개", detail=detail)


def exit_condition(deployment: Deployment, found: Sequence[Finding]) -> ExitCondition:
    """Met once the whole 30-60 minute observation is over with no P0/P1 regression and nothing unmeasured.

    With nothing compared (no deploy, no traffic either side) the page could not judge: its
    deploy.compared finding is ERROR, so the verdict is ERROR (exit 4), with the reason on top."""
    urgent = [f for f in found if f.outcome.is_problem and f.severity and f.severity.at_least(Severity.P1)]
    errors = [f for f in found if f.outcome is Outcome.ERROR]
    judged = compared(deployment, found)
    headline = judged.detail if judged.outcome is Outcome.ERROR else ""
    if deployment.deploy_at is None or deployment.after is None:
        # the reason (no deploy found) is the headline on top: the exit line says what to do
        met, text = None, "판정 불가: deploy_at으로 배포 시각을 주세요 (cannot judge: give deploy_at)"
    elif urgent:
        keys = ", ".join(dict.fromkeys(f.key for f in urgent))
        met, text = False, f"미충족: 배포 후 회귀 {len(urgent)}건 ({keys}) → 롤백/킬스위치"
    elif headline:
        # the reason itself is the banner's first line (the headline): not said twice
        met, text = None, "판정 불가: 배포 전후로 비교할 것이 없습니다 (nothing to compare: the reason is on top)"
    elif errors:
        met, text = None, f"판정 불가: 측정 실패 {len(errors)}건 (cannot judge what failed to measure)"
    elif not deployment.complete:
        met = False
        text = (
            f"관찰 중: {deployment.after.minutes:.0f}/{deployment.observe_minutes}분, "
            f"{kst(deployment.observation_ends)}까지 다시 실행 (observation running; re-run until then)"
        )
    else:
        met = True
        text = (
            f"충족: 배포 {kst(deployment.deploy_at)} 후 {deployment.observe_minutes}분 관찰 완료, P0/P1 회귀 없음 "
            "(observation complete, no regression)"
        )
        # the regression rule is met, but a green "충족" alone read as if §2's Sentry and smoke lines
        # had been checked too: the banner names the ones still to do by hand
        by_hand = [f.title.split(" (")[0] for f in found if f.check in BY_HAND and f.outcome is Outcome.NOT_EVALUATED]
        if by_hand:
            text += f" · 남은 확인 (still to check): {', '.join(dict.fromkeys(by_hand))}"
    return ExitCondition(met, text, ExitState(met, text), (judged,), headline)


# §2 checklist lines that a run can leave unmeasured (no Sentry source given, no smoke run of the WI yet).
BY_HAND = ("deploy.sentry_new_errors", "deploy.smoke_run")


def impact(deployment: Deployment, functions: FunctionComparison) -> pd.DataFrame:
    """Per judged function: failures after the deploy beyond what the before rate predicts."""
    frame = functions.raw
    if frame.empty or deployment.after is None:
        return pd.DataFrame()
    rows = []
    for fn in deployment.judged:
        mine = frame[frame["function_name"] == fn]
        before, after = mine[mine["period"] == "before"], mine[mine["period"] == "after"]
        change = deployment.change_of(fn)
        if change and change.new:
            after = after[after["version"].isin(change.new)]
        n_after, n_before = int(after["invocations"].sum()), int(before["invocations"].sum())
        if not n_after:
            continue
        row = {"function": fn, "invocations after": n_after}
        for column in RATE_CHECKS.values():
            bad_after = int(after[column].sum())
            expected = (int(before[column].sum()) / n_before * n_after) if n_before else 0.0
            row[f"extra {column}"] = round(max(0.0, bad_after - expected), 1)
        rows.append(row)
    return pd.DataFrame(rows)
