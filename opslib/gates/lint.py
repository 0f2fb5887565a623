"""`opsbook lint-migrations`: migration safety rules (runbook §5) over SQL parsed by PostgreSQL's own parser.

Statements come from pglast (libpg_query), comments from its scanner: a `DROP TABLE` inside a
comment or a dollar-quoted function body is not a statement, and `--` inside a string is not a
comment. Regular expressions only ever read comment text (waivers, plans) and, through
opslib.masking, string constants (secret-looking literals).

Conventions (README "Migration safety lint"):
- waiver: a comment just before the statement (or after it on its own line)
  `-- opsbook-lint: ignore <rule-id>[, <rule-id>] -- <reason>`; no reason, no waiver.
- rollback/backfill plan: comment lines `-- rollback: <how>` and `-- backfill: <how>` anywhere in
  the file (롤백: / 백필: too); a sibling `<name>.down.sql` counts as the rollback plan.
- files are read in path order, as a migration tool applies them: a NOT VALID CHECK validated in an
  earlier file of the same run counts for SET NOT NULL in a later one; a table created in an earlier
  file is an existing table in a later one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources
from pathlib import Path

from pglast import ast, enums, parse_sql, parser

from opslib.gates.rules import Level, RuleBook, load
from opslib.masking import find_secrets, redact_text

_WAIVER = re.compile(
    r"opsbook-lint:\s*ignore\s+(?P<rules>[\w-]+(?:\s*,\s*[\w-]+)*)\s*(?:(?:--|—|:)\s*(?P<reason>.*))?", re.IGNORECASE
)
_PLAN_LINE = re.compile(
    r"^(?P<kind>rollback|backfill|롤백|백필)(?:\s*(?:plan|플랜|계획))?\s*:\s*(?P<text>.*)$", re.IGNORECASE
)
_PLACEHOLDERS = {"", "-", "todo", "tbd", "n/a", "na", "none", "?", "...", "…", "tk", "없음"}
MIN_REASON = 10  # characters: "safe" or "ok" is not a reason a reviewer can check
_COMMENT_TOKENS = {"SQL_COMMENT", "C_COMMENT"}
_STRING_TOKENS = {"SCONST", "USCONST", "BCONST", "XCONST", "IDENT", "UIDENT"}


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: Level
    path: str
    line: int
    column: int
    statement: str  # one line, secrets redacted
    message: str
    waived: str | None = None  # the waiver's reason

    @property
    def blocks(self) -> bool:
        return self.waived is None


@dataclass(frozen=True)
class Plan:
    rollback: str | None
    backfill: str | None

    @property
    def complete(self) -> bool:
        return bool(self.rollback and self.backfill)

    def missing(self) -> list[str]:
        return [k for k, v in (("rollback", self.rollback), ("backfill", self.backfill)) if not v]


@dataclass(frozen=True)
class FileReport:
    path: str
    statements: int
    findings: tuple[Finding, ...]
    plan: Plan
    error: str | None = None  # the file could not be read or parsed: nothing in it was judged


@dataclass(frozen=True)
class LintReport:
    files: tuple[FileReport, ...]

    @property
    def findings(self) -> list[Finding]:
        return [f for fr in self.files for f in fr.findings]

    @property
    def errors(self) -> list[FileReport]:
        return [fr for fr in self.files if fr.error]

    def counts(self) -> dict[str, int]:
        live = [f for f in self.findings if f.blocks]
        return {
            "files": len(self.files),
            "statements": sum(fr.statements for fr in self.files),
            "error": sum(f.severity is Level.ERROR for f in live),
            "warning": sum(f.severity is Level.WARNING for f in live),
            "waived": sum(not f.blocks for f in self.findings),
            "unparsable": len(self.errors),
        }

    def exit_code(self, fail_on: Level = Level.ERROR) -> int:
        """4 a file could not be judged, 1 an unwaived finding at fail_on or worse, 0 otherwise."""
        if self.errors:
            return 4
        c = self.counts()
        blocking = c["error"] + (c["warning"] if fail_on is Level.WARNING else 0)
        return 1 if blocking else 0


@dataclass(frozen=True)
class _Waiver:
    rules: tuple[str, ...]
    reason: str
    line: int
    column: int


@dataclass
class _Statement:
    index: int
    node: ast.Node
    start: int
    end: int
    waivers: list[_Waiver] = field(default_factory=list)


@dataclass
class _RunState:
    """What earlier files of the same run established (applied in path order)."""

    tables: dict[str, tuple[str, ...]] = field(default_factory=dict)  # table -> columns (contract + created)
    user_id_columns: dict[str, set[str]] = field(default_factory=dict)  # table -> columns referencing auth.users
    not_null_checks: set[tuple[str, str]] = field(default_factory=set)  # (table, column) with a validated CHECK
    pending_checks: dict[tuple[str, str], str] = field(default_factory=dict)  # (table, conname) -> column


# --- entry points -----------------------------------------------------------------------------


def migration_files(paths: Iterable[str | Path]) -> list[Path]:
    """The .sql files named or found under the given paths, in path order (the order migrations apply).
    Raises FileNotFoundError for a path that does not exist."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(q for q in p.rglob("*.sql") if q.is_file()))
        elif p.exists():
            out.append(p)
        else:
            raise FileNotFoundError(str(p))
    seen: set[Path] = set()
    return [p for p in out if not (p in seen or seen.add(p))]


