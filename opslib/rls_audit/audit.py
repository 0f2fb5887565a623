"""One part of the posture audited: read it from the catalogs, find its gaps, tell drift from the contract's own."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy.engine import Connection

from opslib.fetch import QueryTiming, fetch, timings
from opslib.results import Finding
from opslib.rls_audit import baseline, rules, snapshot
from opslib.rls_audit.compare import Drift, classify, findings
from opslib.rls_audit.rules import Gap


@dataclass(frozen=True)
class PartAudit:
    """What one part of the catalogs says, and how it differs from the contract."""

    part: str
    live: dict[str, Any] | None  # the parts read (snapshot.py shape); None: a query failed (error says why)
    frame: pd.DataFrame
    drift: Drift
    error: str | None
    timings: tuple[QueryTiming, ...]


def audit_part(
    conn: Connection,
    part: str,
    schemas: Sequence[str],
    *,
    also: Sequence[str] = (),
    adjust: Callable[[list[Gap], dict[str, Any]], list[Gap]] | None = None,
) -> PartAudit:
    """also: the other parts this part's rules look at (RLS needs the grants to know who reaches a table)."""
    got = [fetch(conn, snapshot.QUERIES[p], snapshot.query_params(p, schemas)) for p in (part, *also)]
    contract = baseline.contract()
    failed = [g.error for g in got if not g.ok]
    if failed:
        return PartAudit(part, None, got[0].frame, Drift((), (), ()), "; ".join(str(f) for f in failed), timings(*got))
    live: dict[str, Any] = {"tables": {}, "grants": {}}
    for p, g in zip((part, *also), got, strict=True):
        live[p] = snapshot.NORMALISERS[p](g.frame)
    return PartAudit(part, live, got[0].frame, _drift(part, live, contract, adjust), None, timings(*got))


def _drift(
    part: str,
    live: dict[str, Any],
    contract: dict[str, Any],
    adjust: Callable[[list[Gap], dict[str, Any]], list[Gap]] | None,
) -> Drift:
    gap_rules = rules.RULES[part]
    live_gaps = [g for rule in gap_rules for g in rule(live)]
    contract_gaps = [g for rule in gap_rules for g in rule(contract)]
    if adjust is not None:
        live_gaps = adjust(live_gaps, contract)
    return classify(live_gaps, contract_gaps)


def part_findings(audit: PartAudit, check_ids: Sequence[str], extra: Sequence[Gap] = ()) -> tuple[Finding, ...]:
    return findings(check_ids, [*audit.drift.new, *extra], error=audit.error, known=audit.drift.known)
