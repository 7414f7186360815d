"""Reading policy expressions with pglast: the one place that knows what a bare auth call, a constant
`true`, a user_metadata reference or an unqualified subquery column looks like in the AST.

Both lints use it: the static lint on `create policy` statements of db/, the catalog lint on the
expressions PostgreSQL stores (`pg_get_expr(polqual, polrelid)`, re-parsed). Working on the AST rather than
on text is what catches `true and true`, `1 = 1` or an auth call spelled with odd spacing.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pglast
from pglast import ast
from pglast.enums import BoolExprType, BoolTestType, NullTestType

# The calls that read the JWT: once per row unless wrapped in `(select ...)` (Supabase's splinter lint 0003, auth_rls_initplan).
AUTH_FUNCTIONS = {("auth", "uid"), ("auth", "jwt"), ("auth", "role"), ("auth", "email")}
SETTING_FUNCTIONS = {(None, "current_setting"), ("pg_catalog", "current_setting")}


@dataclass(frozen=True)
class Visit:
    node: ast.Node
    in_subquery: bool  # below the subselect of a SubLink: evaluated once, not per row of the policy's table
    location: int | None  # the node's own location, else the nearest ancestor's (A_Const has none)


def walk(node: object, in_subquery: bool = False, location: int | None = None) -> Iterator[Visit]:
    """Every node below `node`, depth first, with whether it sits inside a subquery."""
    if isinstance(node, list | tuple):
        for child in node:
            yield from walk(child, in_subquery, location)
        return
    if not isinstance(node, ast.Node):
        return
    own = getattr(node, "location", None)
    here = own if isinstance(own, int) and own >= 0 else location
    yield Visit(node, in_subquery, here)
    for slot in getattr(node, "__slots__", ()):  # each concrete node class declares its fields there
        child = getattr(node, slot, None)
        below = in_subquery or (isinstance(node, ast.SubLink) and slot == "subselect")
        yield from walk(child, below, here)


def parse_expression(text: str) -> ast.Node:
    """Parse a stand-alone SQL expression, e.g. what pg_get_expr() returns for a policy."""
    select = pglast.parse_sql(f"select {text}")[0].stmt
    if not isinstance(select, ast.SelectStmt) or not select.targetList:
        raise ValueError(f"not a single SQL expression: {text!r}")
    return select.targetList[0].val


def qualified_name(names: tuple | list | None) -> tuple[str | None, str]:
    parts = [n.sval for n in names or () if isinstance(n, ast.String) and n.sval is not None]
    return (parts[-2] if len(parts) > 1 else None), (parts[-1] if parts else "")


def call_name(call: ast.Node) -> str:
    if not isinstance(call, ast.FuncCall):
        raise TypeError(f"not a function call: {type(call).__name__}")
    schema, name = qualified_name(call.funcname)
    return f"{schema}.{name}()" if schema else f"{name}()"


def bare_auth_calls(expr: object) -> list[Visit]:
    """auth.uid()/jwt()/role()/email() and current_setting() calls not inside any scalar subselect."""
    found = []
    for visit in walk(expr):
        if isinstance(visit.node, ast.FuncCall) and not visit.in_subquery:
            key = qualified_name(visit.node.funcname)
            if key in AUTH_FUNCTIONS or key in SETTING_FUNCTIONS:
                found.append(visit)
    return found


def unwrapped_function_calls(expr: object) -> list[Visit]:
    """Calls to the project's own functions (`private.is_admin()`) that read no column of the row yet sit
    outside a subselect: PostgreSQL runs them once per row (bench/results/rls_overhead.md measures the difference).
    Built-ins (unqualified or pg_catalog) and auth.*() (reported as 0003) are left out."""
    found = []
    for visit in walk(expr):
        node = visit.node
        if not isinstance(node, ast.FuncCall) or visit.in_subquery:
            continue
        schema, name = qualified_name(node.funcname)
        if schema in (None, "pg_catalog") or (schema, name) in AUTH_FUNCTIONS:
            continue
        if not any(isinstance(v.node, ast.ColumnRef) for v in walk(node.args)):
            found.append(visit)
    return found


def user_metadata_references(expr: object) -> list[Visit]:
    """Anything reading `user_metadata` (JWT claim, user-editable) or auth.users.raw_user_meta_data.

    Both a JSON key (`'user_metadata'`) and a column name are String nodes in the AST, so one test covers
    `->`, `#>`, `jsonb_extract_path(...)` and a join to auth.users alike.
    """
    return [
        visit
        for visit in walk(expr)
        if isinstance(visit.node, ast.String)
        and (
            "user_metadata" in (visit.node.sval or "").lower()
            or (visit.node.sval or "").lower() == "raw_user_meta_data"
        )
    ]


def unqualified_subquery_columns(expr: object) -> list[Visit]:
    """Columns inside a policy subquery written without a table alias (they may bind to the
    inner table and turn the guard into a tautology)."""
    return [
        visit
        for visit in walk(expr)
        if visit.in_subquery
        and isinstance(visit.node, ast.ColumnRef)
        and visit.node.fields is not None
        and len(visit.node.fields) == 1
        and isinstance(visit.node.fields[0], ast.String)
    ]


def column_name(ref: ast.Node) -> str:
    if not isinstance(ref, ast.ColumnRef):
        raise TypeError(f"not a column reference: {type(ref).__name__}")
    return ".".join(f.sval or "" if isinstance(f, ast.String) else "*" for f in ref.fields or ())


def policy_table_columns(expr: object, table: str) -> set[str]:
    """Columns of the policy's own table the expression reads (what an index must lead with).

    Outside subqueries a bare name is the policy's table; inside, PostgreSQL's deparser qualifies an outer
    reference with the table name, which is how it is recognised there.
    """
    columns = set()
    for visit in walk(expr):
        node = visit.node
        fields = node.fields or () if isinstance(node, ast.ColumnRef) else ()
        if not fields or not all(isinstance(f, ast.String) for f in fields):
            continue
        names = [f.sval for f in fields]
        if len(names) == 1 and not visit.in_subquery:
            columns.add(names[0])
        elif len(names) == 2 and names[0] == table:
            columns.add(names[1])
    return columns


# -- constant evaluation ----------------------------------------------------------------------------------

UNKNOWN = object()  # depends on the row or the caller: not a constant
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {  # constants of any type; a TypeError means UNKNOWN
    "=": operator.eq,
    "<>": operator.ne,
    "!=": operator.ne,
    "<": operator.lt,
    ">": operator.gt,
    "<=": operator.le,
    ">=": operator.ge,
}
_BOOL_TEXT = {"t": True, "true": True, "y": True, "yes": True, "on": True, "1": True}
_BOOL_TEXT |= {"f": False, "false": False, "n": False, "no": False, "off": False, "0": False}


def constant_value(expr: object) -> object:
    """The value of an expression made only of constants (True, False, None for NULL, a number or a
    string), or UNKNOWN. `true`, `1 = 1`, `true and true`, `'t'::boolean`, `not false` all give True."""
    if expr is None:
        return UNKNOWN
    if isinstance(expr, ast.A_Const):
        if expr.isnull:
            return None
        val = expr.val
        for attr in ("boolval", "ival", "fval", "sval", "bsval"):
            if hasattr(val, attr):
                raw = getattr(val, attr)
                return float(raw) if attr == "fval" else raw
        return UNKNOWN
    if isinstance(expr, ast.TypeCast):
        inner = constant_value(expr.arg)
        _, type_name = qualified_name(expr.typeName.names if expr.typeName else None)
        if type_name in ("bool", "boolean") and isinstance(inner, str):
            return _BOOL_TEXT.get(inner.strip().lower(), UNKNOWN)
        if type_name in ("bool", "boolean") and isinstance(inner, int):
            return bool(inner)
        return inner
    if isinstance(expr, ast.BoolExpr):
        values = [constant_value(arg) for arg in expr.args or ()]
        if expr.boolop == BoolExprType.NOT_EXPR:
            value = values[0]
            return UNKNOWN if value is UNKNOWN else (None if value is None else not value)
        if expr.boolop == BoolExprType.AND_EXPR:
            if any(v is False for v in values):
                return False
            return UNKNOWN if UNKNOWN in values else (None if None in values else True)
        if any(v is True for v in values):
            return True
        return UNKNOWN if UNKNOWN in values else (None if None in values else False)
    if isinstance(expr, ast.A_Expr) and expr.name and len(expr.name) == 1:
        compare = _COMPARE.get(expr.name[0].sval)
        left, right = constant_value(expr.lexpr), constant_value(expr.rexpr)
        if compare is None or UNKNOWN in (left, right):
            return UNKNOWN
        if left is None or right is None:
            return None
        try:
            return compare(left, right)
        except TypeError:
            return UNKNOWN
    if isinstance(expr, ast.NullTest):
        value = constant_value(expr.arg)
        if value is UNKNOWN:
            return UNKNOWN
        return (value is None) == (expr.nulltesttype == NullTestType.IS_NULL)
    if isinstance(expr, ast.BooleanTest):
        value = constant_value(expr.arg)
        if value is UNKNOWN or expr.booltesttype is None:
            return UNKNOWN
        return {
            BoolTestType.IS_TRUE: value is True,
            BoolTestType.IS_NOT_TRUE: value is not True,
            BoolTestType.IS_FALSE: value is False,
            BoolTestType.IS_NOT_FALSE: value is not False,
            BoolTestType.IS_UNKNOWN: value is None,
            BoolTestType.IS_NOT_UNKNOWN: value is not None,
        }[expr.booltesttype]
    return UNKNOWN


def always_true(expr: object) -> bool:
    return constant_value(expr) is True