def lint_paths(
    paths: Sequence[str | Path], book: RuleBook | None = None, context: Sequence[str | Path] = ()
) -> LintReport:
    """Lint the migrations under paths. Migrations under context that are not linted themselves and sort
    (by file name) before the first linted one are read first for what they establish (tables and
    their columns, validated CHECKs), not reported: a CI job linting only a PR's new migrations still
    knows the schema the earlier ones built."""
    book = book or load()
    state = _contract_state()
    files = migration_files(paths)
    if context and files:
        first = min(p.name for p in files)
        linted = {p.resolve() for p in files}
        for path in migration_files(context):
            if path.resolve() not in linted and path.name < first:
                try:
                    lint_text(path.read_text(encoding="utf-8"), str(path), book=book, state=state)
                except (OSError, UnicodeDecodeError):
                    continue  # context only: an unreadable earlier file leaves the lint knowing less
    reports = []
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reports.append(FileReport(str(path), 0, (), Plan(None, None), error=f"cannot read: {exc}"))
            continue
        reports.append(lint_text(text, str(path), book=book, state=state, down_file=_down_file(path)))
    return LintReport(tuple(reports))


def lint_text(
    text: str,
    path: str = "<sql>",
    *,
    book: RuleBook | None = None,
    state: _RunState | None = None,
    down_file: Path | None = None,
) -> FileReport:
    book = book or load()
    state = state if state is not None else _contract_state()
    try:
        raw = parse_sql(text)
        tokens = parser.scan(text)
    except parser.ParseError as exc:
        # args: (message, 0-based character offset where parsing stopped)
        pos = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], int) else 0
        line, col = _line_col(text, min(max(pos, 0), len(text)))
        return FileReport(path, 0, (), Plan(None, None), error=f"does not parse at {line}:{col}: {exc.args[0]}")
    statements = [
        _Statement(i, r.stmt, r.stmt_location, r.stmt_location + (r.stmt_len or len(text) - r.stmt_location))
        for i, r in enumerate(raw)
    ]
    comments = [(t.start, text[t.start : t.end + 1]) for t in tokens if t.name in _COMMENT_TOKENS]
    plan = _plan(comments, down_file)
    is_down = path.endswith(".down.sql")
    invalid = _attach_waivers(text, path, statements, comments, book)
    ctx = _FileLint(text, path, book, state, plan, is_down)
    for st in statements:
        ctx.statement(st)
    ctx.finish()
    ctx.secrets(tokens, statements)
    findings = sorted([*invalid, *ctx.findings], key=lambda f: (f.line, f.column))
    return FileReport(path, len(statements), tuple(findings), plan)


# --- comments: waivers and plans -------------------------------------------------------------------


def _comment_lines(comment: str) -> list[str]:
    body = comment[2:-2] if comment.startswith("/*") else comment[2:]
    return [ln.strip().lstrip("*").strip() for ln in body.splitlines()]


