"""Rollback advice: reverse the safe deploy order (§2 "롤백 시 역순"), from what regressed.

The runbook deploys DB migration → Edge Functions → web; a rollback goes web → Edge Functions →
DB. The page marks each layer the measurements implicate (web: new Sentry issues or a failing
smoke run; Edge Functions: a judged function that regressed; DB: a gateway area served by the
database that regressed) and names the first one in the rollback order. When a function with a
kill switch regressed, the kill switch's dry-run is the other way to stop the bleeding now.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy.engine import Connection

from opslib import actions
from opslib.deploy.changes import Deployment
from opslib.deploy.settings import settings
from opslib.errors import OpsbookError
from opslib.results import Finding, Mitigation, Severity

ACTION = "deploy-rollback"
LABEL = (
    "지금 롤백 또는 킬스위치, #ops-incidents 선언 (roll back or pull the kill switch now, declare in #ops-incidents)"
)
LAYERS = (
    ("web", "웹 (정적 빌드)", "이전 빌드로 되돌림 (redeploy the previous web build)"),
    ("edge", "Edge Functions", "이전 버전 재배포 (supabase functions deploy <fn> from the previous tag)"),
    ("db", "DB 마이그레이션", "마이그레이션 롤백/백필 플랜 (runbooks/migrations.md)"),
)


@dataclass(frozen=True)
class RollbackAdvice:
    table: pd.DataFrame  # the three layers in rollback order: implicated?, why, how
    first: str | None  # the first layer to roll back (web | edge | db), None when nothing regressed
    sentence: str
    kill_switch: actions.ActionOutcome | None  # the regressed function's kill switch, dry-run
    mitigation: Mitigation | None  # on the verdict banner's "what to do now" when urgent
    findings: tuple[Finding, ...] = ()


def _urgent(found: Sequence[Finding]) -> list[Finding]:
    return [f for f in found if f.outcome.is_problem and f.severity is not None and f.severity.at_least(Severity.P1)]


def implicated(
    deployment: Deployment,
    functions: Sequence[Finding],
    gateway: Sequence[Finding],
    web: Sequence[Finding],
) -> dict[str, list[str]]:
    """Pure: per layer, why it is implicated (problems of any severity)."""
    layers = settings().gateway_layers
    why: dict[str, list[str]] = {"web": [], "edge": [], "db": []}
    for f in functions:
        if f.outcome.is_problem and f.subject:
            change = deployment.change_of(f.subject)
            prev = f" → {change.previous}" if change and change.previous else ""
            why["edge"].append(f"{f.subject}{prev}: {f.title.split(' (')[0]}")
    for f in gateway:
        if f.outcome.is_problem and f.subject:
            layer = layers.get(f.subject, "web")
            if layer in why:
                why[layer].append(f"gateway {f.subject}: {f.title.split(' (')[0]}")
    for f in web:
        if f.outcome.is_problem:
            why["web"].append(f.title.split(" (")[0])
    return {k: list(dict.fromkeys(v)) for k, v in why.items()}


def rollback_advice(
    conn: Connection,
    deployment: Deployment,
    compared: Any,
    gateway_compared: Any,
    *web_results: Any,
    wi_id: str = "",
) -> RollbackAdvice:
    """compared / gateway_compared: the functions and gateway steps; web_results: Sentry and smoke."""
    functions: Sequence[Finding] = compared.findings
    gateway: Sequence[Finding] = gateway_compared.findings
    web: list[Finding] = [f for r in web_results for f in r.findings]
    why = implicated(deployment, functions, gateway, web)
    rows = []
    for key, name, how in LAYERS:
        rows.append(
            {
                "순서 (rollback order)": len(rows) + 1,
                "layer": name,
                "회귀 (implicated)": "●" if why[key] else "",
                "근거 (why)": "; ".join(why[key]) or "-",
                "방법 (how)": how,
            }
        )
    first = next((key for key, _, _ in LAYERS if why[key]), None)
    regressed_functions = sorted({f.subject for f in functions if f.outcome.is_problem and f.subject})
    switch_name = next(
        (settings().kill_switches[fn] for fn in regressed_functions if fn in settings().kill_switches), None
    )
    kill, refused = None, ""
    if switch_name is not None:
        try:
            kill = actions.dry_run(conn, switch_name, wi_id=wi_id, reason="§2 post-deploy regression")
        except OpsbookError as exc:
            # e.g. admin.publish is not in the bare contract: say why, never stop the page (hand-built round)
            refused = f"킬스위치 {switch_name} 사용 불가 (kill switch unavailable): {exc}"
    urgent = _urgent([*functions, *gateway, *web])
    if first is None:
        sentence = "롤백할 것 없음: 배포 후 회귀가 보이지 않습니다 (nothing regressed: no rollback advised)."
        return RollbackAdvice(pd.DataFrame(rows), None, sentence, kill, None)
    names = {k: n for k, n, _ in LAYERS}
    steps = [f"{names[k]}" for k, _, _ in LAYERS if why[k]]
    target = ", ".join(
        f"{fn} → {c.previous}" for fn in regressed_functions if (c := deployment.change_of(fn)) and c.previous
    )
    sentence = (
        f"먼저 롤백: {names[first]}"
        + (f" ({target})" if first == "edge" and target else "")
        + f" · 롤백 시 역순 (web → Edge Functions → DB): {' → '.join(steps)}"
    )
    if kill is not None:
        sentence += f" · 또는 킬스위치: {kill.command}"
    elif refused:
        sentence += f" · {refused}"
    mitigation = None
    if urgent:
        # every implicated layer in rollback order, the functions with the version to go back to
        command = "롤백: " + " → ".join(
            names[k] + (f" ({target})" if k == "edge" and target else "") for k, _, _ in LAYERS if why[k]
        )
        if kill is not None:
            command += f" | 킬스위치: {kill.command}"
        mitigation = Mitigation(ACTION, LABEL, command, True, sentence)
    return RollbackAdvice(pd.DataFrame(rows), first, sentence, kill, mitigation)


def show_kill_switch(advice: RollbackAdvice) -> None:
    """The kill switch's dry-run when one applies, else one sentence saying there is none."""
    from opslib import page

    if advice.kill_switch is not None:
        page.show_action(advice.kill_switch)
    else:
        page.say("회귀한 함수에 해당하는 킬스위치 없음 (no kill switch maps to what regressed)")
