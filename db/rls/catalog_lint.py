"""Catalog checks on a migrated database: Supabase splinter's security rules that apply to plain
PostgreSQL, its two RLS performance rules, and this project's own rules (FORCE, grants vs policies, staff
MFA, indexed policy columns).

The API schemas are passed in (default `public`, what `pgrst.db_schemas` is set to in production) rather
than read from the `pgrst.db_schemas` setting: splinter silently returns nothing when that setting is
unset (a missing setting reads as NULL, not as an error), and a lint that passes because of a missing GUC is worse than no lint.
Policy expressions are read back with pg_get_expr() and parsed with pglast, so `true and true` or an auth
call hidden behind odd spacing is caught, not just the spellings a regular expression knows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property

import psycopg
from pglast import ast

from db.rls import expressions as ex
from db.rls.findings import Finding, finding
from nexk.portal_login import PORTAL_LOGIN, PORTAL_ROLES, reachable_roles

EXPOSED_SCHEMAS = ("public",)
API_ROLES = ("anon", "authenticated")
# Schemas Supabase (or our emulation of it) owns: their objects are not ours to lint.
MANAGED_SCHEMAS = [
    "auth", "storage", "extensions", "graphql", "graphql_public", "realtime", "vault", "pgsodium",
    "pgsodium_masks", "pgbouncer", "cron", "net", "pgmq", "supabase_functions", "supabase_migrations",
    "information_schema", "pg_catalog", "pg_toast",
]  # fmt: skip
# Column names that must never be readable without RLS (splinter 0023 checks the same families).
SENSITIVE_COLUMNS = {
    "password", "passwd", "pwd", "passphrase", "password_hash", "secret", "secret_key", "private_key",
    "api_key", "apikey", "auth_key", "token", "jwt", "access_token", "refresh_token", "session_token",
    "session_secret", "recovery_code", "backup_code", "verification_code", "otp", "totp_secret",
    "ssn", "social_security_number", "national_id", "tax_id", "passport_number", "drivers_license",
    "credit_card", "card_number", "cvv", "cvc", "iban", "bank_account", "account_number", "routing_number",
    "medical_record", "health_record", "ssh_key", "pgp_key", "license_key",
}  # fmt: skip
COMMANDS = {"r": "select", "a": "insert", "w": "update", "d": "delete"}


@dataclass(frozen=True)
class Policy:
    table_oid: int
    schema: str
    table: str
    name: str
    cmd: str  # select, insert, update, delete or all
    permissive: bool
    roles: tuple[str, ...]  # `public` stands for every role
    using: str | None
    check: str | None

    @property
    def relation(self) -> str:
        return f"{self.schema}.{self.table}"

    @property
    def object(self) -> str:
        return f'{self.relation} policy "{self.name}"'

    @cached_property
    def using_ast(self) -> ast.Node | None:
        return ex.parse_expression(self.using) if self.using else None

    @cached_property
    def check_ast(self) -> ast.Node | None:
        return ex.parse_expression(self.check) if self.check else None

    def applies_to(self, role: str, command: str) -> bool:
        return (role in self.roles or "public" in self.roles) and self.cmd in (command, "all")


@dataclass(frozen=True)
class Table:
    oid: int
    schema: str
    name: str
    kind: str
    rls: bool
    forced: bool

    @property
    def relation(self) -> str:
        return f"{self.schema}.{self.name}"


class Catalog:
    """What the checks read, fetched once per lint run."""

    def __init__(self, conn: psycopg.Connection, exposed: Iterable[str] = EXPOSED_SCHEMAS) -> None:
        self.conn = conn
        self.exposed = list(exposed)

    def rows(self, query: str, **params: object) -> list[tuple]:
        params.setdefault("exposed", self.exposed)
        params.setdefault("managed", MANAGED_SCHEMAS)
        params.setdefault("api_roles", list(API_ROLES))
        return self.conn.execute(query, params).fetchall()

    @cached_property
    def policies(self) -> list[Policy]:
        query = """
            select c.oid, n.nspname, c.relname, p.polname,
                   case p.polcmd when 'r' then 'select' when 'a' then 'insert' when 'w' then 'update'
                                 when 'd' then 'delete' else 'all' end,
                   p.polpermissive,
                   array(select case when r = 0 then 'public' else pg_catalog.pg_get_userbyid(r)::text end
                         from unnest(p.polroles) as r),
                   pg_catalog.pg_get_expr(p.polqual, p.polrelid),
                   pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid)
            from pg_catalog.pg_policy as p
            join pg_catalog.pg_class as c on c.oid = p.polrelid
            join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
            where n.nspname <> all(%(managed)s) or (n.nspname, c.relname) = ('storage', 'objects')
            order by n.nspname, c.relname, p.polname
        """
        return [
            Policy(oid, schema, table, name, cmd, permissive, tuple(roles), using, check)
            for oid, schema, table, name, cmd, permissive, roles, using, check in self.rows(query)
        ]

    @cached_property
    def tables(self) -> list[Table]:
        query = """
            select c.oid, n.nspname, c.relname, c.relkind, c.relrowsecurity, c.relforcerowsecurity
            from pg_catalog.pg_class as c
            join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
            where c.relkind in ('r', 'p') and n.nspname <> all(%(managed)s) and n.nspname not like 'pg\\_%%'
              and not exists (select from pg_catalog.pg_depend as d
                              where d.classid = 'pg_class'::regclass and d.objid = c.oid and d.deptype = 'e')
            order by n.nspname, c.relname
        """
        return [Table(*row) for row in self.rows(query)]

    def exposed_tables(self) -> list[Table]:
        return [t for t in self.tables if t.schema in self.exposed]

    def policies_of(self, table_oid: int) -> list[Policy]:
        return [p for p in self.policies if p.table_oid == table_oid]


Check = Callable[[Catalog], list[Finding]]
CHECKS: list[Check] = []


def check(function: Check) -> Check:
    CHECKS.append(function)
    return function


# Relations of the given kinds in an API schema that anon or authenticated can read.
IN_API = """
        select n.nspname || '.' || c.relname, c.oid, c.relkind, coalesce(c.reloptions, '{}')
        from pg_catalog.pg_class as c
        join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
        where c.relkind::text = any(%(kinds)s) and n.nspname = any(%(exposed)s)
          and (pg_catalog.has_table_privilege('anon', c.oid, 'select')
               or pg_catalog.has_table_privilege('authenticated', c.oid, 'select'))
          and not exists (select from pg_catalog.pg_depend as d
                          where d.classid = 'pg_class'::regclass and d.objid = c.oid and d.deptype = 'e')
        order by 1