def _plan(comments: list[tuple[int, str]], down_file: Path | None) -> Plan:
    found: dict[str, str] = {}
    for _, comment in comments:
        for ln in _comment_lines(comment):
            m = _PLAN_LINE.match(ln)
            if m and m.group("text").strip().lower().rstrip(".") not in _PLACEHOLDERS:
                kind = {"롤백": "rollback", "백필": "backfill"}.get(m.group("kind"), m.group("kind").lower())
                found.setdefault(kind, m.group("text").strip())
    if "rollback" not in found and down_file is not None:
        found["rollback"] = f"paired down-migration {down_file.name}"
    return Plan(found.get("rollback"), found.get("backfill"))


def _down_file(path: Path) -> Path | None:
    if path.name.endswith(".down.sql"):
        return None
    stem = path.name.removesuffix(".sql").removesuffix(".up")
    down = path.with_name(f"{stem}.down.sql")
    try:
        return down if down.is_file() and parse_sql(down.read_text(encoding="utf-8")) else None
    except (OSError, UnicodeDecodeError, parser.ParseError):
        return None


def _attach_waivers(text: str, path: str, statements: list[_Statement], comments, book: RuleBook) -> list[Finding]:
    """Each waiver comment belongs to the next statement, or to the previous one when it sits on the
    line where that statement ends. Malformed waivers are findings of their own."""
    invalid = []
    for pos, comment in comments:
        for ln in _comment_lines(comment):
            m = _WAIVER.search(ln)
            if not m:
                continue
            line, col = _line_col(text, pos)
            rules = tuple(r.strip().lower() for r in m.group("rules").split(","))
            reason = (m.group("reason") or "").strip()
            owner = _owner(text, statements, pos)
            snippet = _snippet(text, owner) if owner else ""
            unknown = [r for r in rules if r not in book.rules]
            unwaivable = [r for r in rules if r in book.rules and not book[r].waivable]
            if unknown or unwaivable or len(reason) < MIN_REASON or owner is None:
                why = (
                    f"unknown rule {', '.join(unknown)}"
                    if unknown
                    else f"{', '.join(unwaivable)} cannot be waived"
                    if unwaivable
                    else f"no reason (at least {MIN_REASON} characters after '--')"
                    if len(reason) < MIN_REASON
                    else "no statement follows it"
                )
                invalid.append(_finding(book, "invalid-waiver", text, path=path, pos=pos, snippet=snippet, msg=why))
                continue
            owner.waivers.append(_Waiver(rules, reason, line, col))
    return invalid


def _owner(text: str, statements: list[_Statement], pos: int) -> _Statement | None:
    prev = None
    for st in statements:
        if st.start > pos:
            if prev is not None and "\n" not in text[prev.end : pos]:
                return prev
            return st
        if st.start <= pos < st.end:
            return st  # a comment inside the statement's text
        prev = st
    if prev is not None and "\n" not in text[prev.end : pos]:
        return prev
    return None


# --- the rules -------------------------------------------------------------------------------------


