"""The contract's own posture: contract_posture.json, generated from a database holding exactly the contract.

Regenerate after a contract change (tests/test_rls_audit_handbuilt.py fails until you do):

    python -m opslib.rls_audit            # the embedded server: a scratch contract database
    python -m opslib.rls_audit --check    # exit 1 when the shipped file is out of date
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from sqlalchemy.engine import Connection

from opslib import queries
from opslib.rls_audit import snapshot
from opslib.rls_audit.settings import settings

FILE = "contract_posture.json"


def read(conn: Connection, schemas: tuple[str, ...] | None = None) -> dict[str, Any]:
    """The posture snapshot of the database behind conn (every part; a failing query raises)."""
    wanted = schemas or settings().exposed_schemas
    snap: dict[str, Any] = {"schemas": list(wanted)}
    for part in snapshot.PARTS:
        frame = queries.run(conn, snapshot.QUERIES[part], snapshot.query_params(part, wanted)).frame
        snap[part] = snapshot.NORMALISERS[part](frame)
    return snap


def dumps(snap: dict[str, Any]) -> str:
    return json.dumps(snap, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


@cache
def contract() -> dict[str, Any]:
    return json.loads((resources.files("opslib.rls_audit") / FILE).read_text(encoding="utf-8"))


def generate() -> str:
    """Load the contract into a scratch database on the embedded server and snapshot it."""
    import uuid

    import psycopg

    from opslib import db, embedded

    name = f"rls_baseline_{uuid.uuid4().hex[:8]}"
    embedded.create_contract_database(name, replace=True, recommended_indexes=False)
    try:
        with db.read_only(embedded.url(name, user=embedded.READER_ROLE), "rls-audit") as conn:
            return dumps(read(conn))
    finally:
        with psycopg.connect(embedded.libpq_url("postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main(argv: list[str]) -> int:
    from pathlib import Path

    text = generate()
    target = Path(__file__).with_name(FILE)
    if "--check" in argv:
        same = target.read_text(encoding="utf-8") == text
        print(f"{target}: {'up to date' if same else 'OUT OF DATE: run python -m opslib.rls_audit'}")
        return 0 if same else 1
    target.write_text(text, encoding="utf-8")
    print(f"wrote {target}")
    return 0