"""


def _in_api(cat: Catalog, kinds: str) -> list[tuple]:
    return cat.rows(IN_API, kinds=list(kinds))


def _security_invoker(reloptions: list[str]) -> bool:
    return any(
        o.lower().replace(" ", "") in {f"security_invoker={v}" for v in ("true", "on", "1", "yes")}
        for o in reloptions
    )


# -- splinter security rules ------------------------------------------------------------------------------


@check
def auth_users_exposed(cat: Catalog) -> list[Finding]:
    """0002: a view or matview in an API schema over auth.users (security invoker does not help while
    auth.users has no RLS, splinter PR #24)."""
    if not cat.rows("select to_regclass('auth.users') is not null")[0][0]:
        return []
    users_rls = cat.rows("select relrowsecurity from pg_catalog.pg_class where oid = 'auth.users'::regclass")[
        0
    ][0]
    over_users = {
        oid
        for (oid,) in cat.rows(
            """select distinct rw.ev_class from pg_catalog.pg_rewrite as rw
               join pg_catalog.pg_depend as d on d.classid = 'pg_rewrite'::regclass and d.objid = rw.oid
               where d.refobjid = 'auth.users'::regclass"""
        )
    }
    return [
        finding("0002", name, f"{name} exposes auth.users (e-mails, metadata) to anon/authenticated")
        for name, oid, kind, options in _in_api(cat, "vm")
        if oid in over_users and (kind == "m" or not _security_invoker(options) or not users_rls)
    ]


@check
def policy_exists_rls_disabled(cat: Catalog) -> list[Finding]:
    """0007: policies that do nothing because RLS is off."""
    return [
        finding(
            "0007", t.relation, f"{t.relation} has {len(cat.policies_of(t.oid))} policies but RLS is disabled"
        )
        for t in cat.tables
        if not t.rls and cat.policies_of(t.oid)
    ]


@check
def rls_enabled_no_policy(cat: Catalog) -> list[Finding]:
    """0008 (INFO): RLS on and no policy means deny-all for the API roles; fine if meant."""
    return [
        finding(
            "0008", t.relation, f"{t.relation} has RLS enabled and no policy: nobody but the owner reads it"
        )
        for t in cat.tables
        if t.rls and not cat.policies_of(t.oid)
    ]


@check
def security_definer_view(cat: Catalog) -> list[Finding]:
    """0010: a view runs as its owner (bypassing RLS) unless created with security_invoker."""
    return [
        finding("0010", name, f"view {name} runs with its owner's rights, bypassing the caller's RLS")
        for name, _, _, options in _in_api(cat, "v")
        if not _security_invoker(options)
    ]


@check
def function_search_path_mutable(cat: Catalog) -> list[Finding]:
    """0011: a function without a pinned search_path can be hijacked by objects a caller creates."""
    query = """
        select distinct n.nspname || '.' || p.proname, p.prosecdef
        from pg_catalog.pg_proc as p
        join pg_catalog.pg_namespace as n on n.oid = p.pronamespace
        where n.nspname <> all(%(managed)s) and n.nspname not like 'pg\\_%%'
          and not exists (select from unnest(coalesce(p.proconfig, '{}')) as c where c like 'search\\_path=%%')
          and not exists (select from pg_catalog.pg_depend as d
                          where d.classid = 'pg_proc'::regclass and d.objid = p.oid and d.deptype = 'e')
        order by 1
    """
    return [
        finding(
            "0011", name, f"{'security definer ' if definer else ''}function {name} has a mutable search_path"
        )
        for name, definer in cat.rows(query)
    ]


@check
def rls_disabled_in_public(cat: Catalog) -> list[Finding]:
    """0013: an API table with RLS off is readable by anyone holding the anon key."""
    found = []
    for t in cat.exposed_tables():
        granted = cat.rows(
            "select pg_catalog.has_table_privilege('anon', %(oid)s, 'select')"
            " or pg_catalog.has_table_privilege('authenticated', %(oid)s, 'select')",
            oid=t.oid,
        )[0][0]
        if not t.rls and granted:
            found.append(
                finding("0013", t.relation, f"{t.relation} is readable through the API and RLS is off")
            )
    return found


@check
def extension_in_public(cat: Catalog) -> list[Finding]:
    """0014: extension objects in public become API surface (and shadow names)."""
    query = """select e.extname from pg_catalog.pg_extension as e
               join pg_catalog.pg_namespace as n on n.oid = e.extnamespace
               where n.nspname = 'public' order by 1"""
    return [
        finding("0014", f"extension {name}", f"extension {name} is installed in schema public")
        for (name,) in cat.rows(query)
    ]


@check
def rls_references_user_metadata(cat: Catalog) -> list[Finding]:
    """0015: user_metadata is editable by the user it describes."""
    return [
        finding("0015", p.object, f"{p.object} reads user_metadata, which every user can edit")
        for p in cat.policies
        if ex.user_metadata_references(p.using_ast) or ex.user_metadata_references(p.check_ast)
    ]


@check
def materialized_view_in_api(cat: Catalog) -> list[Finding]:
    """0016: materialized views have no RLS."""
    return [
        finding("0016", name, f"materialized view {name} is readable through the API and has no RLS")
        for name, *_ in _in_api(cat, "m")
    ]


@check
def foreign_table_in_api(cat: Catalog) -> list[Finding]:
    """0017: foreign tables ignore RLS."""
    return [
        finding("0017", name, f"foreign table {name} is readable through the API and ignores RLS")
        for name, *_ in _in_api(cat, "f")
    ]


@check
def fkey_to_auth_unique(cat: Catalog) -> list[Finding]:
    """0021: a foreign key to a non-primary unique key of auth breaks when GoTrue changes that key."""
    query = """
        select n.nspname || '.' || c.relname, con.conname, fn.nspname || '.' || f.relname
        from pg_catalog.pg_constraint as con
        join pg_catalog.pg_class as c on c.oid = con.conrelid
        join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
        join pg_catalog.pg_class as f on f.oid = con.confrelid
        join pg_catalog.pg_namespace as fn on fn.oid = f.relnamespace
        join pg_catalog.pg_index as i on i.indexrelid = con.conindid
        where con.contype = 'f' and fn.nspname = 'auth' and n.nspname <> 'auth' and not i.indisprimary
        order by 1, 2
    """
    return [
        finding(
            "0021", f"{table}.{name}", f"foreign key {name} of {table} references a unique key of {target}"
        )
        for table, name, target in cat.rows(query)
    ]


@check
def sensitive_columns_exposed(cat: Catalog) -> list[Finding]:
    """0023: credential- or identity-looking columns in an API table without RLS."""
    found = []
    for name, oid, *_ in _in_api(cat, "rp"):
        if next(t for t in cat.tables if t.oid == oid).rls:
            continue
        columns = [
            col
            for (col,) in cat.rows(
                "select attname from pg_catalog.pg_attribute where attrelid = %(oid)s and attnum > 0"
                " and not attisdropped order by attnum",
                oid=oid,
            )
            if col.lower().replace("-", "_") in SENSITIVE_COLUMNS
        ]
        if columns:
            found.append(
                finding("0023", name, f"{name} has RLS off and sensitive columns: {', '.join(columns)}")
            )
    return found


def _always_true_write(p: Policy) -> bool:
    """0024's condition: a permissive write policy for an API role that lets every row through."""
    if not p.permissive or not set(p.roles) & {"public", *API_ROLES}:
        return False
    if p.cmd in ("update", "delete", "all"):
        return ex.always_true(p.using_ast) or ex.always_true(p.check_ast)
    return p.cmd == "insert" and (p.check_ast is None or ex.always_true(p.check_ast))


@check
def rls_policy_always_true(cat: Catalog) -> list[Finding]:
    """0024: `using (true)` on a write policy is no policy at all (SELECT `using (true)` is allowed)."""
    return [
        finding("0024", p.object, f"{p.object}: permissive {p.cmd} policy whose condition is always true")
        for p in cat.policies
        if _always_true_write(p)
    ]


def _only_bucket_filter(expr: ast.Node | None, bucket: str) -> bool:
    """`bucket_id = '<bucket>'` and nothing else: any client can list the bucket."""
    if expr is None or ex.always_true(expr):
        return True
    if not (isinstance(expr, ast.A_Expr) and [n.sval for n in expr.name or ()] == ["="]):
        return False
    sides = [expr.lexpr, expr.rexpr]
    columns = [
        s for s in sides if isinstance(s, ast.ColumnRef) and ex.column_name(s).split(".")[-1] == "bucket_id"
    ]
    values = [ex.constant_value(s) for s in sides]
    return bool(columns) and bucket in values


@check
def public_bucket_allows_listing(cat: Catalog) -> list[Finding]:
    """0025: a public bucket serves files by URL; a broad SELECT policy also lets anyone list them."""
    if not cat.rows("select to_regclass('storage.buckets') is not null")[0][0]:
        return []
    found = []
    for bucket_id, bucket_name in cat.rows("select id, name from storage.buckets where public order by id"):
        broad = [
            p.name
            for p in cat.policies
            if p.relation == "storage.objects"
            and p.permissive
            and p.cmd in ("select", "all")
            and set(p.roles) & {"public", *API_ROLES}
            and _only_bucket_filter(p.using_ast, bucket_id)
        ]
        if broad:
            found.append(
                finding(
                    "0025",
                    f"bucket {bucket_name}",
                    f"public bucket {bucket_name} can be listed through storage.objects policies: {', '.join(broad)}",
                )
            )
    return found


@check
def security_definer_function_executable(cat: Catalog) -> list[Finding]:
    """0028/0029: a security definer function in an API schema is an /rpc endpoint that bypasses RLS."""
    query = """
        select distinct n.nspname || '.' || p.proname,
               pg_catalog.has_function_privilege('anon', p.oid, 'execute'),
               pg_catalog.has_function_privilege('authenticated', p.oid, 'execute')
        from pg_catalog.pg_proc as p
        join pg_catalog.pg_namespace as n on n.oid = p.pronamespace
        where p.prosecdef and n.nspname = any(%(exposed)s)
        order by 1
    """
    found = []
    for name, anon, authenticated in cat.rows(query):
        for rule, role, granted in (("0028", "anon", anon), ("0029", "authenticated", authenticated)):
            if granted:
                found.append(
                    finding(rule, name, f"{role} can execute security definer function {name} via /rpc")
                )
    return found


# -- splinter performance rules ---------------------------------------------------------------------------


@check
def unindexed_foreign_keys(cat: Catalog) -> list[Finding]:
    """0001 (INFO): deleting a parent row scans the whole child table."""
    query = """
        select n.nspname || '.' || c.relname, con.conname,
               array(select a.attname from unnest(con.conkey) as k
                     join pg_catalog.pg_attribute as a on a.attrelid = con.conrelid and a.attnum = k)
        from pg_catalog.pg_constraint as con
        join pg_catalog.pg_class as c on c.oid = con.conrelid
        join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
        where con.contype = 'f' and n.nspname <> all(%(managed)s)
          and not exists (
              select from pg_catalog.pg_index as i
              where i.indrelid = con.conrelid
                and (string_to_array(i.indkey::text, ' ')::int2[])[1:cardinality(con.conkey)] @> con.conkey
                and (string_to_array(i.indkey::text, ' ')::int2[])[1:cardinality(con.conkey)] <@ con.conkey)
        order by 1, 2
    """
    return [
        finding("0001", f"{table}.{name}", f"foreign key {name} ({', '.join(cols)}) of {table} has no index")
        for table, name, cols in cat.rows(query)
    ]


@check
def auth_rls_initplan(cat: Catalog) -> list[Finding]:
    """0003 (WARN): a bare auth call in a policy is evaluated once per row."""
    found = []
    for p in cat.policies:
        calls = ex.bare_auth_calls(p.using_ast) + ex.bare_auth_calls(p.check_ast)
        names = sorted({ex.call_name(v.node) for v in calls})
        if names:
            found.append(finding("0003", p.object, f"{p.object} calls {', '.join(names)} once per row"))
    return found


@check
def unwrapped_function_call(cat: Catalog) -> list[Finding]:
    """A helper that reads no column, called outside a subselect, runs once per row."""
    found = []
    for p in cat.policies:
        calls = ex.unwrapped_function_calls(p.using_ast) + ex.unwrapped_function_calls(p.check_ast)
        names = sorted({ex.call_name(v.node) for v in calls})
        if names:
            found.append(
                finding(
                    "nexk_unwrapped_function_call",
                    p.object,
                    f"{p.object} calls {', '.join(names)} once per row",
                )
            )
    return found


@check
def multiple_permissive_policies(cat: Catalog) -> list[Finding]:
    """0006 (WARN): every permissive policy for the role and command runs for every row."""
    found = []
    for t in cat.exposed_tables():
        policies = [p for p in cat.policies_of(t.oid) if p.permissive]
        for role in API_ROLES:
            for command in COMMANDS.values():
                names = [p.name for p in policies if p.applies_to(role, command)]
                if len(names) > 1:
                    found.append(
                        finding(
                            "0006",
                            t.relation,
                            f"{t.relation}: {len(names)} permissive {command} policies for {role}: {', '.join(names)}",
                            object=f"{t.relation} {role} {command}",
                        )
                    )
    return found


# -- this project's rules ---------------------------------------------------------------------------------


@check
def rls_not_forced(cat: Catalog) -> list[Finding]:
    """Without FORCE the table owner (migrations, SECURITY DEFINER helpers it owns) skips every policy."""
    return [
        finding("nexk_rls_not_forced", t.relation, f"{t.relation} does not force row level security")
        for t in cat.exposed_tables()
        if not t.forced
    ]


def _privileges(cat: Catalog, role: str, oid: int) -> list[str]:
    # Column grants count too (`grant update (status)`): has_any_column_privilege covers table grants.
    row = cat.rows(
        """select pg_catalog.has_any_column_privilege(%(role)s, %(oid)s, 'select'),
                  pg_catalog.has_any_column_privilege(%(role)s, %(oid)s, 'insert'),
                  pg_catalog.has_any_column_privilege(%(role)s, %(oid)s, 'update'),
                  pg_catalog.has_table_privilege(%(role)s, %(oid)s, 'delete')""",
        role=role,
        oid=oid,
    )[0]
    return [command for command, granted in zip(COMMANDS.values(), row, strict=True) if granted]


@check
def grants_match_policies(cat: Catalog) -> list[Finding]:
    """Every command granted to an API role has a permissive policy for it; otherwise either the grant is
    dead weight (and a future `using (true)` turns it on) or a policy was forgotten."""
    found = []
    for t in cat.exposed_tables():
        if not t.rls:
            continue  # 0013 reports it: policies mean nothing yet
        policies = [p for p in cat.policies_of(t.oid) if p.permissive]
        for role in API_ROLES:
            granted = _privileges(cat, role, t.oid)
            if (
                role == "anon"
                and granted
                and not any(role in p.roles or "public" in p.roles for p in policies)
            ):
                found.append(
                    finding(
                        "nexk_anon_grant_without_policy",
                        t.relation,
                        f"anon holds {', '.join(granted)} on {t.relation} but no policy applies to anon",
                        object=f"{t.relation} anon",
                        hint=f"`revoke all on {t.relation} from anon` (anon never uses this table)",
                    )
                )
                continue
            for command in granted:
                if not any(p.applies_to(role, command) for p in policies):
                    found.append(
                        finding(
                            "nexk_grant_without_policy",
                            t.relation,
                            f"{role} is granted {command} on {t.relation} but no permissive {command} policy "
                            f"applies to {role}",
                            object=f"{t.relation} {role} {command}",
                            hint=f"revoke the grant (`revoke {command} on {t.relation} from {role}`) or add a "
                            "policy",
                        )
                    )
    return found


@check
def missing_mfa_policy(cat: Catalog) -> list[Finding]:
    """Staff need aal2: every API table carries a RESTRICTIVE policy for authenticated on every command."""
    found = []
    for t in cat.exposed_tables():
        restrictive = [p for p in cat.policies_of(t.oid) if not p.permissive]
        missing = [
            c for c in COMMANDS.values() if not any(p.applies_to("authenticated", c) for p in restrictive)
        ]
        if missing:
            found.append(
                finding(
                    "nexk_missing_mfa_policy",
                    t.relation,
                    f"{t.relation} has no restrictive policy for authenticated on {', '.join(missing)}",
                )
            )
    return found


@check
def policy_columns_unindexed(cat: Catalog) -> list[Finding]:
    """A column a policy filters on, if no index leads with it, makes every API query a sequential scan.
    Boolean columns are left out: a btree on a two-value column is never chosen."""
    leading: dict[int, set[str]] = defaultdict(set)
    for oid, column in cat.rows(
        """select i.indrelid, a.attname from pg_catalog.pg_index as i
           join pg_catalog.pg_attribute as a on a.attrelid = i.indrelid and a.attnum = i.indkey[0]"""
    ):
        leading[oid].add(column)
    found = []
    for t in cat.exposed_tables():
        columns = dict(
            cat.rows(
                "select attname, atttypid = 'boolean'::regtype from pg_catalog.pg_attribute"
                " where attrelid = %(oid)s and attnum > 0 and not attisdropped",
                oid=t.oid,
            )
        )
        used: dict[str, list[str]] = defaultdict(list)
        for p in cat.policies_of(t.oid):
            for column in ex.policy_table_columns(p.using_ast, t.name) | ex.policy_table_columns(
                p.check_ast, t.name
            ):
                used[column].append(p.name)
        for column, names in sorted(used.items()):
            if column in columns and not columns[column] and column not in leading[t.oid]:
                found.append(
                    finding(
                        "nexk_policy_column_unindexed",
                        f"{t.relation}.{column}",
                        f"{t.relation}.{column} is used by policies {', '.join(sorted(set(names)))} and no index "
                        "leads with it",
                        hint=f"`create index on {t.relation} ({column})`",
                    )
                )
    return found


# Table privileges that are not row access: RLS never sees them (db/schema/0360 says what each one allows).
NON_ROW_PRIVILEGES = ("trigger", "truncate", "references", "maintain")


@check
def api_role_table_privilege(cat: Catalog) -> list[Finding]:
    """TRIGGER, TRUNCATE, REFERENCES or MAINTAIN held by anon or authenticated (directly, through PUBLIC or
    an inherited role) on any relation of any schema they may use: each is harm that no policy sees."""
    query = """
        select n.nspname, c.relname, r.role_name, p.privilege,
               pg_catalog.has_table_privilege('public', c.oid, p.privilege),
               pg_catalog.pg_get_userbyid(c.relowner)
        from pg_catalog.pg_class as c
        join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
        cross join unnest(%(api_roles)s::text[]) as r (role_name)
        cross join unnest(%(privileges)s::text[]) as p (privilege)
        where c.relkind in ('r', 'p', 'v', 'm', 'f')
          and pg_catalog.has_schema_privilege(r.role_name, n.oid, 'usage')
          and pg_catalog.has_table_privilege(r.role_name, c.oid, p.privilege)
        order by 1, 2, 3, array_position(%(privileges)s::text[], p.privilege)
    """
    version = cat.rows("select current_setting('server_version_num')::int")[0][0]
    privileges = [p for p in NON_ROW_PRIVILEGES if p != "maintain" or version >= 170000]
    found = []
    for schema, table, role, privilege, via_public, owner in cat.rows(query, privileges=privileges):
        relation = f"{schema}.{table}"
        grantee = f"public, {role}" if via_public else role
        found.append(
            finding(
                "nexk_api_role_table_privilege",
                relation,
                f"{role} holds {privilege.upper()} on {relation}"
                + (" (granted to PUBLIC)" if via_public else "")
                + ": RLS does not govern it",
                object=f"{relation} {role} {privilege}",
                hint=f"`revoke {privilege} on {relation} from {grantee}` in a new migration in db/schema/ "
                f"(as 0360 does); only the owner ({owner}) or a member of it can",
            )
        )
    return found


@check
def api_role_temp(cat: Catalog) -> list[Finding]:
    """TEMP on the database lets anon or authenticated create pg_temp functions (a trigger's body, a
    search_path decoy) and temporary tables; the portal needs neither."""
    query = """
        select r.role_name, pg_catalog.has_database_privilege('public', current_database(), 'temp'),
               current_database()
        from unnest(%(api_roles)s::text[]) as r (role_name)
        where pg_catalog.has_database_privilege(r.role_name, current_database(), 'temp')
        order by 1
    """
    return [
        finding(
            "nexk_api_role_temp",
            f"database {database}",
            f"{role} may create temporary objects in database {database}"
            + (" (TEMP is granted to PUBLIC)" if via_public else ""),
            object=f"database {role} temp",
            hint=f"`revoke temporary on database {database} from {'public, ' if via_public else ''}{role}` "
            "(db/schema/0360 does it, granting TEMP back to Supabase's platform roles by name)",
        )
        for role, via_public, database in cat.rows(query)
    ]


@check
def portal_login_reach(cat: Catalog) -> list[Finding]:
    """The portal's login (db/schema/0375) reaches anon and authenticated and nothing else, through any chain
    of memberships: one that leads to a BYPASSRLS or superuser role (service_role, postgres) lets one injected
    `set role` read every organization's data. The portal refuses to start over the same rule
    (app/database.py); this catches the drift before a deploy does. A database without the login (only the
    compatibility layer, or a migration not yet run) has nothing to check."""
    found = []
    for reach in reachable_roles(cat.conn, PORTAL_LOGIN):
        if reach.bypasses_rls:
            message = f"{PORTAL_LOGIN} reaches {reach.role}, which has {reach.powers}: {reach.path}"
        elif reach.role not in PORTAL_ROLES:
            message = (
                f"{PORTAL_LOGIN} reaches {reach.role}, which is neither anon nor authenticated: {reach.path}"
            )
        else:
            continue
        found.append(
            finding(
                "nexk_portal_login_reach",
                f"role {PORTAL_LOGIN}",
                message,
                object=f"{PORTAL_LOGIN} {reach.path}",
                hint=f"`revoke {reach.chain[1]} from {PORTAL_LOGIN}` (the chain's first membership)",
            )
        )
    for superuser, bypassrls in cat.rows(
        "select rolsuper, rolbypassrls from pg_catalog.pg_roles where rolname = %(login)s", login=PORTAL_LOGIN
    ):
        if superuser or bypassrls:
            found.append(
                finding(
                    "nexk_portal_login_reach",
                    f"role {PORTAL_LOGIN}",
                    f"{PORTAL_LOGIN} itself is " + ("SUPERUSER" if superuser else "BYPASSRLS"),
                    object=f"{PORTAL_LOGIN} itself",
                    hint=f"`alter role {PORTAL_LOGIN} nosuperuser nobypassrls` (as a superuser)",
                )
            )
    return found


def lint(conn: psycopg.Connection, exposed: Iterable[str] = EXPOSED_SCHEMAS) -> list[Finding]:
    """Run every catalog check on the database `conn` is connected to (read-only)."""
    catalog = Catalog(conn, exposed)
    return [item for run in CHECKS for item in run(catalog)]