class _FileLint:
    def __init__(self, text: str, path: str, book: RuleBook, state: _RunState, plan: Plan, is_down: bool) -> None:
        self.text, self.path, self.book, self.state, self.plan, self.is_down = text, path, book, state, plan, is_down
        self.findings: list[Finding] = []
        self.created: dict[str, _Statement] = {}  # tables created in this file
        self.rls_enabled: set[str] = set()
        self.lock_timeout = False
        self.replaced: set[tuple[str, str]] = set()  # (kind, name) created in this file: DROP + CREATE = replace
        self.drops: list[tuple[str, str, _Statement, ast.DropStmt]] = []
        self.definers: dict[str, tuple[_Statement, str]] = {}  # judged at the end of the file
        self.pinned: set[str] = set()

    # helpers
    def add(self, rule: str, st: _Statement, msg: str) -> None:
        if self.is_down and self.book[rule].group == "destructive":
            return  # a down-migration is the rollback: it undoes by dropping
        f = _finding(self.book, rule, self.text, path=self.path, pos=st.start, snippet=_snippet(self.text, st), msg=msg)
        reason = next((w.reason for w in st.waivers if rule in w.rules), None) if self.book[rule].waivable else None
        self.findings.append(f if reason is None else replace(f, waived=reason))

    def existing(self, table: str) -> bool:
        return table not in self.created

    def destructive(self, rule: str, st: _Statement, what: str) -> None:
        if not self.plan.complete:
            self.add(rule, st, f"{what}: no {' and no '.join(self.plan.missing())} plan in this migration")

    # statements
    def statement(self, st: _Statement) -> None:
        node = st.node
        handler = getattr(self, "_" + type(node).__name__, None)
        if handler:
            handler(st, node)

    def _VariableSetStmt(self, st: _Statement, node: ast.VariableSetStmt) -> None:
        if (node.name or "").lower() == "lock_timeout":
            self.lock_timeout = True

    def _SelectStmt(self, st: _Statement, node: ast.SelectStmt) -> None:
        # SELECT set_config('lock_timeout', '5s', false): the function form of SET
        for f in _walk(node.targetList):
            if isinstance(f, ast.FuncCall) and f.funcname[-1].sval.lower() == "set_config" and f.args:
                first = f.args[0]
                if isinstance(first, ast.A_Const) and getattr(first.val, "sval", "").lower() == "lock_timeout":
                    self.lock_timeout = True

    def _CreateStmt(self, st: _Statement, node: ast.CreateStmt) -> None:
        table = _rel(node.relation)
        self.created[table] = st
        cols = []
        for elt in node.tableElts or ():
            if isinstance(elt, ast.ColumnDef):
                cols.append(elt.colname)
                if _references_users(elt):
                    self.state.user_id_columns.setdefault(table, set()).add(elt.colname)
        self.state.tables[table] = tuple(cols)

    def _CreateTableAsStmt(self, st: _Statement, node: ast.CreateTableAsStmt) -> None:
        if node.objtype == enums.ObjectType.OBJECT_TABLE:
            table = _rel(node.into.rel)
            self.created[table] = st
            self.state.tables.setdefault(table, tuple(c.sval for c in node.into.colNames or ()))

    def _IndexStmt(self, st: _Statement, node: ast.IndexStmt) -> None:
        table = _rel(node.relation)
        if not node.concurrent and self.existing(table):
            self.add(
                "create-index-non-concurrently", st, f"index {node.idxname or '(unnamed)'} on existing table {table}"
            )

    def _AlterTableStmt(self, st: _Statement, node: ast.AlterTableStmt) -> None:
        if node.objtype != enums.ObjectType.OBJECT_TABLE:
            return
        table = _rel(node.relation)
        new = not self.existing(table)
        if not new and not self.lock_timeout:
            self.add("missing-lock-timeout", st, f"ALTER TABLE {table} before any SET lock_timeout in this migration")
        T = enums.AlterTableType
        for cmd in node.cmds or ():
            sub = cmd.subtype
            if sub == T.AT_EnableRowSecurity:
                self.rls_enabled.add(table)
            elif sub == T.AT_ValidateConstraint:
                col = self.state.pending_checks.pop((table, cmd.name), None)
                if col:
                    self.state.not_null_checks.add((table, col))
            elif sub == T.AT_AddConstraint and isinstance(cmd.def_, ast.Constraint):
                self._add_constraint(st, table, new, cmd.def_)
            elif new:
                continue
            elif sub == T.AT_DropColumn:
                self.destructive("drop-column", st, f"DROP COLUMN {table}.{cmd.name}")
            elif sub == T.AT_AlterColumnType:
                self.destructive("alter-column-type", st, f"ALTER COLUMN {table}.{cmd.name} TYPE")
            elif sub == T.AT_SetNotNull:
                if (table, cmd.name) not in self.state.not_null_checks:
                    self.add(
                        "set-not-null-without-check",
                        st,
                        f"SET NOT NULL on {table}.{cmd.name}: no validated CHECK ({cmd.name} IS NOT NULL) before it",
                    )
            elif sub == T.AT_AddColumn and isinstance(cmd.def_, ast.ColumnDef):
                self._add_column(st, table, cmd.def_)

    def _add_constraint(self, st: _Statement, table: str, new: bool, con: ast.Constraint) -> None:
        C = enums.ConstrType
        if con.contype == C.CONSTR_CHECK:
            col = _not_null_column(con.raw_expr)
            if col and con.conname and con.skip_validation:
                self.state.pending_checks[(table, con.conname)] = col
            elif col and not con.skip_validation:
                self.state.not_null_checks.add((table, col))
        if new or con.contype not in (C.CONSTR_CHECK, C.CONSTR_FOREIGN) or con.skip_validation:
            return
        kind = "FOREIGN KEY" if con.contype == C.CONSTR_FOREIGN else "CHECK"
        self.add("constraint-without-not-valid", st, f"{kind} {con.conname or '(unnamed)'} on existing table {table}")

    def _add_column(self, st: _Statement, table: str, col: ast.ColumnDef) -> None:
        C = enums.ConstrType
        cols = self.state.tables.get(table)
        if cols is not None:
            self.state.tables[table] = (*cols, col.colname)
        if _references_users(col):
            self.state.user_id_columns.setdefault(table, set()).add(col.colname)
        type_name = col.typeName.names[-1].sval.lower() if col.typeName and col.typeName.names else ""
        rewrite = None
        if type_name in self.book.serial_types:
            rewrite = f"type {type_name} (a sequence default for every existing row)"
        for con in col.constraints or ():
            if con.contype == C.CONSTR_DEFAULT:
                fn = next((f for f in _functions(con.raw_expr) if f in self.book.volatile_functions), None)
                if fn:
                    rewrite = f"volatile default {fn}()"
            elif con.contype == C.CONSTR_IDENTITY:
                rewrite = "an identity column (a value for every existing row)"
            elif con.contype == C.CONSTR_GENERATED:
                rewrite = "a stored generated column (computed for every existing row)"
            elif con.contype in (C.CONSTR_FOREIGN, C.CONSTR_CHECK):
                kind = "REFERENCES" if con.contype == C.CONSTR_FOREIGN else "CHECK"
                self.add(
                    "constraint-without-not-valid",
                    st,
                    f"ADD COLUMN {table}.{col.colname} with an inline {kind} (validated at once; add it NOT VALID "
                    "in a separate ALTER)",
                )
        if rewrite:
            self.add("add-column-volatile-default", st, f"ADD COLUMN {table}.{col.colname}: {rewrite} rewrites {table}")

    def _RenameStmt(self, st: _Statement, node: ast.RenameStmt) -> None:
        Obj = enums.ObjectType
        if node.renameType == Obj.OBJECT_COLUMN and node.relationType == Obj.OBJECT_TABLE:
            table = _rel(node.relation)
            if self.existing(table):
                self.add("rename", st, f"RENAME COLUMN {table}.{node.subname} TO {node.newname}")
        elif node.renameType == Obj.OBJECT_TABLE:
            table = _rel(node.relation)
            if self.existing(table):
                self.add("rename", st, f"RENAME TABLE {table} TO {node.newname}")

    def _DropStmt(self, st: _Statement, node: ast.DropStmt) -> None:
        Obj = enums.ObjectType
        for obj in node.objects or ():
            if node.removeType == Obj.OBJECT_TABLE:
                table = _qualified(obj)
                if self.existing(table):
                    self.destructive("drop-table", st, f"DROP TABLE {table}")
            elif node.removeType == Obj.OBJECT_POLICY:
                *tbl, name = (s.sval for s in obj)
                self.drops.append(("policy", f"{_qualified_names(tbl)}.{name}", st, node))
            elif node.removeType == Obj.OBJECT_TRIGGER:
                *tbl, name = (s.sval for s in obj)
                self.drops.append(("trigger", f"{_qualified_names(tbl)}.{name}", st, node))
            elif node.removeType in (Obj.OBJECT_FUNCTION, Obj.OBJECT_PROCEDURE):
                self.drops.append(("function", _qualified(obj.objname), st, node))

    def _TruncateStmt(self, st: _Statement, node: ast.TruncateStmt) -> None:
        tables = ", ".join(_rel(r) for r in node.relations or ())
        self.destructive("truncate", st, f"TRUNCATE {tables}")

    def _CreatePolicyStmt(self, st: _Statement, node: ast.CreatePolicyStmt) -> None:
        table = _rel(node.table)
        self.replaced.add(("policy", f"{table}.{node.policy_name}"))
        if node.permissive:  # a RESTRICTIVE true policy narrows nothing and grants nothing
            self._policy(st, table, node.policy_name, node.roles, node.qual, node.with_check)

    def _AlterPolicyStmt(self, st: _Statement, node: ast.AlterPolicyStmt) -> None:
        self._policy(st, _rel(node.table), node.policy_name, node.roles, node.qual, node.with_check)

    def _policy(self, st: _Statement, table: str, name: str, roles, qual, with_check) -> None:
        # ALTER POLICY without TO keeps roles the lint may not know: judged as if they were the clients
        client = _client_roles(roles, self.book) if roles is not None else {"its unchanged roles"}
        clauses = [c for c, e in (("USING", qual), ("WITH CHECK", with_check)) if _is_true(e)]
        if not client or not clauses:
            return
        personal = self._personal_columns(table)
        if personal == ():
            return  # the lint knows the table's columns and none is personal
        what = f"columns {', '.join(personal)}" if personal else "columns unknown to the lint: treated as personal"
        self.add(
            "permissive-policy-on-personal-data",
            st,
            f"policy {name} on {table}: {' and '.join(clauses)} (true) for {', '.join(sorted(client))} ({what})",
        )

    def _personal_columns(self, table: str) -> tuple[str, ...] | None:
        cols = self.state.tables.get(table)
        if cols is None:
            return None
        user_ids = self.state.user_id_columns.get(table, set())
        return tuple(c for c in cols if c.lower() in self.book.personal_data_columns or c in user_ids)

    def _CreateFunctionStmt(self, st: _Statement, node: ast.CreateFunctionStmt) -> None:
        name = _qualified_names(s.sval for s in node.funcname)
        self.replaced.add(("function", name))
        self._definer(st, name, node.options)

    def _AlterFunctionStmt(self, st: _Statement, node: ast.AlterFunctionStmt) -> None:
        self._definer(st, _qualified_names(s.sval for s in node.func.objname), node.actions, altered=True)

    def _definer(self, st: _Statement, name: str, options, altered: bool = False) -> None:
        opts = options or ()
        definer = any(o.defname == "security" and getattr(o.arg, "boolval", False) for o in opts)
        pinned = any(
            o.defname == "set" and isinstance(o.arg, ast.VariableSetStmt) and o.arg.name == "search_path" for o in opts
        )
        if pinned:
            self.pinned.add(name)
            self.definers.pop(name, None)  # a later ALTER FUNCTION ... SET search_path fixes it
        elif definer:
            how = "ALTER FUNCTION ... SECURITY DEFINER" if altered else "SECURITY DEFINER"
            self.definers[name] = (st, f"{how} {name} without SET search_path")

    def _CreateTrigStmt(self, st: _Statement, node: ast.CreateTrigStmt) -> None:
        self.replaced.add(("trigger", f"{_rel(node.relation)}.{node.trigname}"))

    def _GrantStmt(self, st: _Statement, node: ast.GrantStmt, default: bool = False) -> None:
        if not node.is_grant or node.objtype != enums.ObjectType.OBJECT_TABLE:
            return
        client = _client_roles(node.grantees, self.book)
        if not client:
            return
        privs = ["ALL"] if node.privileges is None else [p.priv_name.upper() for p in node.privileges]
        wide = [p for p in privs if p != "SELECT"]
        if wide:
            where = "default privileges on new tables" if default else "tables"
            self.add(
                "wide-grant-to-client-roles", st, f"GRANT {', '.join(wide)} on {where} to {', '.join(sorted(client))}"
            )

    def _AlterDefaultPrivilegesStmt(self, st: _Statement, node: ast.AlterDefaultPrivilegesStmt) -> None:
        self._GrantStmt(st, node.action, default=True)

    def finish(self) -> None:
        for st, msg in self.definers.values():
            self.add("security-definer-without-search-path", st, msg)
        for table, st in self.created.items():
            schema = table.split(".", 1)[0]
            if schema in self.book.exposed_schemas and table not in self.rls_enabled:
                self.add("table-without-rls", st, f"table {table} is created in exposed schema {schema} without RLS")
        rule_of = {"policy": "drop-policy", "trigger": "drop-trigger", "function": "drop-function"}
        for kind, name, st, _ in self.drops:
            if (kind, name) in self.replaced:
                continue  # dropped and created again in the same migration: a replacement, not a removal
            self.destructive(rule_of[kind], st, f"DROP {kind.upper()} {name}")

    def secrets(self, tokens, statements: list[_Statement]) -> None:
        if not find_secrets(self.text):  # one pass over the file; tokens only when something is there
            return
        for t in tokens:
            if t.name not in _COMMENT_TOKENS and t.name not in _STRING_TOKENS:
                continue
            kinds = find_secrets(self.text[t.start : t.end + 1])
            if kinds:
                owner = _owner(self.text, statements, t.start)
                where = "a comment" if t.name in _COMMENT_TOKENS else "a string literal"
                self.findings.append(
                    _finding(
                        self.book,
                        "secret-literal",
                        self.text,
                        path=self.path,
                        pos=t.start,
                        snippet=_snippet(self.text, owner) if owner else "",
                        msg=f"{', '.join(sorted(set(kinds)))} in {where} (value not shown)",
                    )
                )


