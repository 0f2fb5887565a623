"""트리아지 5: roles row-level security does not stop (BYPASSRLS, superuser), beyond Supabase's and opsbook's own."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy.engine import Connection

from opslib.fetch import QueryTiming
from opslib.results import Finding
from opslib.rls_audit.audit import audit_part, part_findings
from opslib.rls_audit.compare import frame, html_safe
from opslib.rls_audit.settings import settings

CHECKS = ("rls-audit.bypassrls_role",)


@dataclass(frozen=True)
class RoleAudit:
    roles: pd.DataFrame
    drift: pd.DataFrame
    findings: tuple[Finding, ...]
    timings: tuple[QueryTiming, ...]


def roles(conn: Connection) -> RoleAudit:
    audited = audit_part(conn, "roles", ())
    if audited.live is None:
        empty = pd.DataFrame()
        return RoleAudit(empty, empty, part_findings(audited, CHECKS), audited.timings)
    s = settings()
    rows = [
        {
            "role": r["role_name"],
            "BYPASSRLS": bool(r["bypassrls"]),
            "superuser": bool(r["superuser"]),
            "login": bool(r["can_login"]),
            "whose": {"supabase": "Supabase (expected)", "opsbook": "opsbook (roles.sql)"}.get(
                s.expected_bypass(str(r["role_name"])) or "", "기대하지 않음 (unexpected)"
            ),
        }
        for r in audited.frame.to_dict("records")
    ]
    return RoleAudit(
        html_safe(pd.DataFrame(rows)),
        frame(audited.drift.new, "드리프트 (drift)"),
        part_findings(audited, CHECKS),
        audited.timings,
    )
