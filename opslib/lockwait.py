"""A page query that hit lock_timeout becomes one sentence naming the table and the session holding it.

"canceling statement due to lock timeout", repeated once per query, answers nothing; the
on-call engineer's next question is who holds the lock, since when, doing what. A plain
read takes ACCESS SHARE, which only an ACCESS EXCLUSIVE lock blocks (ALTER TABLE, TRUNCATE,
VACUUM FULL, LOCK TABLE), held or queued: those are read from pg_locks/pg_stat_activity
on a fresh connection (the failed transaction is aborted).
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy.engine import Engine

from opslib.errors import LockBlocked
from opslib.masking import mask_text, redact_text

_LITERAL = re.compile(r"'(?:[^']|'')*'")


def masked_query(query: str | None, limit: int = 120) -> str:
    """The holder's query as it may be printed: literals elided, identifiers masked, secrets redacted."""
    if not query or query.startswith("<insufficient"):
        return "not visible to this role (grant it pg_read_all_stats)"
    text = " ".join(_LITERAL.sub("'…'", query).split())
    text = redact_text(mask_text(text))[0]
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _mentions(sql: str, table: str) -> bool:
    bare = table.split(".")[-1].strip('"')
    return re.search(rf"\b{re.escape(bare)}\b", sql) is not None


def describe(engine: Engine, query_name: str, sql: str) -> LockBlocked:
    """The LockBlocked error for a query that waited too long for a lock."""
    from opslib import queries  # the named query lives with the others

    rows: list[Any] = []
    try:
        with engine.connect() as conn, conn.begin():
            conn.exec_driver_sql("SET LOCAL statement_timeout = 5000")
            rows = list(queries.run(conn, "common.lock_holders", {}).frame.itertuples(index=False))
    except Exception:  # the diagnosis must not hide the cause
        rows = []
    relevant = [r for r in rows if _mentions(sql, r.table_name)] or rows
    if not relevant:
        return LockBlocked(
            f"query {query_name} waited longer than lock_timeout for a lock, and no session holds an "
            "ACCESS EXCLUSIVE lock any more (it was released, or it was a row lock): run the page again"
        )
    r = relevant[0]
    held = f"for {int(r.held_seconds)} s" if r.held_seconds is not None and r.held_seconds == r.held_seconds else ""
    app = f"application_name '{r.application_name}'" if r.application_name else "no application_name"
    who = ", ".join(x for x in (f"pid {r.pid}", app, f"user {r.user_name}" if r.user_name else "", held) if x)
    state = "holds" if r.granted else "is queued for"
    behind = ""
    if not r.granted and r.blocked_by:
        behind = f", itself waiting behind pid {', '.join(str(p) for p in r.blocked_by)}"
    others = len({row.table_name for row in relevant}) - 1
    more = f" ({others} more table(s) locked the same way)" if others > 0 else ""
    return LockBlocked(
        f"table {r.table_name} is locked: session {who} {state} an ACCESS EXCLUSIVE lock{behind} "
        f"(query: {masked_query(r.query)}), so query {query_name} could not read it{more}; "
        "the page stopped here rather than time out on every step"
    )
