"""The database's security posture read from its catalogs, as plain comparable data.

The same functions turn the live database's catalog rows and the contract's into one shape
(contract_posture.json is this shape, generated from a database holding exactly the contract),
so the audit compares like with like. Expressions are kept as the server deparses them, with
layout removed (lower case, no whitespace or parentheses), as the messaging page compares them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from opslib.rls_audit.settings import settings

PARTS = ("tables", "policies", "functions", "grants", "buckets", "roles")


def normalise(expr: object) -> str | None:
    if not isinstance(expr, str) or not expr:
        return None  # None, or NaN where pandas filled a missing expression
    return re.sub(r"[\s()]", "", expr.lower())


def _names(value: object) -> list[str]:
    if isinstance(value, str):
        value = value.strip("{}").split(",")
    if not isinstance(value, Iterable):
        return []
    return sorted({str(v).strip().strip('"') for v in value if str(v).strip()})


def _own(schema: object) -> bool:
    return str(schema) in settings().opsbook_schemas


def _flag(value: object) -> bool:
    return bool(value) if value is not None and not (isinstance(value, float) and pd.isna(value)) else False


def tables(frame: pd.DataFrame) -> dict[str, dict[str, Any]]:
    return {
        f"{r['schema_name']}.{r['table_name']}": {
            "rls": _flag(r["rls_enabled"]),
            "forced": _flag(r["rls_forced"]),
            "policies": int(r["policies"]),
        }
        for r in frame.to_dict("records")
        if not _own(r["schema_name"])
    }


def policies(frame: pd.DataFrame) -> dict[str, dict[str, Any]]:
    return {
        f"{r['schema_name']}.{r['table_name']}: {r['policy']}": {
            "table": f"{r['schema_name']}.{r['table_name']}",
            "name": str(r["policy"]),
            "cmd": str(r["cmd"]).upper(),
            "roles": [n.lower() if n.lower() == "public" else n for n in _names(r["roles"])],
            "permissive": str(r["permissive"]).upper() == "PERMISSIVE",
            "using": normalise(r["using_expr"]),
            "check": normalise(r["check_expr"]),
        }
        for r in frame.to_dict("records")
        if not _own(r["schema_name"])
    }


def functions(frame: pd.DataFrame) -> dict[str, dict[str, Any]]:
    return {
        f"{r['schema_name']}.{r['function_name']}({r['arguments']})": {
            "search_path": r["search_path"] if isinstance(r["search_path"], str) else None,
            "executors": _names(r["executors"]),
        }
        for r in frame.to_dict("records")
        if not _own(r["schema_name"])
    }


def grants(frame: pd.DataFrame) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for r in frame.to_dict("records"):
        if _own(r["schema_name"]):
            continue
        entry = out.setdefault(f"{r['schema_name']}.{r['table_name']}", {"kind": str(r["kind"]), "roles": {}})
        entry["roles"][str(r["grantee"])] = _names(r["privileges"])
    return out


def buckets(frame: pd.DataFrame) -> dict[str, bool]:
    # storage.buckets.public is nullable: only true serves objects publicly
    return {str(r["bucket_id"]): r["public"] is True or str(r["public"]) == "True" for r in frame.to_dict("records")}


def roles(frame: pd.DataFrame) -> dict[str, dict[str, bool]]:
    return {
        str(r["role_name"]): {
            "bypassrls": _flag(r["bypassrls"]),
            "superuser": _flag(r["superuser"]),
            "login": _flag(r["can_login"]),
        }
        for r in frame.to_dict("records")
        if str(r["role_name"]) not in settings().opsbook_roles
    }


NORMALISERS = {
    "tables": tables,
    "policies": policies,
    "functions": functions,
    "grants": grants,
    "buckets": buckets,
    "roles": roles,
}

QUERIES = {
    "tables": "rls_audit.tables",
    "policies": "rls_audit.policies",
    "functions": "rls_audit.definer_functions",
    "grants": "rls_audit.table_grants",
    "buckets": "rls_audit.buckets",
    "roles": "rls_audit.privileged_roles",
}


def query_params(part: str, schemas: Iterable[str]) -> Mapping[str, Any]:
    return {} if part in ("buckets", "roles") else {"schemas": list(schemas)}
