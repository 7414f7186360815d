"""DatabaseExtension (infra/providers/database_extension.py) enables pg_cron on a stack's database with the SQL
Supabase's guide runs (the Management API has no extension endpoint). Against real PostgreSQL: an extension
is created once and read back, a database lacking it reads as gone (the next `up` creates it again), deleting
the resource never drops it, and a server without pg_cron makes `pulumi up` fail naming the extension. The
test server has no pg_cron, so the create path runs with hstore, which it ships."""

from __future__ import annotations

import psycopg
import pytest

from infra.providers.database_extension import AFTER_CREATE, DatabaseExtensionProvider
from infra.providers.migrations import cron_job_problems, verify_cron_jobs
from nexk import cron_jobs


def props(database: str, extension: str = "hstore", schema: str = "extensions") -> dict[str, str]:
    return {"project_ref": "local", "database_url": database, "extension": extension, "schema": schema}


def test_create_enables_the_extension_in_its_schema_read_reports_it_and_delete_leaves_it(
    database: str,
) -> None:
    provider = DatabaseExtensionProvider()
    assert provider.read("local/extensions/hstore", props(database)).id == ""  # not there yet: gone
    created = provider.create(props(database))
    assert created.id == "local/extensions/hstore"
    assert created.outs["version"]
    again = provider.create(props(database))  # `if not exists`: a second create changes nothing
    assert again.outs == created.outs
    read = provider.read(created.id, props(database))
    assert read.id == created.id and read.outs["schema"] == "extensions"
    provider.delete(created.id, props(database))
    with psycopg.connect(database) as conn:
        assert conn.execute("select count(*) from pg_extension where extname = 'hstore'").fetchone() == (1,)


def test_enabling_pg_cron_where_the_server_lacks_it_fails_naming_the_extension(database: str) -> None:
    with pytest.raises(psycopg.errors.FeatureNotSupported, match='extension "pg_cron" is not available'):
        DatabaseExtensionProvider().create(props(database, "pg_cron", "pg_catalog"))


def test_pg_cron_gets_the_grants_supabases_guide_runs_after_enabling_it() -> None:
    assert AFTER_CREATE["pg_cron"] == (
        "grant usage on schema cron to postgres",
        "grant all privileges on all tables in schema cron to postgres",
    )


def test_check_refuses_odd_names_and_a_schema_or_extension_change_replaces() -> None:
    provider = DatabaseExtensionProvider()
    news = props("postgresql:///x", "pg_cron; drop table x", "pg_catalog")
    assert any("not a lower-case PostgreSQL name" in f.reason for f in provider.check({}, news).failures)
    olds = props("postgresql:///x", "pg_cron", "pg_catalog")
    assert provider.diff("id", olds, {**olds, "schema": "extensions"}).replaces == ["schema"]
    assert provider.diff("id", olds, {**olds, "database_url": "postgresql:///y"}).replaces == []
    assert provider.diff("id", olds, dict(olds)).changes is False


def test_after_the_runner_the_migrations_resource_checks_every_job_in_cron_job(database: str) -> None:
    verify_cron_jobs(database, cron_jobs.schedules())  # a migrated database holds them all
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute("select cron.unschedule('nexk-retention')")
        conn.execute("update cron.job set active = false where jobname = 'nexk-rate-limits-purge'")
    with pytest.raises(RuntimeError) as failure:
        verify_cron_jobs(database, cron_jobs.schedules())
    assert "nexk-retention is not scheduled (no row in cron.job)" in str(failure.value)
    assert "nexk-rate-limits-purge is scheduled at '*/15 * * * *', active False" in str(failure.value)
    assert cron_job_problems({"nexk-retention": "17 3 * * *"}, {}) == [
        "nexk-retention is not scheduled (no row in cron.job)"
    ]
