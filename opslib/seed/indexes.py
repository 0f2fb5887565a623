"""Drop a table's indexes for a bulk load and rebuild them exactly as they were.

Building an index once from sorted data is far cheaper than maintaining it row by row,
especially for random keys (uuids, text) on a server with small shared_buffers. Definitions
are read from the catalog (pg_get_constraintdef / pg_indexes), never retyped, so the rebuilt
indexes and constraints are the contract's own. Constraints that a foreign key depends on
(primary keys referenced elsewhere) stay in place.
"""

from __future__ import annotations

import psycopg

# Unique/primary-key constraints no foreign key depends on, and plain indexes not backing a constraint.
DEFINITIONS = """
SELECT c.conname, format('ALTER TABLE %%s ADD CONSTRAINT %%I %%s', c.conrelid::regclass, c.conname,
                         pg_get_constraintdef(c.oid)),
       format('ALTER TABLE %%s DROP CONSTRAINT %%I', c.conrelid::regclass, c.conname)
FROM pg_constraint c
WHERE c.conrelid = %(table)s::regclass AND c.contype IN ('p', 'u')
  AND NOT EXISTS (SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND f.conindid = c.conindid)
UNION ALL
SELECT i.indexname, i.indexdef, format('DROP INDEX %%I.%%I', i.schemaname, i.indexname)
FROM pg_indexes i
WHERE format('%%I.%%I', i.schemaname, i.tablename)::regclass = %(table)s::regclass
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c
                  WHERE c.conindid = format('%%I.%%I', i.schemaname, i.indexname)::regclass)
"""


def definitions(conn: psycopg.Connection, table: str) -> list[tuple[str, str, str]]:
    """(name, statement that creates it, statement that drops it) for each droppable index of the table."""
    return [(name, create, drop) for name, create, drop in conn.execute(DEFINITIONS, {"table": table}).fetchall()]
