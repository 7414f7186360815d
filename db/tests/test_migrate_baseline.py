"""The baseline (db/schema/0362_baseline.sql) stands for migrations 0001-0362, squashed.

Proven on real databases: one built from the old files (read back from git, db/tests/squashed.py) and then
brought up to date by today's runner, and one built from today's tree (baseline, db/functions, later
migrations, policies), have the same schema to the last grant, comment, trigger and
function body (pg_dump --schema-only compared), and the same reference rows. The upgrade records the
baseline without running anything of it; a database that stopped part-way through the old files is refused
with what to do."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from db import migrate as runner
from db.cluster import find_binaries
from db.migrate import MigrationError
from db.testing import Server
from db.tests.squashed import baseline, write_old_migrations, write_old_policies


def schema_dump(url: str) -> str:
    """Everything pg_dump knows of the database's schema but the runner's bookkeeping: tables, columns,
    constraints, indexes, functions with their bodies, triggers, policies, grants, comments, default
    privileges. pg_dump's per-run \\restrict key is left out."""
    result = subprocess.run(
        [
            find_binaries().tool("pg_dump"),
            "--schema-only",
            "--exclude-schema=supabase_migrations",
            "--dbname",
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return re.sub(r"^\\(un)?restrict .*$", "", result.stdout, flags=re.MULTILINE)


def reference_rows(url: str) -> list[tuple]:
    """The rows the migrations themselves insert (retention periods, the attachments bucket)."""
    with psycopg.connect(url) as conn:
        return conn.execute(
            "select 'retention', name, period::text, description from private.retention_policy"
            " union all select 'bucket', id, file_size_limit::text, public::text from storage.buckets"
            " order by 1, 2"
        ).fetchall()


def old_chain(url: str, tmp_path: Path, server: Server, **versions: str) -> None:
    """A database as the old runner left it: the replaced files applied with the policy files of their time
    (no db/functions then)."""
    schema = tmp_path / "old-schema"
    write_old_migrations(schema, **versions)
    write_old_policies(tmp_path / "old-policies")
    runner.migrate(
        url,
        authenticator_password=server.authenticator_password,
        schema_dir=schema,
        policies_dir=tmp_path / "old-policies",
        functions_dir=tmp_path / "old-functions",
    )


def history(url: str) -> tuple[list[tuple[str, str]], list[tuple[str, str, str]]]:
    with psycopg.connect(url) as conn:
        applied = conn.execute(
            "select version, name from supabase_migrations.schema_migrations order by version"
        ).fetchall()
        squashed = conn.execute(
            "select version, name, sha256 from supabase_migrations.nexk_squashed order by version"
        ).fetchall()
    return applied, squashed


@pytest.fixture
def new_database(pg_server: Server) -> Iterator[str]:
    """A database built from today's tree by two runs of the runner, like the upgraded one: every run applies
    the compatibility layer again (which sets Supabase's default privileges on `public` only the first time,
    so what 0360 revoked from them stays revoked, as on Supabase)."""
    name = f"nexk_baseline_{os.getpid()}"
    janitor = pg_server.janitor(name)
    janitor.init()
    url = pg_server.url_for(name)
    runner.migrate(url, authenticator_password=pg_server.authenticator_password)
    assert runner.migrate(url, authenticator_password=pg_server.authenticator_password).up_to_date
    yield url
    janitor.drop()


def test_an_upgraded_database_and_a_new_one_have_the_same_schema(
    empty_database: str, new_database: str, pg_server: Server, tmp_path: Path
) -> None:
    old_chain(empty_database, tmp_path, pg_server)
    with psycopg.connect(empty_database) as conn:
        tickets_before = conn.execute("select 'public.tickets'::regclass::oid").fetchone()
    todo = runner.plan(empty_database)
    assert todo.adopt_baseline is not None and todo.adopt_baseline.name == "baseline"
    assert all(m.version > "0362" for m in todo.pending_migrations)

    runner.migrate(empty_database, authenticator_password=pg_server.authenticator_password)

    assert runner.plan(empty_database).up_to_date
    new = new_database
    assert schema_dump(empty_database) == schema_dump(new)
    assert reference_rows(empty_database) == reference_rows(new)
    # Nothing of the baseline ran: the tables are the ones the old files created.
    with psycopg.connect(empty_database) as conn:
        assert conn.execute("select 'public.tickets'::regclass::oid").fetchone() == tickets_before
    # The history reads as `supabase migration squash` leaves it; the old rows are kept beside it.
    applied, squashed = history(empty_database)
    assert applied[0] == ("0362", "baseline")
    assert [v for v, _ in applied] == [v for v, _ in history(new)[0]]
    assert squashed == [(v, name, sha) for v, (name, sha) in sorted(baseline().replaces.items())]


def test_a_database_that_stopped_part_way_through_the_squashed_files_is_refused(
    empty_database: str, pg_server: Server, tmp_path: Path
) -> None:
    old_chain(empty_database, tmp_path, pg_server, below="0341")
    with pytest.raises(
        MigrationError, match=r"only in part \(missing: 0341_staff_first_names_for_clients, .*git"
    ):
        runner.migrate(empty_database, authenticator_password=pg_server.authenticator_password)
    assert history(empty_database)[0][-1][0] == "0330"  # nothing recorded, nothing run


def test_an_edited_squashed_file_is_refused(empty_database: str, pg_server: Server, tmp_path: Path) -> None:
    old_chain(empty_database, tmp_path, pg_server)
    with psycopg.connect(empty_database) as conn:
        conn.execute(
            "update supabase_migrations.nexk_checksums set sha256 = repeat('0', 64) where version = '0103'"
        )
    with pytest.raises(MigrationError, match=r"replaces 0103_dsr_erasure\.sql .* built from other files"):
        runner.plan(empty_database)


def test_the_baseline_lists_every_file_it_replaces_and_git_still_has_them(tmp_path: Path) -> None:
    replaced = baseline().replaces
    assert min(replaced) == "0001" and max(replaced) == "0362" == baseline().version
    assert len(write_old_migrations(tmp_path)) == len(replaced) == 38  # each checked against its sha256


def test_a_later_migration_follows_the_baseline_in_the_run_that_records_it(
    empty_database: str, pg_server: Server, tmp_path: Path
) -> None:
    """Migrations numbered after the baseline (0363 on, written on other branches) are ordinary files: on a
    database of the old files, one run records the baseline and applies them."""
    old_chain(empty_database, tmp_path, pg_server)
    schema = tmp_path / "schema"
    shutil.copytree(runner.SCHEMA_DIR, schema)
    version = f"{int(max(m.version for m in runner.load_migrations())) + 1:04d}"
    (schema / f"{version}_ticket_channel.sql").write_text(
        "-- tickets remember how they reached us (a later migration, as other branches write them)\n"
        "alter table public.tickets add column channel text;\n"
    )
    done = runner.migrate(
        empty_database, authenticator_password=pg_server.authenticator_password, schema_dir=schema
    )
    assert done.adopt_baseline is not None and done.pending_migrations[-1].version == version
    with psycopg.connect(empty_database) as conn:
        assert conn.execute("select to_regclass('public.tickets') is not null").fetchone() == (True,)
        assert conn.execute(
            "select count(*) from information_schema.columns where table_name = 'tickets' and column_name = 'channel'"
        ).fetchone() == (1,)
    assert history(empty_database)[0][-1] == (version, "ticket_channel")
