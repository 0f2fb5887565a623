"""Before measuring: can this role see the rows? An RLS-blind role must not report all clear."""

from __future__ import annotations

from sqlalchemy.engine import Connection

from opslib import queries
from opslib.errors import ConfigError, QueryFailed
from opslib.results import Finding, Outcome

CHECK_ID = "opsbook.role_visibility"
TITLE = "읽기 권한 / RLS 가시성 (can the role see every row?)"
SECTION = "DESIGN: read-only wall"
EXPECTED_TABLES = 20
BLIND_MARK = "RLS 때문에 행이 보이지 않음"
# The value counts tables, not rows: the contract tables missing, not granted, or hidden by RLS.
# Without a unit the OK line read as a bare "0" on every page.
UNIT = "개 테이블 읽기 불가 (tables not fully readable)"


def check(conn: Connection) -> tuple[Finding, ...]:
    try:
        frame = queries.run(conn, "common.role_visibility").frame
    except QueryFailed as exc:
        return (_finding(Outcome.ERROR, str(exc)),)
    if frame.empty:
        # not an app database at all: every step would fail the same way, 20 times over
        raise ConfigError(
            "this database has none of the app contract's tables (public.dt_purchases, payment_webhook_logs, ...): "
            "point --database-url at the application's database"
        )
    missing = EXPECTED_TABLES - len(frame)
    blind = frame[frame["rls_enabled"] & ~frame["sees_all_rows"]]
    denied = frame[~frame["can_select"]]
    problems = []
    if missing:
        problems.append(f"{missing}개 계약 테이블이 없음 (contract tables missing)")
    if not denied.empty:
        names = ", ".join(f"{s}.{t}" for s, t in zip(denied.schema_name, denied.table_name, strict=True))
        problems.append(f"SELECT 권한 없음: {names}")
    if not blind.empty:
        names = ", ".join(f"{s}.{t}" for s, t in zip(blind.schema_name, blind.table_name, strict=True))
        problems.append(f"{BLIND_MARK} (role lacks BYPASSRLS; tables would look empty): {names}")
    if problems:
        return (_finding(Outcome.ERROR, "; ".join(problems), value=len(blind) + len(denied) + missing),)
    return (_finding(Outcome.OK, f"{len(frame)}개 테이블 모두 조회 가능 (all rows visible)", value=0),)


def _finding(outcome: Outcome, detail: str, value: int | None = None) -> Finding:
    return Finding(check=CHECK_ID, outcome=outcome, section=SECTION, title=TITLE, value=value, detail=detail, unit=UNIT)


def blind_sentence(found: tuple[Finding, ...], user: str) -> str | None:
    """The one sentence that stops a page whose role cannot see through RLS (None when it can).

    Every number such a page measured would be a false all clear, and its first failure would
    name a symptom (a flag "does not exist") instead of the cause: so the page stops here.
    """
    for f in found:
        if f.check == CHECK_ID and f.outcome is Outcome.ERROR and BLIND_MARK in f.detail:
            tables = f.detail.split("tables would look empty): ", 1)[-1].split(";", 1)[0].split(", ")
            shown = ", ".join(tables[:3]) + (f" and {len(tables) - 3} more" if len(tables) > 3 else "")
            return (
                f"role {user} cannot see through row-level security (it lacks BYPASSRLS): {len(tables)} tables "
                f"({shown}) would look empty, so the page stopped before measuring; connect as opsbook_reader "
                f"(opslib/sql/roles.sql) or ALTER ROLE {user} BYPASSRLS"
            )
    return None
