"""EXPLAIN every named query: is its cost bound by the window (index) or by the table (seq scan)?"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from opslib import queries

# Tables small by nature: a sequential scan over them does not grow with traffic.
SMALL_TABLES = {
    "feature_flags",
    "banners",
    "dt_packages",
    "wallet_accounts",
    "reconciliation_runs",
    "cron_job",
    "job",
    "buckets",
    "user_profiles",
    "pg_class",
    "pg_roles",
    "pg_namespace",
    "pg_authid",
    "secrets",
    "reconciliation_items",
}


@dataclass(frozen=True)
class PlanClass:
    query: str
    plan_class: str  # "index" | "full index scan: <tables>" | "seq scan (small tables)" | "seq scan: <tables>"
    seq_scanned: tuple[str, ...]
    index_scanned: tuple[str, ...]
    total_cost: float


def _nodes(plan: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    yield plan
    for child in plan.get("Plans", []) or []:
        yield from _nodes(child)


def classify(query: str, plan_json: Mapping[str, Any]) -> PlanClass:
    root = plan_json["Plan"]
    seq: list[str] = []
    idx: list[str] = []
    full: list[str] = []
    for node in _nodes(root):
        kind = node.get("Node Type", "")
        rel = node.get("Relation Name")
        if not rel:
            continue
        if kind == "Seq Scan":
            seq.append(rel)
        elif kind in ("Index Scan", "Index Only Scan") and "Index Cond" not in node:
            # An index read end to end (for its order or its columns) grows with the table.
            full.append(rel)
        elif "Index" in kind or kind == "Bitmap Heap Scan":
            idx.append(rel)
    big = sorted({t for t in seq if t not in SMALL_TABLES})
    full_big = sorted({t for t in full if t not in SMALL_TABLES})
    if big:
        label = "seq scan: " + ", ".join(big)
    elif full_big:
        label = "full index scan: " + ", ".join(full_big)
    elif seq:
        label = "index" if idx else "seq scan (small tables)"
    else:
        label = "index" if idx else "no table scan"
    return PlanClass(query, label, tuple(sorted(set(seq))), tuple(sorted(set(idx))), float(root.get("Total Cost", 0.0)))


def sample_parameters(
    q: queries.Query, since: datetime, until: datetime, overrides: Mapping[str, Any]
) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for p in q.params:
        if p.name in overrides:
            values[p.name] = overrides[p.name]
        elif p.type == "timestamptz":
            values[p.name] = until if "until" in p.name or "end" in p.name or p.name == "now" else since
        elif p.type in ("int", "bigint", "numeric"):
            values[p.name] = 5
        elif p.type == "interval":
            values[p.name] = timedelta(minutes=5)
        elif p.type == "bool":
            values[p.name] = True
        elif p.type.endswith("[]"):
            values[p.name] = []
        else:
            values[p.name] = ""
    return values


def explain_domain(
    conn: Connection, domain: str, since: datetime, until: datetime, overrides: Mapping[str, Any] | None = None
) -> list[PlanClass]:
    out = []
    for name, q in sorted(queries.catalogue().items()):
        if q.domain != domain:
            continue
        params = sample_parameters(q, since, until, overrides or {})
        row = conn.execute(sa.text("EXPLAIN (FORMAT JSON) " + q.sql), params).scalar()
        out.append(classify(name, row[0]))
    return out
