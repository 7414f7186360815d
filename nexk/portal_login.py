"""The portal's database login `nexk_portal` (db/schema/0375) and the one rule it must keep: from it, no chain of
role memberships leads anywhere but anon and authenticated, and nothing on the way bypasses RLS.

One definition for every side: the portal checks it before serving (app/database.py), `nexk rls lint` reports a
database that breaks it (db/rls/catalog_lint.py), the policy pack checks the Vercel variable's user
(infra/policy/policies.py), and db/logins.py and infra/ give the login its password.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import psycopg

PORTAL_LOGIN = "nexk_portal"
# What the portal's request transactions `set local role` to (app/database.py): nothing else is reachable.
PORTAL_ROLES = ("anon", "authenticated")

# Every role `login` reaches through any chain of pg_auth_members rows, whatever their options: a grant WITH
# INHERIT passes privileges, one WITH SET allows `set role`, and ADMIN lets the chain grow; all count. Each row
# is a chain from the login to the role it reaches. Memberships cannot be circular in PostgreSQL; the `<> all`
# guard only keeps the walk finite whatever the catalog holds. pg_roles and pg_auth_members are readable by any
# role, so the portal's own login (which holds no privilege until it sets a role) can run this.
REACHABLE_ROLES = """
    with recursive reach (roleid, chain) as (
        select m.roleid, array[m.member, m.roleid]
        from pg_catalog.pg_auth_members as m
        inner join pg_catalog.pg_roles as l on m.member = l.oid
        where l.rolname = %(login)s
        union all
        select m.roleid, reach.chain || m.roleid
        from reach
        inner join pg_catalog.pg_auth_members as m on reach.roleid = m.member
        where m.roleid <> all(reach.chain)
    )
    select
        array(
            select pg_catalog.pg_get_userbyid(c.oid)::text
            from unnest(reach.chain) with ordinality as c (oid, n)
            order by c.n
        ),
        r.rolsuper,
        r.rolbypassrls
    from reach
    inner join pg_catalog.pg_roles as r on reach.roleid = r.oid
    order by 1
"""
LOGIN_ATTRIBUTES = "select rolsuper, rolbypassrls from pg_catalog.pg_roles where rolname = %(login)s"


@dataclass(frozen=True)
class Reach:
    """One chain of memberships from the login to a role, and whether that role bypasses RLS."""

    chain: tuple[str, ...]
    superuser: bool
    bypassrls: bool

    @property
    def role(self) -> str:
        return self.chain[-1]

    @property
    def path(self) -> str:
        return " -> ".join(self.chain)

    @property
    def bypasses_rls(self) -> bool:
        return self.superuser or self.bypassrls

    @property
    def powers(self) -> str:
        return " and ".join(
            name for name, held in (("SUPERUSER", self.superuser), ("BYPASSRLS", self.bypassrls)) if held
        )


def reachable_roles(conn: psycopg.Connection[Any], login: str) -> list[Reach]:
    """Every role `login` reaches, one Reach per chain (read from the catalog, nothing changed)."""
    from psycopg.rows import tuple_row  # here: the portal's pool hands out dict-row connections

    with conn.cursor(row_factory=tuple_row) as cur:
        rows = cur.execute(REACHABLE_ROLES, {"login": login}).fetchall()
    return [Reach(tuple(chain), bool(superuser), bool(bypassrls)) for chain, superuser, bypassrls in rows]


def login_problems(conn: psycopg.Connection[Any], login: str) -> list[str]:
    """What breaks the rule for `login`, one sentence each; empty when it is safe to serve requests with.

    A missing login is a problem too (it cannot be the portal's). Each chain is named from the login to the
    role at fault, so the fix (revoke the chain's first membership) can be read off the message."""
    from psycopg.rows import tuple_row

    with conn.cursor(row_factory=tuple_row) as cur:
        row = cur.execute(LOGIN_ATTRIBUTES, {"login": login}).fetchone()
    if row is None:
        return [f"role {login} does not exist"]
    problems = [
        f"{login} itself has {power}"
        for power, held in zip(("SUPERUSER", "BYPASSRLS"), row, strict=True)
        if held
    ]
    for reach in reachable_roles(conn, login):
        if reach.bypasses_rls:
            problems.append(f"{reach.path}: {reach.role} has {reach.powers}")
        elif reach.role not in PORTAL_ROLES:
            problems.append(f"{reach.path}: {reach.role} is neither anon nor authenticated")
    return problems
