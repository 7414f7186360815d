"""Static checks over the SQL in db/ (pglast AST): what a reviewer should never have to catch by eye.

Each finding points at `file:line` computed from the AST node's location, so an editor jumps straight to
the problem. The catalog lint re-checks the migrated database; this one runs without any server and sees
what the catalog cannot (an unqualified column in a subquery is qualified by PostgreSQL's deparser).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pglast
from pglast import ast
from pglast.enums import AlterTableType, RoleSpecType

from db.migrate import DB_DIR, FUNCTIONS_DIR, POLICIES_DIR, SCHEMA_DIR
from db.rls import expressions as ex
from db.rls.findings import Finding, finding
from nexk.errors import NexkError

API_ROLES = {"public", "anon", "authenticated"}
EXPOSED_SCHEMAS = ("public",)
_SKIP_SPACE_AND_COMMENTS = re.compile(r"(?:\s+|--[^\n]*|/\*.*?\*/)*", re.DOTALL)


@dataclass(frozen=True)
class Source:
    """One SQL file: its text and the name findings use for it (`db/policies/tickets.sql`)."""

    name: str
    text: str

    def line(self, offset: int | None) -> int:
        return self.text.count("\n", 0, max(offset or 0, 0)) + 1

    def statement_start(self, raw: ast.RawStmt) -> int:
        """The first real character of a statement (stmt_location includes the comments before it)."""
        start = raw.stmt_location or 0
        skipped = _SKIP_SPACE_AND_COMMENTS.match(self.text, start)
        return skipped.end() if skipped else start

    def at(self, offset: int | None) -> str:
        return f"{self.name}:{self.line(offset)}"


def _roles(specs: Iterable[ast.RoleSpec] | None) -> set[str]:
    names = set()
    for spec in specs or ():
        names.add("public" if spec.roletype == RoleSpecType.ROLESPEC_PUBLIC else str(spec.rolename))
    return names or {"public"}


def _relation(rel: ast.RangeVar | None) -> str:
    if rel is None:
        raise ValueError("the statement names no relation")
    return f"{rel.schemaname or 'public'}.{rel.relname}"


def _policy_findings(
    src: Source, raw: ast.RawStmt, stmt: ast.CreatePolicyStmt | ast.AlterPolicyStmt
) -> list[Finding]:
    table = _relation(stmt.table)
    obj = f'{table} policy "{stmt.policy_name}"'
    start = src.statement_start(raw)
    found: list[Finding] = []

    def add(rule: str, offset: int | None, message: str) -> None:
        found.append(finding(rule, src.at(offset if offset is not None else start), message, object=obj))

    for clause, expr in (("using", stmt.qual), ("with check", stmt.with_check)):
        for visit in ex.bare_auth_calls(expr):
            add("0003", visit.location, f"{obj}: {clause} calls {ex.call_name(visit.node)} once per row")
        for visit in ex.unwrapped_function_calls(expr):
            add(
                "nexk_unwrapped_function_call",
                visit.location,
                f"{obj}: {clause} calls {ex.call_name(visit.node)} once per row",
            )
        for visit in ex.user_metadata_references(expr):
            add("0015", visit.location, f"{obj}: {clause} reads user_metadata, which every user can edit")
        for visit in ex.unqualified_subquery_columns(expr):
            column = ex.column_name(visit.node)
            add(
                "nexk_subquery_unqualified_column",
                visit.location,
                f"{obj}: column `{column}` in a {clause} subquery has no table alias",
            )
    if isinstance(stmt, ast.AlterPolicyStmt):
        if stmt.roles and _roles(stmt.roles) & {"public"}:
            add("nexk_policy_to_public", start, f"{obj}: altered to apply `to public` (includes anon)")
        return found

    cmd = stmt.cmd_name or "all"
    roles = _roles(stmt.roles)
    if "public" in roles:
        add("nexk_policy_to_public", start, f"{obj}: applies to public (no `to` clause, or `to public`)")
    if stmt.permissive and roles & API_ROLES:
        if cmd in ("update", "delete", "all") and (
            ex.always_true(stmt.qual) or ex.always_true(stmt.with_check)
        ):
            add("0024", start, f"{obj}: permissive {cmd} policy whose condition is always true")
        elif cmd == "insert" and (stmt.with_check is None or ex.always_true(stmt.with_check)):
            add("0024", start, f"{obj}: permissive insert policy whose check is missing or always true")
        if cmd in ("update", "all") and stmt.qual is not None and stmt.with_check is None:
            add(
                "nexk_policy_without_check",
                start,
                f"{obj}: permissive {cmd} policy without `with check` reuses USING for new rows",
            )
    return found


def _definer(options: Iterable[ast.DefElem] | None) -> bool | None:
    for option in options or ():
        if option.defname == "security":
            return isinstance(option.arg, ast.Boolean) and bool(option.arg.boolval)
    return None


def _sets_search_path(options: Iterable[ast.DefElem] | None) -> bool:
    return any(
        o.defname == "set" and isinstance(o.arg, ast.VariableSetStmt) and o.arg.name == "search_path"
        for o in options or ()
    )


def _security_invoker(options: Iterable[ast.DefElem] | None) -> bool | None:
    for option in options or ():
        if option.defname == "security_invoker":
            value = (option.arg.sval or "") if isinstance(option.arg, ast.String) else "true"
            return value.lower() in ("true", "on", "1", "yes")
    return None


def lint_sources(sources: Iterable[Source]) -> list[Finding]:
    """Lint SQL files in the order they are applied (a later `alter` may fix an earlier `create`)."""
    found: list[Finding] = []
    definers: dict[str, tuple[str, bool]] = {}  # function -> (where, has search_path), last word wins
    views: dict[str, tuple[str, bool]] = {}  # view -> (where, security_invoker)
    for src in sources:
        try:
            statements = pglast.parse_sql(src.text)
        except pglast.parser.ParseError as exc:
            # ParseError(message, location): the location is its second argument, not an attribute.
            location = exc.args[1] if len(exc.args) > 1 else None
            raise NexkError(f"{src.at(location)}: syntax error: {exc.args[0]}") from exc
        for raw in statements:
            stmt = raw.stmt
            where = src.at(src.statement_start(raw))
            if isinstance(stmt, ast.CreatePolicyStmt | ast.AlterPolicyStmt):
                found += _policy_findings(src, raw, stmt)
            elif isinstance(stmt, ast.CreateFunctionStmt):
                schema, name = ex.qualified_name(stmt.funcname)
                function = f"{schema or 'public'}.{name}"
                if _definer(stmt.options):
                    definers[function] = (where, _sets_search_path(stmt.options))
                else:
                    definers.pop(function, None)
            elif isinstance(stmt, ast.AlterFunctionStmt):
                schema, name = ex.qualified_name(stmt.func.objname if stmt.func else None)
                function = f"{schema or 'public'}.{name}"
                definer = _definer(stmt.actions)
                if definer is False:
                    definers.pop(function, None)
                elif definer or function in definers:
                    old_where, had_path = definers.get(function, (where, False))
                    definers[function] = (old_where, had_path or _sets_search_path(stmt.actions))
            elif isinstance(stmt, ast.ViewStmt):
                view = _relation(stmt.view)
                views[view] = (where, bool(_security_invoker(stmt.options)))
            elif isinstance(stmt, ast.AlterTableStmt) and stmt.relation is not None:
                view = _relation(stmt.relation)
                for cmd in stmt.cmds or ():
                    invoker = (
                        _security_invoker(cmd.def_)
                        if cmd.subtype == AlterTableType.AT_SetRelOptions
                        else None
                    )
                    if view in views and invoker is not None:
                        views[view] = (views[view][0], invoker)
    for function, (where, has_path) in definers.items():
        if not has_path:
            found.append(
                finding(
                    "0011",
                    where,
                    f"security definer function {function} has no `set search_path`",
                    object=function,
                )
            )
        if function.split(".", 1)[0] in EXPOSED_SCHEMAS:
            found.append(
                finding(
                    "nexk_definer_function_exposed",
                    where,
                    f"security definer function {function} is in an exposed schema (callable through /rpc)",
                    object=function,
                )
            )
    for view, (where, invoker) in views.items():
        if not invoker:
            found.append(
                finding(
                    "0010", where, f"view {view} is created without `security_invoker = true`", object=view
                )
            )
    return found


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


def lint_directory(db_dir: Path = DB_DIR) -> list[Finding]:
    """Lint `<db_dir>/schema/*.sql` (in migration order), `<db_dir>/functions/*.sql` (where every SQL function
    is declared) then `<db_dir>/policies/*.sql`."""
    schema_dir = SCHEMA_DIR if db_dir == DB_DIR else db_dir / "schema"
    functions_dir = FUNCTIONS_DIR if db_dir == DB_DIR else db_dir / "functions"
    policies_dir = POLICIES_DIR if db_dir == DB_DIR else db_dir / "policies"
    paths = (
        sorted(schema_dir.glob("*.sql"))
        + sorted(functions_dir.glob("*.sql"))
        + sorted(policies_dir.glob("*.sql"))
    )
    root = db_dir.parent
    return lint_sources(Source(_relative(p, root), p.read_text(encoding="utf-8")) for p in paths)
