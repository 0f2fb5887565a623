"""최소 완화 / 복구 / 종료 조건 / 영향: the fixes as one migration (suggested, never executed), the exit
condition, and the numbers a post-mortem quotes. Pure functions of the steps' results.

The page writes nothing: a fix to RLS, a policy, a grant or a role is a migration through the
migration gate (§5 DB/보안 변경 추가 규칙: 로컬 → 스테이징 → 프로덕션), so each drifted gap carries the
exact SQL to put in it. The one runtime switch that exists for this, a bucket back to private, is the
storage page's guarded action (`opsbook action storage-bucket-private`), named in its fix.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from opslib.results import ExitState, Finding, Outcome

_SEVERITY_ORDER = {"P0": 0, "P1": 1, "P2": 2, "P3": 3}


def _frames(results: Sequence[Any], attribute: str) -> pd.DataFrame:
    parts = [getattr(r, attribute) for r in results if isinstance(getattr(r, attribute, None), pd.DataFrame)]
    parts = [p for p in parts if not p.empty]
    if not parts:
        return pd.DataFrame(
            columns=[
                "상태 (state)",
                "심각도",
                "점검 (check)",
                "대상 (subject)",
                "설명",
                "고치는 SQL (fix, not executed)",
            ]
        )
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values("심각도", key=lambda s: s.map(_SEVERITY_ORDER), kind="stable").reset_index(drop=True)


@dataclass(frozen=True)
class FixPlan:
    drift: pd.DataFrame  # every drifted gap, worst first, with its fix
    migration: str  # the fixes as one migration file's text (a suggestion: read it, test it on staging)
    findings: tuple[Finding, ...] = ()


def fix_plan(*results: Any) -> FixPlan:
    drift = _frames(results, "drift")
    if drift.empty:
        return FixPlan(
            drift, "-- 계약 이후 드리프트 없음: 고칠 것 없음 (no drift since the contract: nothing to fix)\n"
        )
    lines = [
        "-- opsbook rls-audit: suggested migration (NOT executed by opsbook).",
        "-- §5: 로컬 → 스테이징 → 프로덕션; one statement per drifted gap, worst first.",
        "BEGIN;",
        "SET LOCAL lock_timeout = '2s';",
    ]
    for r in drift.to_dict("records"):
        # the frame is escaped for the HTML table; the migration is shown in a code block, as SQL
        lines.append(html.unescape(f"-- [{r['심각도']}] {r['점검 (check)']}: {r['대상 (subject)']}"))
        lines.append(html.unescape(str(r["고치는 SQL (fix, not executed)"])))
    lines.append("COMMIT;")
    return FixPlan(drift, "\n".join(lines) + "\n")


def known_gaps(*results: Any) -> pd.DataFrame:
    """The contract's own gaps still present: its posture, not drift; fixing them is a contract change."""
    return _frames(results, "known")


@dataclass(frozen=True)
class ExitCheck:
    met: bool | None
    sentence: str
    exit_state: ExitState
    findings: tuple[Finding, ...] = ()


def exit_condition(findings: Sequence[Finding]) -> ExitCheck:
    """Met when no drift at P0-P2 is left and every check could be evaluated.

    The posture is a state of the catalogs, not a rate: there is no hold time to wait out. It holds
    from the moment a re-run of this page after the migration finds no such drift.
    """
    audit = [f for f in findings if f.check.startswith("rls-audit.")]
    errors = [f for f in audit if f.outcome in (Outcome.ERROR, Outcome.NOT_EVALUATED)]
    open_ = [f for f in audit if f.outcome.is_problem and f.severity is not None and f.severity.rank <= 2]
    if errors:
        met: bool | None = None
        names = ", ".join(sorted({f.check for f in errors}))
        sentence = f"판정 불가: {len(errors)}개 점검을 평가하지 못함 (cannot judge: {names})"
    elif open_:
        met = False
        keys = [f.key if len(f.key) <= 70 else f.key[:67] + "..." for f in open_[:5]]
        shown = ", ".join(keys) + (f" 외 {len(open_) - 5}건" if len(open_) > 5 else "")
        sentence = (
            f"미충족: P0–P2 드리프트 {len(open_)}건이 남음 ({shown}). 마이그레이션 적용 후 이 페이지를 다시 실행 "
            "(not met: apply the migration, then re-run this page)"
        )
    else:
        met = True
        sentence = (
            "충족: 계약 이후 P0–P2 드리프트 없음, 이번 실행 시점부터 "
            "(met: no P0–P2 drift since the contract, as of this run; catalog state, no hold time)"
        )
    return ExitCheck(met, sentence, ExitState(met, sentence))


@dataclass(frozen=True)
class Impact:
    markdown: str
    by_check: pd.DataFrame


def impact(coverage: Any, fixes: FixPlan) -> Impact:
    drift = fixes.drift
    by_check = (
        drift.groupby(["점검 (check)", "심각도"]).size().reset_index(name="건수").sort_values("심각도")
        if not drift.empty
        else pd.DataFrame(columns=["점검 (check)", "심각도", "건수"])
    )
    personal = 0
    if getattr(coverage, "tables", None) is not None and not coverage.tables.empty:
        t = coverage.tables
        personal = int(((t["RLS"] == "OFF") & (t["personal data"] != "-")).sum()) if "personal data" in t else 0
    cov = (
        f"{coverage.covered}/{coverage.total}"
        if getattr(coverage, "total", None) is not None
        else "측정 실패 (not measured)"
    )
    lines = [
        f"- RLS 적용 테이블 (tables with RLS): **{cov}** "
        f"(계약 contract {coverage.contract_covered}/{coverage.contract_total})",
        f"- RLS 꺼진 개인정보 테이블 (personal-data tables with RLS off): **{personal}**",
        f"- 계약 이후 드리프트 (drifted gaps): **{len(drift)}** "
        + (
            f"(P0 {int((drift['심각도'] == 'P0').sum())}, P1 {int((drift['심각도'] == 'P1').sum())})"
            if len(drift)
            else ""
        ),
        "- 노출 시작 시각은 카탈로그에 없음: 마이그레이션 이력/감사 로그로 확인 "
        "(when a gap opened is not in the catalogs: take it from the migration history)",
    ]
    return Impact("\n".join(lines), by_check)
