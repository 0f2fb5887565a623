"""§6 실행 원칙: "실패 시 원인 분석보다 먼저 롤백/킬스위치로 stop-the-bleed".

On a P0/P1 case the kill switches that case names (checks/smoke.yaml stop_the_bleed) are dry-run and,
after them, the rollback: all of it reaches the top of the report ("지금 할 일") before any analysis.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy.engine import Connection

from opslib import actions
from opslib.errors import ActionRefused
from opslib.results import Finding, Mitigation
from opslib.smoke.judge import Judged

ROLLBACK_LABEL = "즉시 롤백 (roll back the release; §2 롤백 시 역순: 웹 → Edge Functions → DB)"
ROLLBACK_DEFAULT = (
    "직전 릴리즈로 되돌리기: 웹 배포 → Edge Functions → DB 마이그레이션 순 "
    "(give -p rollback_command for the exact command)"
)


@dataclass(frozen=True)
class StopTheBleed:
    mitigations: tuple[Mitigation, ...]
    dry_runs: tuple[actions.ActionOutcome, ...]
    table: pd.DataFrame
    sentence: str
    findings: tuple[Finding, ...] = field(default_factory=tuple)


def stop_the_bleed(conn: Connection, judged: Judged, *, wi_id: str = "", rollback_command: str = "") -> StopTheBleed:
    """Dry-runs of the failed cases' kill switches, then the rollback; nothing when nothing failed at P0/P1."""
    failed = judged.failed()
    if not failed:
        return StopTheBleed((), (), pd.DataFrame(), "P0/P1 실패 없음: 멈출 것이 없습니다 (nothing to stop)")
    wanted: list[tuple[str, str]] = []
    for r in failed:
        for name in r.case.stop_the_bleed:
            if name not in [w for w, _ in wanted]:
                wanted.append((name, r.case.id))
    mitigations: list[Mitigation] = []
    outcomes: list[actions.ActionOutcome] = []
    rows = []
    for name, cid in wanted:
        reason = f"§6 smoke {cid} failed: stop the bleed"
        try:
            outcome = actions.dry_run(conn, name, wi_id=wi_id, reason=reason)
        except ActionRefused as exc:
            rows.append(
                {
                    "순서": len(rows) + 1,
                    "조치": actions.LABELS.get(name, name),
                    "케이스": cid,
                    "명령 (command)": "-",
                    "상태": f"사용 불가 (not available): {exc}",
                }
            )
            continue
        outcomes.append(outcome)
        if outcome.mitigation is not None:
            mitigations.append(outcome.mitigation)
        rows.append(
            {
                "순서": len(rows) + 1,
                "조치": actions.LABELS.get(name, name),
                "케이스": cid,
                "명령 (command)": outcome.command,
                "상태": "필요 (needed)" if outcome.changed else "이미 적용됨 (already in place)",
            }
        )
    command = rollback_command.strip() or ROLLBACK_DEFAULT
    mitigations.append(
        Mitigation("rollback", ROLLBACK_LABEL, command, True, "§6: 실패 시 롤백/킬스위치로 stop-the-bleed")
    )
    rows.append(
        {
            "순서": len(rows) + 1,
            "조치": ROLLBACK_LABEL,
            "케이스": ", ".join(r.case.id for r in failed),
            "명령 (command)": command,
            "상태": "필요 (needed)",
        }
    )
    ids = ", ".join(r.case.id for r in failed)
    sentence = f"{ids} 실패 (P0/P1): 원인 분석보다 먼저 stop-the-bleed, 그리고 #ops-incidents 선언"
    return StopTheBleed(tuple(mitigations), tuple(outcomes), pd.DataFrame(rows), sentence)
