"""Live posture against the contract's: which gaps are the contract's own, which drifted in, which were fixed.

A gap the contract has (same rule, same subject, no worse, nothing added) is its known posture:
listed, never a finding. A gap the contract does not have, or one that got worse (a higher
severity, a role or privilege more), is drift: a finding at the gap's severity. Contract
policies that are gone or changed are drift too (a feature's access rule is lost).
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from opslib import checks
from opslib.results import Finding, Outcome, Severity
from opslib.rls_audit.rules import CHECK_PREFIX, Gap, ident, qualified


@dataclass(frozen=True)
class Drift:
    new: tuple[Gap, ...]  # not in the contract, or worse than there
    known: tuple[Gap, ...]  # exactly the contract's own
    fixed: tuple[Gap, ...]  # the contract has it, the live database no longer


def classify(live: Iterable[Gap], contract: Iterable[Gap]) -> Drift:
    base = {g.key: g for g in contract}
    new, known = [], []
    seen = set()
    for g in live:
        seen.add(g.key)
        b = base.get(g.key)
        if b is not None and not g.severity.rank < b.severity.rank and g.facts <= b.facts:
            known.append(g)
        else:
            if b is not None:
                g = Gap(
                    g.check,
                    g.subject,
                    g.severity,
                    f"{g.detail} · 계약보다 나빠짐 (worse than the contract: {_was(b)})",
                    g.fix,
                    g.facts,
                )
            new.append(g)
    fixed = [b for k, b in base.items() if k not in seen]
    return Drift(tuple(new), tuple(known), tuple(fixed))


def _was(b: Gap) -> str:
    facts = ", ".join(sorted(b.facts))
    return f"{b.severity.value}" + (f" {facts}" if facts else "")


def policy_drift(
    live: Mapping[str, Mapping[str, Any]], contract: Mapping[str, Mapping[str, Any]], skip: set[str]
) -> list[Gap]:
    """Contract policies gone or changed (P2: an access rule the app relies on), and policies added (P3)."""
    out = []
    for key, want in sorted(contract.items()):
        if key in skip:
            continue
        have = live.get(key)
        if have is None:
            out.append(
                Gap(
                    CHECK_PREFIX + "policy_drift",
                    key,
                    Severity.P2,
                    "계약의 정책이 사라짐: 이 정책으로 허용되던 접근이 막힘 (a contract policy is gone)",
                    create_policy(want),
                )
            )
            continue
        changed = [f for f in ("cmd", "roles", "permissive", "using", "check") if have.get(f) != want.get(f)]
        if changed:
            out.append(
                Gap(
                    CHECK_PREFIX + "policy_drift",
                    key,
                    Severity.P2,
                    f"계약과 다른 정책 (differs from the contract in {', '.join(changed)})",
                    f"DROP POLICY {ident(want['name'])} ON {qualified(want['table'])}; {create_policy(want)}",
                    frozenset(changed),
                )
            )
    for key, have in sorted(live.items()):
        if key not in contract and key not in skip:
            out.append(
                Gap(
                    CHECK_PREFIX + "policy_drift",
                    key,
                    Severity.P3,
                    f"계약에 없는 정책 ({have['cmd']} TO {', '.join(have['roles'])}): 검토 필요 "
                    "(a policy the contract does not have)",
                    f"-- review; to remove: DROP POLICY {ident(have['name'])} ON {qualified(have['table'])};",
                )
            )
    return out


def create_policy(p: Mapping[str, Any]) -> str:
    """The contract's policy as CREATE POLICY (expressions as the server deparses them, layout removed)."""
    kind = "" if p["permissive"] else " AS RESTRICTIVE"
    roles = ", ".join("PUBLIC" if r.lower() == "public" else ident(r) for r in p["roles"])
    using = f" USING ({p['using']})" if p.get("using") else ""
    check = f" WITH CHECK ({p['check']})" if p.get("check") else ""
    return (
        f"CREATE POLICY {ident(p['name'])} ON {qualified(p['table'])}{kind} FOR {p['cmd']} TO {roles}{using}{check};  "
        "-- from opslib/contract/*.sql (expression shown without layout: copy the original)"
    )


def findings(
    check_ids: Sequence[str], new: Sequence[Gap], *, error: str | None = None, known: Sequence[Gap] = ()
) -> tuple[Finding, ...]:
    """One finding per drifted gap; a check with none is OK (said so); a check whose query failed is ERROR."""
    out: list[Finding] = []
    for check_id in check_ids:
        check = checks.get(check_id)
        if error is not None:
            out.append(checks.error(check, error))
            continue
        mine = [g for g in new if g.check == check_id]
        for g in mine:
            out.append(
                Finding(
                    check=check.id,
                    outcome=Outcome.CRITICAL if g.severity.rank <= 1 else Outcome.WARN,
                    severity=g.severity,
                    section=check.section,
                    title=check.title,
                    threshold=check.threshold_text(),
                    subject=g.subject,
                    value=1,
                    unit=check.unit,
                    detail=g.detail,
                    evidence=({"fix_sql": g.fix},),
                )
            )
        if not mine:
            out.append(
                Finding(
                    check=check.id,
                    outcome=Outcome.OK,
                    section=check.section,
                    title=check.title,
                    threshold=check.threshold_text(),
                    value=0,
                    unit=check.unit,
                    detail=_ok_detail(sum(1 for g in known if g.check == check_id)),
                )
            )
    return tuple(out)


def _ok_detail(known: int) -> str:
    if not known:
        return "계약 이후 변경 없음 (no drift from the contract)"
    return (
        f"계약 이후 변경 없음; 계약 자체의 알려진 허점 {known}건은 복구 섹션에 "
        f"(no drift; the contract's own {known} known gap(s) listed under 복구)"
    )


def html_safe(table: pd.DataFrame) -> pd.DataFrame:
    """Text cells with <, > and & escaped: page.show_table renders cells as raw HTML, and the names shown
    here (policies, functions, roles) are whatever a migration chose, "<img onerror=...>" included.
    Quotes stay as they are, so the fix SQL reads as SQL."""
    out = table.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col].dtype):
            out[col] = out[col].map(lambda v: html.escape(v, quote=False) if isinstance(v, str) else v)
    return out


def frame(gaps: Iterable[Gap], state: str) -> pd.DataFrame:
    rows = [
        {
            "상태 (state)": state,
            "심각도": g.severity.value,
            "점검 (check)": g.check.removeprefix(CHECK_PREFIX),
            "대상 (subject)": g.subject,
            "설명": g.detail,
            "고치는 SQL (fix, not executed)": g.fix,
        }
        for g in gaps
    ]
    return html_safe(
        pd.DataFrame(
            rows,
            columns=[
                "상태 (state)",
                "심각도",
                "점검 (check)",
                "대상 (subject)",
                "설명",
                "고치는 SQL (fix, not executed)",
            ],
        )
    )
