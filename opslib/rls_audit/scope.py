"""Which schemas an API client reaches: the page's parameter plus what PostgREST's in-database config exposes."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy.engine import Connection

from opslib.fetch import QueryTiming, fetch, timings
from opslib.results import Finding
from opslib.rls_audit.compare import html_safe
from opslib.rls_audit.settings import parse_schemas, settings


@dataclass(frozen=True)
class Scope:
    schemas: tuple[str, ...]
    table: pd.DataFrame  # schema, why it is audited (or skipped)
    sentence: str
    findings: tuple[Finding, ...]
    timings: tuple[QueryTiming, ...]


def configured_schemas(settings_rows: pd.DataFrame) -> tuple[str, ...]:
    """pgrst.db_schemas='public, api' rows -> ('public', 'api')."""
    found: list[str] = []
    for value in settings_rows.get("setting", pd.Series(dtype=object)):
        _, _, names = str(value).partition("=")
        found += [n.strip().strip('"') for n in names.split(",") if n.strip()]
    return tuple(dict.fromkeys(found))


def scope(conn: Connection, exposed_schemas: str = "") -> Scope:
    given = parse_schemas(exposed_schemas)
    got = fetch(conn, "rls_audit.exposed_config", {})
    config = configured_schemas(got.frame) if got.ok else ()
    own = settings().opsbook_schemas
    rows = []
    for name in dict.fromkeys((*given, *config)):
        why = []
        if name in given:
            why.append("parameter exposed_schemas" if exposed_schemas.strip() else "default (posture.yaml)")
        if name in config:
            why.append("pgrst.db_schemas")
        skipped = name in own
        rows.append({"schema": name, "why": " + ".join(why), "audited": not skipped})
    table = html_safe(pd.DataFrame(rows, columns=["schema", "why", "audited"]))
    schemas = tuple(table.loc[table["audited"], "schema"]) if not table.empty else ()
    note = (
        f" PostgREST config (pgrst.db_schemas) adds: {', '.join(c for c in config if c not in given)}."
        if set(config) - set(given)
        else ""
    )
    if not got.ok:
        note = f" pgrst.db_schemas could not be read ({got.error}); the parameter alone decides."
    sentence = (
        f"감사 대상 스키마 (audited schemas): {', '.join(schemas)}.{note} "
        "카탈로그만 읽음: 시간 구간과 무관 (catalogs only, not window-bound)."
    )
    return Scope(schemas, table, sentence, (), timings(got))
