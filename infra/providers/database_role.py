"""DatabaseRolePassword: `pulumi up` gives a database role (created by a migration) its generated password.

The role itself is schema (db/schema/0203_notifier_role.sql creates `nexk_notifier` with no password); only
its password is infrastructure, because it is a Pulumi-generated secret that also ends up in the Vercel
variable NEXK_WORKER_DATABASE_URL. The provider runs `alter role ... password` over the migrations' session
URL. The password is hashed on the client (SCRAM-SHA-256, libpq's PQencryptPasswordConn), so the statement
the server sees, and may log, never contains it in plain text.

Deleting the resource removes the password (the role can no longer log in); it never drops the role.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    UpdateResult,
)

from infra.providers.base import Provider, diff_inputs, inputs_of, required, with_secret_outputs

ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def role_database_url(pooler_url: str, role: str, password: str) -> str:
    """The pooler URL with `role` and `password` in place of the owner's credentials.

    Supavisor names the tenant in the user (`postgres.<project ref>`), so the role's user is `<role>.<ref>`;
    a URL without a tenant suffix (direct connection, local) gets the bare role.
    """
    parts = urlsplit(pooler_url)
    user = parts.username or ""
    _, dot, tenant = user.partition(".")
    host = parts.hostname or ""
    netloc = f"{quote(role + dot + tenant, safe='.')}:{quote(password, safe='')}@{host}"
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


class DatabaseRolePasswordProvider(Provider):
    """Sets (and on delete removes) one role's password through an owner connection."""

    INPUTS = ("project_ref", "database_url", "role", "password")

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures = required(news, self.INPUTS)
        role = news.get("role")
        if isinstance(role, str) and not ROLE_NAME.fullmatch(role):
            failures.append(CheckFailure("role", f"role {role!r} is not a lower-case PostgreSQL role name"))
        return CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        return diff_inputs(
            olds, news, updatable=("database_url", "password"), replace_on=("project_ref", "role")
        )

    @staticmethod
    def _set_password(database_url: str, role: str, password: str | None) -> None:
        import psycopg
        from psycopg import sql

        with psycopg.connect(database_url, autocommit=True, prepare_threshold=None) as conn:
            if password is None:
                conn.execute(sql.SQL("alter role {} password null").format(sql.Identifier(role)))
                return
            hashed = conn.pgconn.encrypt_password(password.encode(), role.encode(), b"scram-sha-256")
            conn.execute(
                sql.SQL("alter role {} password {}").format(
                    sql.Identifier(role), sql.Literal(hashed.decode())
                )
            )

    def _apply(self, props: Mapping[str, Any]) -> dict[str, Any]:
        self._set_password(props["database_url"], props["role"], props["password"])
        return inputs_of(props, self.INPUTS)

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(f"{props['project_ref']}/roles/{props['role']}", self._apply(props))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(self._apply(news))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        # A password can not be read back (pg_authid holds a salted hash): the state is the last one set.
        return ReadResult(id_, props, inputs_of(props, self.INPUTS))

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        self._set_password(props["database_url"], props["role"], None)


class DatabaseRolePassword(Resource, module="supabase", name="DatabaseRolePassword"):
    def __init__(
        self,
        resource_name: str,
        *,
        project_ref: pulumi.Input[str],
        database_url: pulumi.Input[str],
        role: str,
        password: pulumi.Input[str],
        provider: DatabaseRolePasswordProvider | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {"project_ref": project_ref, "database_url": database_url, "role": role, "password": password}
        opts = with_secret_outputs(opts, "database_url", "password")
        super().__init__(provider or DatabaseRolePasswordProvider(), resource_name, props, opts)
