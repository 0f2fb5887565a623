"""Every rls-audit query reads catalogs only (plus storage.buckets, one row per bucket): its cost grows with
the number of tables, policies and functions, never with the app's data. Not window-bound by nature
(the posture is a state, not a series); this proves they never read an app table.
"""

from __future__ import annotations

import json

import sqlalchemy as sa

from opslib import db, queries

RLS_QUERIES = sorted(q for q in queries.catalogue() if q.startswith("rls_audit."))
ALLOWED = {"buckets"}  # storage.buckets: a handful of rows by nature


def _relations(plan: dict) -> set[str]:
    found = {plan["Relation Name"]} if "Relation Name" in plan else set()
    for child in plan.get("Plans", []):
        found |= _relations(child)
    return found


def test_every_query_reads_catalogs_only(contract_db):
    assert len(RLS_QUERIES) == 7
    with db.read_only(contract_db.reader, "rls-audit") as conn:
        for name in RLS_QUERIES:
            q = queries.get(name)
            params = {p.name: ["public", "storage"] for p in q.params}
            (row,) = conn.execute(sa.text(f"EXPLAIN (FORMAT JSON) {q.sql}"), params).fetchone()
            plan = (row if isinstance(row, list) else json.loads(row))[0]["Plan"]
            read = _relations(plan)
            assert read, name
            assert all(r.startswith("pg_") or r in ALLOWED for r in read), (name, sorted(read))
