"""One cause, several checks: the labels that tie their findings together (said once, counted once).

Triage sees the orders paid at the PG and still pending in the DB; the reconciliation sees the
same orders as a status mismatch. Both findings carry the same cause and the orders they
count, so the top of the report says "N orders ...: seen by ..." once (results.group_by_cause).
"""

from __future__ import annotations

import dataclasses

import pandas as pd

from opslib.results import Finding

PAID_NOT_RECORDED = "PG 승인 · DB 미반영 (paid at the PG, not paid in the DB)"
NOT_CREDITED = "결제 완료 · DT 미적립 (paid, DT not credited)"
DOUBLE_CREDIT = "이중 적립 (DT credited more than once)"


def order_keys(frame: pd.DataFrame) -> frozenset[str]:
    """provider:order_id of each row (an order id is unique per provider only)."""
    if frame.empty or "order_id" not in frame.columns:
        return frozenset()
    providers = frame["provider"].astype(str) if "provider" in frame.columns else pd.Series("", index=frame.index)
    return frozenset(f"{p}:{o}" for p, o in zip(providers, frame["order_id"].astype(str), strict=True))


def tag(finding: Finding, cause: str, frame: pd.DataFrame) -> Finding:
    """The finding with its cause and the orders it counts (a problem only: an OK finding has no cause)."""
    if not finding.outcome.is_problem:
        return finding
    return dataclasses.replace(finding, cause=cause, cause_items=order_keys(frame))
