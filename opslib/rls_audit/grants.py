"""트리아지 3: what anon, authenticated and PUBLIC may do to each table, view and sequence of the exposed schemas."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy.engine import Connection

from opslib.fetch import QueryTiming
from opslib.results import Finding
from opslib.rls_audit.audit import audit_part, part_findings
from opslib.rls_audit.compare import frame, html_safe
from opslib.rls_audit.scope import Scope

CHECKS = ("rls-audit.wide_grants",)


@dataclass(frozen=True)
class GrantAudit:
    grants: pd.DataFrame  # relation, grantee, privileges
    drift: pd.DataFrame
    known: pd.DataFrame
    summary: str
    findings: tuple[Finding, ...]
    timings: tuple[QueryTiming, ...]


def grants(conn: Connection, scope: Scope) -> GrantAudit:
    audited = audit_part(conn, "grants", scope.schemas, also=("tables",))
    if audited.live is None:
        empty = pd.DataFrame()
        return GrantAudit(empty, empty, empty, "", part_findings(audited, CHECKS), audited.timings)
    rows = [
        {"relation": rel, "kind": g["kind"], "grantee": role, "privileges": ", ".join(privs)}
        for rel, g in sorted(audited.live["grants"].items())
        for role, privs in sorted(g["roles"].items())
    ]
    known = len(audited.drift.known)
    summary = (
        f"계약 그대로의 넓은 권한 {known}건: Supabase 기본값 (anon/authenticated에 ALL, RLS가 행을 거름). "
        "TRUNCATE는 RLS를 무시하므로 계약의 알려진 허점입니다 "
        f"({known} wide grants exactly as the contract: Supabase's default ALL, RLS decides; TRUNCATE ignores RLS)."
        if known
        else "계약 그대로의 넓은 권한 없음 (no wide grant of the contract's kind)."
    )
    return GrantAudit(
        html_safe(pd.DataFrame(rows)),
        frame(audited.drift.new, "드리프트 (drift)"),
        frame(audited.drift.known, "계약의 알려진 허점 (contract's known gap)"),
        summary,
        part_findings(audited, CHECKS),
        audited.timings,
    )
