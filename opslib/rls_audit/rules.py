"""The audit's rules: every security gap in one posture snapshot, with its severity and the SQL that closes it.

Pure functions of a snapshot (snapshot.py's shape), run on the live database and on the contract
alike: a gap the contract itself has is its known posture; a gap only the live database has, or one
that got worse, is drift (compare.py). The fix is a suggestion for a migration, never executed here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from opslib.results import Severity
from opslib.rls_audit.settings import Settings, settings

CHECK_PREFIX = "rls-audit."
WRITE_COMMANDS = ("INSERT", "UPDATE", "DELETE", "ALL")
# TRUNCATE is not subject to row-level security: a role holding it can empty the table whatever the policies say
BEYOND_SELECT = ("INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER", "MAINTAIN")


@dataclass(frozen=True)
class Gap:
    """One security gap: which rule, on what, how bad, and the SQL that would close it."""

    check: str  # rls-audit.<rule>
    subject: str
    severity: Severity
    detail: str
    fix: str
    facts: frozenset[str] = field(default_factory=frozenset)  # what a worse version of it adds (roles, privileges)

    @property
    def key(self) -> tuple[str, str]:
        return self.check, self.subject


def ident(name: str) -> str:
    """A SQL identifier, quoted only when it must be (as PostgreSQL's quote_ident)."""
    if re.fullmatch(r"[a-z_][a-z0-9_$]*", name):
        return name
    return '"' + name.replace('"', '""') + '"'


def grantee(role: str) -> str:
    return "PUBLIC" if role.upper() == "PUBLIC" else ident(role)


def qualified(dotted: str) -> str:
    schema, _, name = dotted.partition(".")
    return f"{ident(schema)}.{ident(name)}"


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _api(roles: list[str], s: Settings) -> list[str]:
    wanted = {r.lower() for r in s.api_roles}
    return [r for r in roles if r.lower() in wanted]


def _reachable(table: str, snap: Mapping[str, Any], s: Settings) -> list[str]:
    """The API roles holding any privilege on the table."""
    held = snap.get("grants", {}).get(table, {}).get("roles", {})
    return sorted(r for r, privs in held.items() if privs and r in s.api_roles)


def rls_gaps(snap: Mapping[str, Any], s: Settings | None = None) -> list[Gap]:
    s = s or settings()
    out = []
    for table, t in sorted(snap.get("tables", {}).items()):
        personal = s.is_personal(table)
        reach = _reachable(table, snap, s)
        if not t["rls"]:
            sev = Severity.P0 if personal and reach else Severity.P1 if reach else Severity.P3
            who = ", ".join(reach) if reach else "no API role holds a privilege"
            what = "개인정보 테이블 (personal data)" if personal else "테이블"
            out.append(
                Gap(
                    CHECK_PREFIX + "rls_disabled",
                    table,
                    sev,
                    f"{what}에 RLS 꺼짐: 노출 스키마의 모든 행을 {who}가 권한대로 읽고 쓸 수 있음 "
                    f"(row-level security off; {who} reach every row)",
                    f"ALTER TABLE {qualified(table)} ENABLE ROW LEVEL SECURITY;  "
                    "-- first make sure the policies the app needs exist, or clients lose access",
                    frozenset(reach),
                )
            )
        elif t["policies"] == 0:
            out.append(
                Gap(
                    CHECK_PREFIX + "rls_no_policy",
                    table,
                    Severity.P3,
                    "RLS 켜짐, 정책 없음: API 역할에는 전부 거부 (deny-all for anon/authenticated; service_role only). "
                    "의도라면 권한도 회수 (if intended, revoke the grants too)",
                    f"REVOKE ALL ON {qualified(table)} FROM anon, authenticated;  "
                    f"-- or CREATE POLICY ... ON {qualified(table)} for what clients must see",
                )
            )
    return out


def _is_true(expr: str | None) -> bool:
    return expr == "true"


def policy_gaps(snap: Mapping[str, Any], s: Settings | None = None) -> list[Gap]:
    s = s or settings()
    out = []
    for key, p in sorted(snap.get("policies", {}).items()):
        if not p["permissive"]:
            continue  # a RESTRICTIVE true narrows nothing and opens nothing
        roles = _api(p["roles"], s)
        if not roles:
            continue
        # INSERT has no USING; a missing WITH CHECK on UPDATE/ALL falls back to USING
        opens_read = _is_true(p["using"]) and p["cmd"] in ("SELECT", "ALL", "UPDATE", "DELETE")
        opens_write = p["cmd"] in WRITE_COMMANDS and (
            _is_true(p["check"]) or (p["check"] is None and _is_true(p["using"]))
        )
        if not (opens_read or opens_write):
            continue
        personal = s.is_personal(p["table"])
        anyone = any(r.lower() in ("anon", "public") for r in roles)
        if personal and anyone:
            sev = Severity.P0
        elif personal or opens_write:
            sev = Severity.P1
        else:
            sev = Severity.P3
        what = "개인정보 테이블 (personal data)" if personal else "테이블"
        out.append(
            Gap(
                CHECK_PREFIX + "permissive_policy",
                key,
                sev,
                f"{what}의 {p['cmd']} 정책이 조건 없이 true: {', '.join(roles)} 누구나 모든 행 "
                f"(USING/WITH CHECK true for {', '.join(roles)})",
                f"DROP POLICY {ident(p['name'])} ON {qualified(p['table'])};  "
                f"-- then CREATE POLICY {ident(p['name'])} ON {qualified(p['table'])} FOR {p['cmd']} "
                f"TO {', '.join(grantee(r) for r in roles)} USING (<owner column> = (select auth.uid()))",
                frozenset([*roles, p["cmd"]]),
            )
        )
    return out


def function_gaps(snap: Mapping[str, Any], s: Settings | None = None) -> list[Gap]:
    s = s or settings()
    out = []
    for sig, f in sorted(snap.get("functions", {}).items()):
        callers = _api(f["executors"], s)
        if f["search_path"] is None:
            sev = Severity.P1 if callers else Severity.P2
            who = ", ".join(callers) if callers else "no API role"
            out.append(
                Gap(
                    CHECK_PREFIX + "definer_search_path",
                    sig,
                    sev,
                    f"SECURITY DEFINER인데 search_path 고정 없음: 호출자가 자기 객체로 소유자 권한을 가로챌 수 있음 "
                    f"(no fixed search_path; EXECUTE: {who})",
                    f"ALTER FUNCTION {_function(sig)} SET search_path = '';  -- and schema-qualify every name inside",
                    frozenset(callers),
                )
            )
        elif callers:
            out.append(
                Gap(
                    CHECK_PREFIX + "definer_execute",
                    sig,
                    Severity.P3,
                    f"SECURITY DEFINER 함수를 API 역할이 실행 가능 "
                    f"(runs with its owner's rights for {', '.join(callers)})",
                    f"REVOKE EXECUTE ON FUNCTION {_function(sig)} FROM {', '.join(grantee(c) for c in callers)};",
                    frozenset(callers),
                )
            )
    return out


def _function(sig: str) -> str:
    name, _, args = sig.partition("(")
    return f"{qualified(name)}({args}"


def grant_gaps(snap: Mapping[str, Any], s: Settings | None = None) -> list[Gap]:
    """Privileges of anon/authenticated/PUBLIC wider than SELECT, and SELECT on personal data.

    A table with RLS off is the rls_disabled gap already (the grants are what it exposes): not twice.
    """
    s = s or settings()
    out = []
    tables = snap.get("tables", {})
    for table, g in sorted(snap.get("grants", {}).items()):
        t = tables.get(table)
        if t is not None and not t["rls"]:
            continue
        personal = s.is_personal(table)
        view = g["kind"] in ("v", "m")
        for role, privs in sorted(g["roles"].items()):
            if role not in s.api_roles:
                continue
            wide = [p for p in privs if p in BEYOND_SELECT]
            # authenticated needs SELECT for its own rows (the policies scope it); anon and PUBLIC do not
            reads = "SELECT" in privs and (view or (personal and role in ("anon", "PUBLIC")))
            if not wide and not reads:
                continue
            if view and "SELECT" in privs:
                sev = Severity.P2  # a view runs as its owner: RLS of the tables under it does not apply
            elif "TRUNCATE" in wide:
                sev = Severity.P2
            else:
                sev = Severity.P3
            shown = wide + (["SELECT"] if reads else [])
            why = (
                "뷰는 소유자 권한으로 실행: 아래 테이블의 RLS가 적용되지 않음 (a view bypasses RLS)"
                if view
                else "TRUNCATE는 RLS를 무시함 (TRUNCATE ignores RLS)"
                if "TRUNCATE" in wide
                else "RLS 정책이 행을 거르지만 권한 자체가 넓음 (RLS filters rows; the grant is wider than needed)"
            )
            out.append(
                Gap(
                    CHECK_PREFIX + "wide_grants",
                    f"{table} → {role}",
                    sev,
                    f"{role}: {', '.join(shown)} · {why}",
                    f"REVOKE {', '.join(shown)} ON {qualified(table)} FROM {grantee(role)};",
                    frozenset(shown),
                )
            )
    return out


def bucket_gaps(snap: Mapping[str, Any], s: Settings | None = None) -> list[Gap]:
    s = s or settings()
    out = []
    for bucket, public in sorted(snap.get("buckets", {}).items()):
        if not public:
            continue
        personal = bucket in s.personal_buckets
        out.append(
            Gap(
                CHECK_PREFIX + "public_bucket",
                bucket,
                Severity.P0 if personal else Severity.P1,
                ("개인 미디어 버킷이 public: URL만 있으면 누구나 (personal media served to anyone with the URL)")
                if personal
                else "public 버킷: 파일을 RLS 없이 공개 URL로 제공 (objects served by public URL, no RLS)",
                f"UPDATE storage.buckets SET public = false WHERE id = {literal(bucket)};  "
                f"-- guarded: opsbook action storage-bucket-private --target {bucket}",
            )
        )
    return out


def role_gaps(snap: Mapping[str, Any], s: Settings | None = None) -> list[Gap]:
    s = s or settings()
    out = []
    for role, r in sorted(snap.get("roles", {}).items()):
        if s.expected_bypass(role) is not None or not (r["bypassrls"] or r["superuser"]):
            continue
        what = "SUPERUSER" if r["superuser"] else "BYPASSRLS"
        fix = f"ALTER ROLE {ident(role)} NO{what};"
        out.append(
            Gap(
                CHECK_PREFIX + "bypassrls_role",
                role,
                Severity.P1,
                f"{what}: 모든 테이블의 모든 행을 RLS 없이 봄 (sees every row of every table)"
                + (" · 로그인 가능 (can log in)" if r["login"] else ""),
                fix,
                frozenset([what] + (["LOGIN"] if r["login"] else [])),
            )
        )
    return out


RULES = {
    "tables": (rls_gaps,),
    "policies": (policy_gaps,),
    "functions": (function_gaps,),
    "grants": (grant_gaps,),
    "buckets": (bucket_gaps,),
    "roles": (role_gaps,),
}


def all_gaps(snap: Mapping[str, Any], s: Settings | None = None) -> list[Gap]:
    return [g for rules in RULES.values() for rule in rules for g in rule(snap, s)]