# --- small helpers ---------------------------------------------------------------------------------


def _finding(book: RuleBook, rule: str, text: str, *, path: str, pos: int, snippet: str, msg: str) -> Finding:
    line, col = _line_col(text, pos)
    return Finding(rule, book[rule].severity, path, line, col, snippet, msg)


def _line_col(text: str, pos: int) -> tuple[int, int]:
    line = text.count("\n", 0, pos) + 1
    return line, pos - (text.rfind("\n", 0, pos) + 1) + 1


def _snippet(text: str, st: _Statement, width: int = 120) -> str:
    one = " ".join(text[st.start : st.end].split())
    one = redact_text(one)[0]
    return one if len(one) <= width else one[: width - 1] + "…"


def _qualified_names(names: Iterable[str]) -> str:
    parts = list(names)
    return ".".join(parts if len(parts) > 1 else ["public", *parts])


def _qualified(obj) -> str:
    return _qualified_names(s.sval for s in obj)


def _rel(rv: ast.RangeVar) -> str:
    if rv.relpersistence == "t":  # CREATE TEMP TABLE: session-local, never exposed
        return f"pg_temp.{rv.relname}"
    return f"{rv.schemaname or 'public'}.{rv.relname}"


def _references_users(col: ast.ColumnDef) -> bool:
    return any(
        c.contype == enums.ConstrType.CONSTR_FOREIGN and c.pktable and _rel(c.pktable) == "auth.users"
        for c in col.constraints or ()
    )


