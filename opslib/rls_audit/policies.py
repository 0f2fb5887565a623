"""트리아지 1: policies that let anyone through (USING/WITH CHECK true), and contract policies gone or changed."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy.engine import Connection

from opslib.fetch import QueryTiming
from opslib.results import Finding
from opslib.rls_audit import baseline
from opslib.rls_audit.audit import audit_part, part_findings
from opslib.rls_audit.compare import Drift, frame, html_safe, policy_drift
from opslib.rls_audit.scope import Scope

CHECKS = ("rls-audit.permissive_policy", "rls-audit.policy_drift")


@dataclass(frozen=True)
class PolicyAudit:
    policies: pd.DataFrame  # every policy in the exposed schemas with its state against the contract
    drift: pd.DataFrame
    known: pd.DataFrame
    findings: tuple[Finding, ...]
    timings: tuple[QueryTiming, ...]


def policies(conn: Connection, scope: Scope) -> PolicyAudit:
    audited = audit_part(conn, "policies", scope.schemas)
    if audited.live is None:
        empty = pd.DataFrame()
        return PolicyAudit(empty, empty, empty, part_findings(audited, CHECKS), audited.timings)
    live = audited.live["policies"]
    contract = {
        k: v for k, v in baseline.contract()["policies"].items() if v["table"].split(".", 1)[0] in scope.schemas
    }
    # a policy already reported as open to anyone is not reported again as "changed"
    opened = {g.subject for g in audited.drift.new}
    changed = policy_drift(live, contract, opened)
    drift = Drift((*audited.drift.new, *changed), audited.drift.known, audited.drift.fixed)
    state = {g.subject: g.check.split(".")[-1] for g in drift.new}
    rows = [
        {
            "table": p["table"],
            "policy": p["name"],
            "cmd": p["cmd"],
            "roles": ", ".join(p["roles"]),
            "kind": "permissive" if p["permissive"] else "restrictive",
            "using": p["using"] or "-",
            "with check": p["check"] or "-",
            "contract": state.get(key, "as contract" if key in contract else "new"),
        }
        for key, p in sorted(live.items())
    ]
    rows += [
        {"table": p["table"], "policy": p["name"], "cmd": p["cmd"], "contract": "policy_drift (missing)"}
        for key, p in sorted(contract.items())
        if key not in live
    ]
    return PolicyAudit(
        html_safe(pd.DataFrame(rows)),
        frame(drift.new, "드리프트 (drift)"),
        frame(drift.known, "계약의 알려진 허점 (contract's known gap)"),
        part_findings(audited, CHECKS, extra=changed),
        audited.timings,
    )
