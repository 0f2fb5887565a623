"""종료 조건 and 영향: the observation window over with no regression; the extra failures it caused."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from opslib.deploy.changes import Deployment
from opslib.deploy.functions import RATE_CHECKS, FunctionComparison
from opslib.results import ExitState, Finding, Outcome, Severity
from opslib.timewindow import kst


@dataclass(frozen=True)
class ExitCondition:
    met: bool | None
    sentence: str
    exit_state: ExitState


def exit_condition(deployment: Deployment, found: Sequence[Finding]) -> ExitCondition:
    """Met once the whole 30-60 minute observation is over with no P0/P1 regression and nothing unmeasured."""
    urgent = [f for f in found if f.outcome.is_problem and f.severity and f.severity.at_least(Severity.P1)]
    errors = [f for f in found if f.outcome is Outcome.ERROR]
    if deployment.deploy_at is None or deployment.after is None:
        met, text = None, "판정 불가: 관찰할 배포가 없습니다 (no deploy to observe: give deploy_at)"
    elif urgent:
        keys = ", ".join(dict.fromkeys(f.key for f in urgent))
        met, text = False, f"미충족: 배포 후 회귀 {len(urgent)}건 ({keys}) → 롤백/킬스위치"
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
    return ExitCondition(met, text, ExitState(met, text))


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
