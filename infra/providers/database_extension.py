"""DatabaseExtension: `pulumi up` enables a PostgreSQL extension of the Supabase database (pg_cron).

How Supabase enables an extension, from Supabase's own material (checked 2026-12-05):
- the Management API has no extension endpoint: the OpenAPI document the Supabase CLI vendors
  (supabase/cli packages/api/src/generated/openapi.json at 1d1e7191, the commit infra/rehearsal/contracts/
  copies its operations from) has no path about extensions, only SQL through POST
  /v1/projects/{ref}/database/query; the official Terraform provider (supabase/terraform-provider-supabase at
  9ea5f96d) has no extension resource either (apikey, branch, edge_function, edge_function_secrets, project,
  settings, third_party_auth);
- the dashboard's switch and the documentation both come down to SQL run as the project owner `postgres`:
  guides/cron/install enables pg_cron with `create extension pg_cron with schema pg_catalog;` followed by
  `grant usage on schema cron to postgres;` and `grant all privileges on all tables in schema cron to
  postgres;`.
So this provider runs exactly those statements over the migrations' session URL (as DatabaseRolePassword
does), before the migrations: db/schema/0377_pg_cron.sql schedules the jobs and needs the extension. 0377
also creates it `if not exists` (a branch database migrated with `nexk db migrate` alone), and then this is a
no-op; the resource is what makes the stack declare pg_cron (the policy pack requires it), and what lets
`pulumi refresh` see it disabled in the dashboard (read reports it gone; the next `up` creates it again).

Deleting the resource does nothing: `drop extension pg_cron` deletes every job and its run log (Supabase's
guide: "Disabling the pg_cron extension will permanently delete all Jobs"); disabling it is a decision made
by hand, never a side effect of a refactored program.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

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

NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
# What Supabase's guide runs after enabling an extension, per extension (guides/cron/install for pg_cron).
AFTER_CREATE: dict[str, tuple[str, ...]] = {
    "pg_cron": (
        "grant usage on schema cron to postgres",
        "grant all privileges on all tables in schema cron to postgres",
    ),
}


class DatabaseExtensionProvider(Provider):
    """Creates one extension `if not exists` through an owner connection; reads whether it is installed."""

    INPUTS = ("project_ref", "database_url", "extension", "schema")

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures = required(news, self.INPUTS)
        for key in ("extension", "schema"):
            value = news.get(key)
            if isinstance(value, str) and not NAME.fullmatch(value):
                failures.append(CheckFailure(key, f"{key} {value!r} is not a lower-case PostgreSQL name"))
        return CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        # An extension that is not relocatable (pg_cron) can only move schema by being dropped: a replacement.
        return diff_inputs(
            olds, news, updatable=("database_url",), replace_on=("project_ref", "extension", "schema")
        )

    @staticmethod
    def installed(database_url: str, extension: str) -> tuple[str, str] | None:
        """(version, schema) of the installed extension, or None."""
        import psycopg

        with psycopg.connect(database_url, autocommit=True, prepare_threshold=None) as conn:
            row = conn.execute(
                "select e.extversion, e.extnamespace::regnamespace::text from pg_catalog.pg_extension as e"
                " where e.extname = %s",
                (extension,),
            ).fetchone()
        return (row[0], row[1]) if row else None

    def _apply(self, props: Mapping[str, Any]) -> dict[str, Any]:
        import psycopg
        from psycopg import sql

        extension, schema = props["extension"], props["schema"]
        with psycopg.connect(props["database_url"], autocommit=True, prepare_threshold=None) as conn:
            conn.execute(
                sql.SQL("create extension if not exists {} with schema {}").format(
                    sql.Identifier(extension), sql.Identifier(schema)
                )
            )
            for statement in AFTER_CREATE.get(extension, ()):
                conn.execute(statement)  # constant statements of this module, never an input
        found = self.installed(props["database_url"], extension)
        return {**inputs_of(props, self.INPUTS), "version": found[0] if found else None}

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(f"{props['project_ref']}/extensions/{props['extension']}", self._apply(props))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(self._apply(news))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        found = self.installed(props["database_url"], props["extension"])
        if found is None:
            return ReadResult("", {})  # disabled by hand: gone from the state, created again by the next `up`
        version, schema = found
        outs = {**inputs_of(props, self.INPUTS), "schema": schema, "version": version}
        return ReadResult(id_, outs, inputs_of(outs, self.INPUTS))

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        """Never drops the extension: that would delete every scheduled job and its run log."""


class DatabaseExtension(Resource, module="supabase", name="DatabaseExtension"):
    def __init__(
        self,
        resource_name: str,
        *,
        project_ref: pulumi.Input[str],
        database_url: pulumi.Input[str],
        extension: str,
        schema: str,
        provider: DatabaseExtensionProvider | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            "project_ref": project_ref,
            "database_url": database_url,
            "extension": extension,
            "schema": schema,
            "version": None,
        }
        opts = with_secret_outputs(opts, "database_url")
        super().__init__(provider or DatabaseExtensionProvider(), resource_name, props, opts)
