"""Before measuring: can this role write anything? A reader that can write is not the wall it claims to be.

Two findings, one per source of the privilege:
- the role's own (granted to it, to a role it inherits from, owned, a role attribute, a role it may
  SET ROLE to): ERROR, naming each one. opsbook's reader must hold none; the run is not PASS
  (ERROR, or FAIL when the page also found a P0/P1), because its read-only promise rests on
  BEGIN READ ONLY alone, which anyone holding the password can undo.
- PUBLIC's (every role on the database holds them; PostgreSQL has no per-role deny, so no REVOKE
  in opslib/sql/roles.sql can take them away): listed on every page. OK while the role defaults
  to read-only transactions (every opsbook session is BEGIN READ ONLY as well), ERROR when it
  does not. Closing them is the owner's decision: opslib/sql/harden_public.sql.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from opslib import queries
from opslib.errors import QueryFailed
from opslib.results import Finding, Outcome

CHECK_ID = "opsbook.role_write_privileges"
TITLE = "쓰기 권한 자가 점검 (can the page's role write anything?)"
SECTION = "DESIGN: read-only wall"
SHOWN_OBJECTS = 60


def check(conn: Connection) -> tuple[Finding, ...]:
    try:
        frame = queries.run(conn, "common.role_write_privileges").frame
        read_only_default = conn.execute(sa.text("SELECT current_setting('default_transaction_read_only')")).scalar()
    except QueryFailed as exc:
        return (_finding(Outcome.ERROR, "role", f"쓰기 권한을 확인하지 못함 (could not list write privileges): {exc}"),)
    user = str(conn.execute(sa.text("SELECT current_user")).scalar())
    own = frame[frame["via"] == "role"]
    public = frame[frame["via"] == "PUBLIC"]
    found = [_own_finding(user, own)]
    if not public.empty:
        found.append(_public_finding(public, read_only_default == "on"))
    return tuple(found)


def _own_finding(user: str, own: pd.DataFrame) -> Finding:
    if own.empty:
        return _finding(Outcome.OK, "role", f"역할 {user}: 자체 쓰기 권한 없음 (no write privilege of its own)", 0)
    detail = (
        f"역할 {user}에 쓰기 권한 {len(own)}개 (the role itself can write; the page's read-only promise rests on "
        f"BEGIN READ ONLY alone; revoke them, or re-run opslib/sql/roles.sql for opsbook_reader): {describe(own)}"
    )
    return _finding(Outcome.ERROR, "role", detail, len(own))


def _public_finding(public: pd.DataFrame, read_only_default: bool) -> Finding:
    guard = (
        "이 역할은 기본 읽기 전용 트랜잭션 (default_transaction_read_only = on) and every opsbook session is "
        "BEGIN READ ONLY, so these cannot be used by accident; a deliberate BEGIN READ WRITE still can"
        if read_only_default
        else "이 역할은 기본 읽기 전용이 아님 (default_transaction_read_only is off for this role: nothing but "
        "opsbook's own BEGIN READ ONLY stands between it and these; "
        "ALTER ROLE ... SET default_transaction_read_only = on)"
    )
    detail = (
        f"PUBLIC (모든 역할) 쓰기 권한 {len(public)}개, which no per-role REVOKE can take away; {guard}. "
        f"The owner closes them with opslib/sql/harden_public.sql: {describe(public)}"
    )
    return _finding(Outcome.OK if read_only_default else Outcome.ERROR, "PUBLIC", detail, len(public))


# the root causes first: a role attribute or membership explains the grants listed after it
KIND_ORDER = ("role attribute", "role", "database", "schema", "table", "view", "sequence", "function")


def describe(rows: pd.DataFrame) -> str:
    """'INSERT, DELETE on table net.http_request_queue; EXECUTE on function net.http_get(...)', by object."""
    parts = []
    rank = {k: i for i, k in enumerate(KIND_ORDER)}
    grouped = rows.groupby(["kind", "object"], sort=False)["privilege"].apply(lambda p: ", ".join(sorted(p)))
    for (kind, obj), privs in sorted(grouped.items(), key=lambda kv: (rank.get(kv[0][0], 99), kv[0][1])):
        parts.append(f"{privs} on {kind} {obj}")
    shown = parts[:SHOWN_OBJECTS]
    more = f"; … {len(parts) - len(shown)} more (query common.role_write_privileges)" if len(parts) > len(shown) else ""
    return "; ".join(shown) + more


def own_privileges(found: Iterable[Finding]) -> Finding | None:
    """The finding that says the role itself can write, if it can."""
    return next((f for f in found if f.check == CHECK_ID and f.subject == "role" and f.outcome is Outcome.ERROR), None)


def _finding(outcome: Outcome, subject: str, detail: str, value: int | None = None) -> Finding:
    return Finding(
        check=CHECK_ID, outcome=outcome, section=SECTION, title=TITLE, subject=subject, value=value, detail=detail
    )
