"""What the contract (opslib/contract/*.sql) says storage should look like: buckets and policies.

Parsed from the shipped SQL, never typed in here: the page compares the live database with
the same files the database was built from. Expressions are compared by what they name (the
bucket literals and the functions they call), because the server deparses them in its own
words (`bucket_id = 'avatars'` comes back as `(bucket_id = 'avatars'::text)`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

CONTRACT_FILES = ("10_supabase_system.sql", "20_app.sql")

_BUCKETS = re.compile(r"INSERT INTO storage\.buckets\s*\(([^)]*)\)\s*VALUES(.*?);", re.S | re.I)
_TUPLE = re.compile(
    r"\(\s*('(?:[^']|'')*'(?:\s*,\s*(?:'(?:[^']|'')*'|true|false|null|\d+|ARRAY\[[^\]]*\]))*)\s*\)", re.I
)
_VALUE = re.compile(r"'(?:[^']|'')*'|true|false|null|\d+|ARRAY\[[^\]]*\]", re.I)
_POLICY = re.compile(
    r'CREATE POLICY\s+"(?P<name>[^"]+)"\s+ON\s+storage\.(?P<table>objects|buckets)\s+'
    r"(?:AS\s+(?P<kind>PERMISSIVE|RESTRICTIVE)\s+)?"
    r"(?:FOR\s+(?P<cmd>ALL|SELECT|INSERT|UPDATE|DELETE)\s+)?"
    r"(?:TO\s+(?P<roles>[\w\s,]+?)\s+)?"
    r"(?P<rest>(?:USING|WITH CHECK)\b.*?);",
    re.S | re.I,
)
_LITERAL = re.compile(r"'((?:[^']|'')*)'")
_FUNCTION = re.compile(r"([A-Za-z_][\w]*)\s*\(")
# SQL words followed by "(" that are not functions
_NOT_FUNCTIONS = {
    *("and", "or", "not", "in", "any", "all", "exists", "select", "where", "on", "as", "using", "check"),
    *("from", "join", "case", "when", "then", "else", "values", "array", "is", "distinct", "like"),
}


@dataclass(frozen=True)
class BucketSpec:
    id: str
    public: bool
    file_size_limit: int | None
    allowed_mime_types: tuple[str, ...] | None


@dataclass(frozen=True)
class PolicySpec:
    name: str
    table: str
    cmd: str  # ALL | SELECT | INSERT | UPDATE | DELETE
    roles: tuple[str, ...]  # sorted; ('public',) when the policy names none
    permissive: bool
    using: str
    with_check: str

    @property
    def fingerprint(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        return fingerprint(self.using), fingerprint(self.with_check)


def fingerprint(expression: object) -> tuple[str, ...]:
    """What an expression names: its string literals and the functions it calls (schema dropped).

    Equal for the contract's source text and the server's deparse of the same expression; a
    policy rewritten to `USING (true)` or pointed at another bucket or function differs.
    """
    if not isinstance(expression, str) or not expression:
        return ()  # None, or NaN from a frame: no clause
    literals = {f"'{m}'" for m in _LITERAL.findall(expression)}
    text = _LITERAL.sub("''", expression)
    functions = {f.lower() + "()" for f in _FUNCTION.findall(text) if f.lower() not in _NOT_FUNCTIONS}
    return tuple(sorted(literals | functions))


def _split_clauses(rest: str) -> tuple[str, str]:
    """USING (...) and WITH CHECK (...) bodies of a CREATE POLICY tail."""
    using, check = "", ""
    for keyword in ("USING", "WITH CHECK"):
        match = re.search(rf"\b{keyword}\s*\(", rest, re.I)
        if not match:
            continue
        depth, start = 0, match.end() - 1
        for i in range(start, len(rest)):
            if rest[i] == "(":
                depth += 1
            elif rest[i] == ")":
                depth -= 1
                if depth == 0:
                    body = rest[start + 1 : i]
                    if keyword == "USING":
                        using = body
                    else:
                        check = body
                    break
    return using, check


def _value(token: str) -> object:
    low = token.lower()
    if low in ("true", "false"):
        return low == "true"
    if low == "null":
        return None
    if token.startswith("'"):
        return token[1:-1].replace("''", "'")
    if low.startswith("array["):
        return tuple(m.replace("''", "'") for m in _LITERAL.findall(token))
    return int(token)


def _strip_comments(sql: str) -> str:
    return re.sub(r"--[^\n]*", "", sql)


def parse_buckets(sql: str) -> tuple[BucketSpec, ...]:
    out: list[BucketSpec] = []
    for columns, values in _BUCKETS.findall(_strip_comments(sql)):
        names = [c.strip().lower() for c in columns.split(",")]
        for row in _TUPLE.finditer(values):
            fields = dict(zip(names, (_value(v) for v in _VALUE.findall(row.group(1))), strict=False))
            limit = fields.get("file_size_limit")
            mimes = fields.get("allowed_mime_types")
            out.append(
                BucketSpec(
                    id=str(fields["id"]),
                    public=bool(fields.get("public", False)),
                    file_size_limit=int(limit) if isinstance(limit, int) else None,
                    allowed_mime_types=tuple(mimes) if isinstance(mimes, tuple) else None,
                )
            )
    return tuple(out)


def parse_policies(sql: str) -> tuple[PolicySpec, ...]:
    out: list[PolicySpec] = []
    for m in _POLICY.finditer(_strip_comments(sql)):
        using, check = _split_clauses(m.group("rest"))
        roles = tuple(sorted(r.strip().lower() for r in (m.group("roles") or "public").split(",") if r.strip()))
        out.append(
            PolicySpec(
                name=m.group("name"),
                table=m.group("table").lower(),
                cmd=(m.group("cmd") or "ALL").upper(),
                roles=roles,
                permissive=(m.group("kind") or "PERMISSIVE").upper() == "PERMISSIVE",
                using=" ".join(using.split()),
                with_check=" ".join(check.split()),
            )
        )
    return tuple(out)


@cache
def contract_sql() -> str:
    folder = resources.files("opslib") / "contract"
    return "\n".join((folder / name).read_text(encoding="utf-8") for name in CONTRACT_FILES)


@cache
def expected_buckets() -> tuple[BucketSpec, ...]:
    return parse_buckets(contract_sql())


@cache
def expected_policies() -> tuple[PolicySpec, ...]:
    return parse_policies(contract_sql())
