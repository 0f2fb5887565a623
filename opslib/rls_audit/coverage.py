"""감지: RLS coverage of the exposed schemas ("94/95 테이블 적용"), tables without RLS, and RLS without a policy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy.engine import Connection

from opslib.fetch import QueryTiming
from opslib.results import Finding
from opslib.rls_audit import baseline
from opslib.rls_audit.audit import audit_part, part_findings
from opslib.rls_audit.compare import frame, html_safe
from opslib.rls_audit.rules import Gap
from opslib.rls_audit.scope import Scope
from opslib.rls_audit.settings import settings

CHECKS = ("rls-audit.rls_disabled", "rls-audit.rls_no_policy")


@dataclass(frozen=True)
class Coverage:
    covered: int | None  # tables with RLS on (None: could not read)
    total: int | None
    contract_covered: int
    contract_total: int
    headline: str  # the top of the report: "RLS 적용 23/24 테이블"
    tables: pd.DataFrame  # every table: RLS, policies, personal data, API roles reaching it, contract
    drift: pd.DataFrame  # the gaps that drifted in, with their fix SQL
    known: pd.DataFrame  # the contract's own gaps of this kind
    findings: tuple[Finding, ...]
    timings: tuple[QueryTiming, ...]


def policies_dropped(gaps: list[Gap], contract: dict[str, Any]) -> list[Gap]:
    """A contract table left with RLS and no policy because its policies were dropped: policy_drift names
    each dropped policy (with the CREATE POLICY to restore it), so it is not said a second time here."""
    had = {t for t, v in contract["tables"].items() if v["policies"] > 0}
    return [g for g in gaps if not (g.check.endswith("rls_no_policy") and g.subject in had)]


def coverage(conn: Connection, scope: Scope) -> Coverage:
    audited = audit_part(conn, "tables", scope.schemas, also=("grants",), adjust=policies_dropped)
    contract_tables = {k: v for k, v in baseline.contract()["tables"].items() if k.split(".", 1)[0] in scope.schemas}
    c_cov = sum(1 for t in contract_tables.values() if t["rls"])
    label = ", ".join(scope.schemas)
    if audited.live is None:
        headline = f"RLS 적용 테이블 수를 읽지 못함 (could not count RLS coverage in {label}): {audited.error}"
        return Coverage(
            None,
            None,
            c_cov,
            len(contract_tables),
            headline,
            pd.DataFrame(),
            pd.DataFrame(),
            pd.DataFrame(),
            part_findings(audited, CHECKS),
            audited.timings,
        )
    tables = audited.live["tables"]
    covered = sum(1 for t in tables.values() if t["rls"])
    s = settings()
    rows = []
    for name, t in sorted(tables.items()):
        held = audited.live["grants"].get(name, {}).get("roles", {})
        rows.append(
            {
                "table": name,
                "RLS": "on" if t["rls"] else "OFF",
                "forced": t["forced"],
                "policies": t["policies"],
                "personal data": ", ".join(s.personal_data.get(name, ())) or "-",
                "API roles with a grant": ", ".join(sorted(r for r, p in held.items() if p)) or "-",
                "contract": _contract_state(contract_tables.get(name)),
            }
        )
    gone = sorted(set(contract_tables) - set(tables))
    rows += [{"table": g, "RLS": "-", "contract": "계약에 있으나 없음 (missing)"} for g in gone]
    drifted = len(audited.drift.new)
    headline = f"RLS 적용 {covered}/{len(tables)} 테이블 ({label}; 계약 {c_cov}/{len(contract_tables)})" + (
        f" · 계약 이후 드리프트 {drifted}건 (drift since the contract)" if drifted else ""
    )
    return Coverage(
        covered,
        len(tables),
        c_cov,
        len(contract_tables),
        headline,
        html_safe(pd.DataFrame(rows)),
        frame(audited.drift.new, "드리프트 (drift)"),
        frame(audited.drift.known, "계약의 알려진 허점 (contract's known gap)"),
        part_findings(audited, CHECKS),
        audited.timings,
    )


def _contract_state(t: dict | None) -> str:
    if t is None:
        return "계약에 없음 (new since the contract)"
    return f"RLS {'on' if t['rls'] else 'off'}, {t['policies']} policies"
