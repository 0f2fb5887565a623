"""트리아지 2: SECURITY DEFINER functions in the exposed schemas: a fixed search_path, and who may call them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy.engine import Connection

from opslib.fetch import QueryTiming
from opslib.results import Finding, Severity
from opslib.rls_audit.audit import audit_part, part_findings
from opslib.rls_audit.compare import frame, html_safe
from opslib.rls_audit.rules import Gap
from opslib.rls_audit.scope import Scope

CHECKS = ("rls-audit.definer_search_path", "rls-audit.definer_execute")


@dataclass(frozen=True)
class FunctionAudit:
    functions: pd.DataFrame
    drift: pd.DataFrame
    known: pd.DataFrame
    findings: tuple[Finding, ...]
    timings: tuple[QueryTiming, ...]


def escalate(gaps: list[Gap], contract: dict[str, Any]) -> list[Gap]:
    """A contract function the contract kept the API roles off (wallet_post, credit_dt_purchase, ...) that
    they may now call is P1: its owner's rights (the money tables) are one RPC away."""
    out = []
    for g in gaps:
        was = contract["functions"].get(g.subject)
        if g.check.endswith("definer_execute") and was is not None and not set(was["executors"]) & set(g.facts):
            g = Gap(
                g.check,
                g.subject,
                Severity.P1,
                g.detail + " · 계약은 이 역할들의 실행 권한을 회수함 (the contract revoked it)",
                g.fix,
                g.facts,
            )
        out.append(g)
    return out


def functions(conn: Connection, scope: Scope) -> FunctionAudit:
    audited = audit_part(conn, "functions", scope.schemas, adjust=escalate)
    if audited.live is None:
        empty = pd.DataFrame()
        return FunctionAudit(empty, empty, empty, part_findings(audited, CHECKS), audited.timings)
    state = {g.subject: g.check.split(".")[-1] for g in audited.drift.new}
    rows = [
        {
            "function": sig,
            "search_path": f["search_path"] or "없음 (none)",
            "EXECUTE": ", ".join(f["executors"]),
            "contract": state.get(sig, "as contract"),
        }
        for sig, f in sorted(audited.live["functions"].items())
    ]
    return FunctionAudit(
        html_safe(pd.DataFrame(rows)),
        frame(audited.drift.new, "드리프트 (drift)"),
        frame(audited.drift.known, "계약의 알려진 허점 (contract's known gap)"),
        part_findings(audited, CHECKS),
        audited.timings,
    )