def _walk(node) -> Iterator[ast.Node]:
    if isinstance(node, tuple | list):
        for x in node:
            yield from _walk(x)
    elif isinstance(node, ast.Node):
        yield node
        for name in node.__slots__:
            yield from _walk(getattr(node, name, None))


def _functions(expr) -> Iterator[str]:
    for n in _walk(expr):
        if isinstance(n, ast.FuncCall):
            yield n.funcname[-1].sval.lower()


def _not_null_column(expr) -> str | None:
    if isinstance(expr, ast.NullTest) and expr.nulltesttype == enums.NullTestType.IS_NOT_NULL:
        arg = expr.arg
        if isinstance(arg, ast.ColumnRef) and isinstance(arg.fields[-1], ast.String):
            return arg.fields[-1].sval
    return None


def _is_true(expr) -> bool:
    return isinstance(expr, ast.A_Const) and isinstance(expr.val, ast.Boolean) and bool(expr.val.boolval)


def _client_roles(roles, book: RuleBook) -> set[str]:
    out = set()
    for r in roles or (ast.RoleSpec(roletype=enums.RoleSpecType.ROLESPEC_PUBLIC),):
        if r.roletype == enums.RoleSpecType.ROLESPEC_PUBLIC:
            out.add("public")
        elif (r.rolename or "").lower() in book.client_roles:
            out.add(r.rolename.lower())
    return out


@cache
def _contract_tables() -> tuple[tuple[str, tuple[str, ...], frozenset[str]], ...]:
    """The app contract's tables and columns (opslib/contract/*.sql, parsed by the same parser):
    what the lint knows about tables that no migration of the run creates."""
    out = []
    folder = resources.files("opslib.contract")
    for name in sorted(f.name for f in folder.iterdir() if f.name.endswith(".sql")):
        for raw in parse_sql(folder.joinpath(name).read_text(encoding="utf-8")):
            node = raw.stmt
            if isinstance(node, ast.CreateStmt):
                cols = [e for e in node.tableElts or () if isinstance(e, ast.ColumnDef)]
                users = frozenset(c.colname for c in cols if _references_users(c))
                out.append((_rel(node.relation), tuple(c.colname for c in cols), users))
    return tuple(out)


def _contract_state() -> _RunState:
    state = _RunState()
    for table, cols, users in _contract_tables():
        state.tables[table] = cols
        state.user_id_columns[table] = set(users)
    return state
