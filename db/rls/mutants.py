"""Mutants of the RLS set-up, derived from the SQL by AST (pglast): each one is a small, plausible mistake.

A mutant replaces one statement of one file with a mutated copy (re-serialised with pglast's RawStream) or
removes it. Ids are stable across runs and edits elsewhere in the file: `<file>:<object>:<operator>[:<n>]`,
e.g. `tickets.sql:tickets_select:using->true` or `tickets.sql:tickets_insert:drop-conjunct:check:2`.

Operators:
- policy files (`db/policies/*.sql`): drop a policy; USING -> true; WITH CHECK -> true; drop each conjunct of
  an AND in USING or WITH CHECK; drop WITH CHECK (when USING exists, PostgreSQL then reuses USING);
  restrictive -> permissive; `to authenticated` -> public (each table's SELECT policy and every INSERT
  policy); disable RLS; drop FORCE; drop the staff MFA policy; widen a column grant to the whole table;
- schema and function files (`db/schema/*.sql`, `db/functions/*.sql`): drop `security_invoker` from a view;
  drop a policy helper's pinned `search_path` (the helpers in `private` that policies call, declared in
  db/functions/).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pglast
from pglast import ast, enums
from pglast.stream import RawStream

from db.migrate import DB_DIR, FUNCTIONS_DIR, POLICIES_DIR, SCHEMA_DIR
from db.rls.expressions import parse_expression

OPERATORS = (
    "drop-policy",
    "using->true",
    "check->true",
    "drop-conjunct",
    "drop-with-check",
    "restrictive->permissive",
    "to-public",
    "disable-rls",
    "drop-force",
    "drop-mfa-policy",
    "widen-grant",
    "drop-security-invoker",
    "drop-search-path",
)
MFA_SUFFIX = "_staff_need_mfa"
# The schema files holding what policies depend on: the helpers and (if ever added) views.
HELPER_SCHEMA = "private"


@dataclass(frozen=True)
class Edit:
    """Replace text[start:end] of `path` (relative to db/) with `text`."""

    path: str
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Mutant:
    id: str
    operator: str
    file: str  # relative to db/, e.g. "policies/tickets.sql"
    line: int
    table: str  # the table (or helper/view) the mutant weakens
    description: str
    edit: Edit = field(repr=False)

    @property
    def kind(self) -> str:
        """'policy' (re-run a policy file) or 'schema' (replay one mutated migration statement)."""
        return "policy" if self.file.startswith("policies/") else "schema"

    @property
    def where(self) -> str:
        return f"db/{self.file}:{self.line}"

    @property
    def statement(self) -> str:
        """The mutated statement ('' when the mutant removes it)."""
        return self.edit.text

    def apply(self, texts: dict[str, str]) -> dict[str, str]:
        """The file texts {relpath: sql} with this mutant applied (a new dict; the input is unchanged)."""
        out = dict(texts)
        original = out[self.edit.path]
        out[self.edit.path] = original[: self.edit.start] + self.edit.text + original[self.edit.end :]
        return out


def _deparse(node: ast.Node) -> str:
    return RawStream()(node)


def _true() -> ast.Node:
    return parse_expression("true")


def _qualified(rel: ast.RangeVar | None) -> str:
    if rel is None:
        raise ValueError("the statement names no relation")
    return f"{rel.schemaname or 'public'}.{rel.relname}"


@dataclass
class _Stmt:
    path: str  # relative to db/
    text: str  # whole file
    start: int
    end: int
    node: ast.Node

    @property
    def line(self) -> int:
        return self.text.count("\n", 0, self.start) + 1

    def replaced(self, node: ast.Node | None) -> Edit:
        new = "" if node is None else _deparse(node)
        return Edit(
            self.path, self.start, self.end, new if new else "select 1 /* mutant: statement removed */"
        )


def _statements(path: Path) -> Iterator[_Stmt]:
    text = path.read_text(encoding="utf-8")
    rel = f"{path.parent.name}/{path.name}"  # "policies/x.sql", "functions/access.sql", as under db/
    for raw in pglast.parse_sql(text):
        start = raw.stmt_location or 0
        end = start + raw.stmt_len if raw.stmt_len else len(text)
        # stmt_location may include leading comments/blank lines; they do not matter for splicing.
        if raw.stmt is not None:
            yield _Stmt(rel, text, start, end, raw.stmt)


def _and_paths(node: ast.Node | None, path: tuple = ()) -> Iterator[tuple[tuple, int]]:
    """(path to an AND node, number of its args) for every AND in the expression tree (depth-first)."""
    if isinstance(node, ast.BoolExpr):
        args = node.args or ()
        if node.boolop == enums.BoolExprType.AND_EXPR:
            yield path, len(args)
        for i, arg in enumerate(args):
            yield from _and_paths(arg, (*path, i))


def _without_arg(expr: ast.Node, path: tuple, index: int) -> ast.Node:
    """A copy of `expr` where the AND at `path` lost its argument `index` (a 1-arg AND becomes the arg)."""
    root = copy.deepcopy(expr)
    parent: ast.BoolExpr | None = None
    slot, node = 0, root
    for step in path:
        assert isinstance(node, ast.BoolExpr)  # _and_paths leads through AND/OR/NOT only
        parent, slot, node = node, step, _args(node)[step]
    args = [a for i, a in enumerate(_args(node)) if i != index]
    replacement = (
        args[0] if len(args) == 1 else ast.BoolExpr(boolop=enums.BoolExprType.AND_EXPR, args=tuple(args))
    )
    if parent is None:
        return replacement
    parent_args = list(_args(parent))
    parent_args[slot] = replacement
    parent.args = tuple(parent_args)
    return root


def _args(node: ast.Node) -> tuple[ast.Node, ...]:
    """The arguments of an AND/OR/NOT (the nodes _and_paths leads through)."""
    if not isinstance(node, ast.BoolExpr) or node.args is None:
        raise TypeError(f"expected AND/OR/NOT with arguments, got {type(node).__name__}")
    return node.args


def _policy_mutants(stmt: _Stmt) -> Iterator[Mutant]:
    p = stmt.node
    assert isinstance(p, ast.CreatePolicyStmt)  # dispatched by node type (_POLICY_HANDLERS)
    table = _qualified(p.table)
    base = f"{Path(stmt.path).name}:{p.policy_name}"
    is_mfa = (p.policy_name or "").endswith(MFA_SUFFIX)

    def mutant(op: str, description: str, node: ast.Node | None, suffix: str = "") -> Mutant:
        return Mutant(
            id=f"{base}:{op}{suffix}",
            operator=op,
            file=stmt.path,
            line=stmt.line,
            table=table,
            description=description,
            edit=stmt.replaced(node),
        )

    def changed(**attrs: object) -> ast.CreatePolicyStmt:
        q = copy.deepcopy(p)
        for name, value in attrs.items():
            setattr(q, name, value)
        return q

    if is_mfa:
        yield mutant("drop-mfa-policy", f"drop the staff MFA policy {p.policy_name} on {table}", None)
    else:
        yield mutant("drop-policy", f"drop policy {p.policy_name} ({p.cmd_name}) on {table}", None)
    if p.qual is not None:
        yield mutant(
            "using->true", f"{p.policy_name}: USING (...) becomes USING (true)", changed(qual=_true())
        )
    if p.with_check is not None:
        yield mutant(
            "check->true",
            f"{p.policy_name}: WITH CHECK (...) becomes WITH CHECK (true)",
            changed(with_check=_true()),
        )
    if p.with_check is not None and p.qual is not None:
        yield mutant(
            "drop-with-check",
            f"{p.policy_name}: WITH CHECK removed (PostgreSQL reuses USING for new rows)",
            changed(with_check=None),
        )
    for clause, expr in (("using", p.qual), ("check", p.with_check)):
        if expr is None:
            continue
        for n, (path, count) in enumerate(_and_paths(expr)):
            for i in range(count):
                dropped = _deparse(_args(_nth(expr, path))[i])
                suffix = f":{clause}:{n + 1}.{i + 1}" if n else f":{clause}:{i + 1}"
                yield mutant(
                    "drop-conjunct",
                    f"{p.policy_name}: drop `{dropped}` from an AND in {clause.upper()}",
                    changed(**{"qual" if clause == "using" else "with_check": _without_arg(expr, path, i)}),
                    suffix,
                )
    if not p.permissive:
        yield mutant(
            "restrictive->permissive",
            f"{p.policy_name}: AS RESTRICTIVE becomes AS PERMISSIVE (OR'ed with the others)",
            changed(permissive=True),
        )
    roles = {getattr(r, "rolename", None) for r in p.roles or ()}
    if "authenticated" in roles and not is_mfa and p.cmd_name in ("select", "insert"):
        yield mutant(
            "to-public",
            f"{p.policy_name}: TO authenticated becomes TO public (anon included)",
            changed(roles=(ast.RoleSpec(roletype=enums.RoleSpecType.ROLESPEC_PUBLIC),)),
        )


def _nth(expr: ast.Node, path: tuple) -> ast.Node:
    node = expr
    for step in path:
        node = _args(node)[step]
    return node


def _alter_table_mutants(stmt: _Stmt) -> Iterator[Mutant]:
    a = stmt.node
    assert isinstance(a, ast.AlterTableStmt)  # dispatched by node type (_POLICY_HANDLERS)
    table = _qualified(a.relation)
    relname = a.relation.relname if a.relation else ""
    name = Path(stmt.path).name
    for cmd in a.cmds or ():
        if cmd.subtype == enums.AlterTableType.AT_EnableRowSecurity:
            q = copy.deepcopy(a)
            q.cmds = (
                ast.AlterTableCmd(subtype=enums.AlterTableType.AT_DisableRowSecurity, behavior=cmd.behavior),
            )
            yield Mutant(
                f"{name}:{relname}:disable-rls",
                "disable-rls",
                stmt.path,
                stmt.line,
                table,
                f"ENABLE ROW LEVEL SECURITY on {table} becomes DISABLE",
                stmt.replaced(q),
            )
        if cmd.subtype == enums.AlterTableType.AT_ForceRowSecurity:
            yield Mutant(
                f"{name}:{relname}:drop-force",
                "drop-force",
                stmt.path,
                stmt.line,
                table,
                f"FORCE ROW LEVEL SECURITY on {table} removed (the owner bypasses policies)",
                stmt.replaced(None),
            )


def _grant_mutants(stmt: _Stmt) -> Iterator[Mutant]:
    g = stmt.node
    assert isinstance(g, ast.GrantStmt)  # dispatched by node type (_POLICY_HANDLERS)
    if not g.is_grant or g.targtype != enums.GrantTargetType.ACL_TARGET_OBJECT:
        return
    name = Path(stmt.path).name
    for obj in g.objects or ():
        table = _qualified(obj)
        for i, priv in enumerate(g.privileges or ()):
            if not priv.cols:
                continue
            q = copy.deepcopy(g)
            privs = list(q.privileges or ())
            privs[i] = ast.AccessPriv(priv_name=priv.priv_name)
            q.privileges = tuple(privs)
            yield Mutant(
                f"{name}:{obj.relname}:widen-grant:{priv.priv_name}",
                "widen-grant",
                stmt.path,
                stmt.line,
                table,
                f"GRANT {priv.priv_name.upper()} (columns...) on {table} widened to every column",
                stmt.replaced(q),
            )


def _view_mutants(stmt: _Stmt) -> Iterator[Mutant]:
    v = stmt.node
    assert isinstance(v, ast.ViewStmt)  # called for views only
    options = [o for o in v.options or () if o.defname != "security_invoker"]
    if len(options) == len(v.options or ()):
        return
    q = copy.deepcopy(v)
    q.options = tuple(options) or None
    view = _qualified(v.view)
    relname = v.view.relname if v.view else ""
    yield Mutant(
        f"{Path(stmt.path).name}:{relname}:drop-security-invoker",
        "drop-security-invoker",
        stmt.path,
        stmt.line,
        view,
        f"view {view} loses security_invoker (it then reads with its owner's rights, bypassing RLS)",
        stmt.replaced(q),
    )


def _function_mutants(stmt: _Stmt, helpers: set[str]) -> Iterator[Mutant]:
    f = stmt.node
    assert isinstance(f, ast.CreateFunctionStmt)  # called for functions only
    name = ".".join(s.sval or "" for s in f.funcname or ())
    if name not in helpers:
        return
    options = [o for o in f.options or () if o.defname != "set"]
    if len(options) == len(f.options or ()):
        return
    q = copy.deepcopy(f)
    q.options = tuple(options)
    yield Mutant(
        f"{Path(stmt.path).name}:{name}:drop-search-path",
        "drop-search-path",
        stmt.path,
        stmt.line,
        name,
        f"helper {name}() loses `set search_path = ''` (its names resolve through the caller's search_path)",
        stmt.replaced(q),
    )


_POLICY_HANDLERS: dict[type, Callable[[_Stmt], Iterator[Mutant]]] = {
    ast.CreatePolicyStmt: _policy_mutants,
    ast.AlterTableStmt: _alter_table_mutants,
    ast.GrantStmt: _grant_mutants,
}


def policy_helpers(policies_dir: Path = POLICIES_DIR) -> set[str]:
    """Functions in `private` that any policy file calls (the helpers whose search_path matters)."""
    found: set[str] = set()
    for path in sorted(policies_dir.glob("*.sql")):
        for node in _walk(pglast.parse_sql(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.FuncCall)
                and node.funcname is not None
                and len(node.funcname) == 2
                and node.funcname[0].sval == HELPER_SCHEMA
            ):
                found.add(f"{HELPER_SCHEMA}.{node.funcname[1].sval}")
    return found


def _walk(node: object) -> Iterator[ast.Node]:
    if isinstance(node, ast.Node):
        yield node
        for attr in node:
            yield from _walk(getattr(node, attr))
    elif isinstance(node, tuple | list):
        for item in node:
            yield from _walk(item)


def derive(
    schema_dir: Path = SCHEMA_DIR, policies_dir: Path = POLICIES_DIR, functions_dir: Path = FUNCTIONS_DIR
) -> list[Mutant]:
    """Every mutant of the policy files and of the schema objects policies depend on, in file order."""
    mutants: list[Mutant] = []
    for path in sorted(policies_dir.glob("*.sql")):
        for stmt in _statements(path):
            handler = _POLICY_HANDLERS.get(type(stmt.node))
            if handler:
                mutants.extend(handler(stmt))
    helpers = policy_helpers(policies_dir)
    for path in sorted(schema_dir.glob("*.sql")) + sorted(functions_dir.glob("*.sql")):
        for stmt in _statements(path):
            if isinstance(stmt.node, ast.ViewStmt):
                mutants.extend(_view_mutants(stmt))
            elif isinstance(stmt.node, ast.CreateFunctionStmt):
                mutants.extend(_function_mutants(stmt, helpers))
    ids = [m.id for m in mutants]
    duplicates = {i for i in ids if ids.count(i) > 1}
    if duplicates:
        raise ValueError(f"mutant ids are not unique: {sorted(duplicates)}")
    return mutants


def source_texts(db_dir: Path = DB_DIR) -> dict[str, str]:
    """{relpath under db/: text} of every schema, function and policy file (what Mutant.apply edits)."""
    return {
        str(p.relative_to(db_dir)): p.read_text(encoding="utf-8")
        for sub in ("schema", "functions", "policies")
        for p in sorted((db_dir / sub).glob("*.sql"))
    }
