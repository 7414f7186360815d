"""The migration runner: once-only, refusal of edited files, atomic failures, declarative policies."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from db import migrate as runner
from db.migrate import MigrationError
from db.tests.squashed import write_old_migrations, write_old_policies


@pytest.fixture
def project(tmp_path: Path) -> tuple[Path, Path, Path]:
    schema, policies, functions = tmp_path / "schema", tmp_path / "policies", tmp_path / "functions"
    schema.mkdir()
    policies.mkdir()
    functions.mkdir()
    (schema / "0001_notes.sql").write_text(
        "-- notes: a tiny table for the runner's tests\n"
        "create table public.notes (id bigint primary key, owner uuid, body text);\n"
    )
    (schema / "0002_note_index.sql").write_text("create index notes_owner_idx on public.notes (owner);\n")
    (policies / "notes.sql").write_text(
        "alter table public.notes enable row level security;\n"
        "create policy notes_owner on public.notes for select to authenticated\n"
        "    using (owner = (select auth.uid()));\n"
    )
    return schema, policies, functions


def run(url: str, project: tuple[Path, Path, Path], **kwargs: object) -> runner.Plan:
    schema, policies, functions = project
    return runner.migrate(url, schema_dir=schema, policies_dir=policies, functions_dir=functions, **kwargs)


def tables(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("select tablename from pg_tables where schemaname = 'public'").fetchall()
    return {r[0] for r in rows}


def policies_of(url: str, table: str) -> dict[str, str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select policyname, qual from pg_policies where schemaname = 'public' and tablename = %s",
            (table,),
        ).fetchall()
    return dict(rows)


def test_each_migration_is_applied_once_in_order_and_recorded_like_the_supabase_cli(empty_database, project):
    first = run(empty_database, project)
    assert [m.version for m in first.pending_migrations] == ["0001", "0002"]
    second = run(empty_database, project)
    assert second.up_to_date
    with psycopg.connect(empty_database) as conn:
        rows = conn.execute(
            "select version, name, statements from supabase_migrations.schema_migrations order by version"
        ).fetchall()
        checksums = conn.execute("select version, sha256 from supabase_migrations.nexk_checksums").fetchall()
    assert [(v, n) for v, n, _ in rows] == [("0001", "notes"), ("0002", "note_index")]
    assert rows[0][2] == ["create table public.notes (id bigint primary key, owner uuid, body text)"]
    assert {v for v, _ in checksums} == {"0001", "0002"}


def test_rerunning_on_an_up_to_date_database_changes_nothing(empty_database, project):
    run(empty_database, project)
    with psycopg.connect(empty_database) as conn:
        before = conn.execute("select oid from pg_policy order by oid").fetchall()
    assert run(empty_database, project).up_to_date
    with psycopg.connect(empty_database) as conn:
        after = conn.execute("select oid from pg_policy order by oid").fetchall()
    assert before == after  # the policies were not even recreated


def test_an_edited_applied_migration_is_refused_naming_the_file(empty_database, project):
    run(empty_database, project)
    schema, _, _ = project
    (schema / "0001_notes.sql").write_text("create table public.notes (id bigint primary key, extra text);\n")
    with pytest.raises(MigrationError, match=r"0001_notes\.sql was edited after it was applied"):
        run(empty_database, project)


def test_a_failing_migration_leaves_the_database_as_before_and_names_file_and_line(empty_database, project):
    run(empty_database, project)
    schema, _, _ = project
    (schema / "0003_broken.sql").write_text(
        "create table public.half_done (id int);\n\ninsert into public.missing_table values (1);\n"
    )
    with pytest.raises(MigrationError) as caught:
        run(empty_database, project)
    message = str(caught.value)
    assert "0003_broken.sql:3" in message
    assert 'relation "public.missing_table" does not exist' in message
    assert "half_done" not in tables(empty_database)  # the first statement was rolled back too
    assert [v for v, _ in runner.plan(empty_database, *project).applied] == ["0001", "0002"]


def test_a_syntax_error_names_file_and_line_before_anything_runs(empty_database, project):
    schema, _, _ = project
    (schema / "0003_typo.sql").write_text("select 1;\n\ncreat table public.oops (id int);\n")
    with pytest.raises(MigrationError, match=r"0003_typo\.sql:3: syntax error"):
        run(empty_database, project)


def test_a_badly_named_file_is_refused_with_the_expected_form(empty_database, project):
    schema, _, _ = project
    (schema / "3_new.sql").write_text("select 1;\n")
    with pytest.raises(MigrationError, match=r"0007_short_name\.sql"):
        run(empty_database, project)


def test_dry_run_prints_the_plan_and_changes_nothing(empty_database, project):
    plan = run(empty_database, project, dry_run=True)
    assert [m.name for m in plan.pending_migrations] == ["notes", "note_index"]
    assert [p.name for p in plan.changed_policies] == ["notes"]
    assert tables(empty_database) == set()


def test_a_changed_policy_file_replaces_every_policy_of_its_table(empty_database, project):
    run(empty_database, project)
    _, policies, _ = project
    (policies / "notes.sql").write_text(
        "alter table public.notes enable row level security;\n"
        "create policy notes_owner_reads on public.notes for select to authenticated\n"
        "    using (owner = (select auth.uid()) and body is not null);\n"
    )
    plan = runner.plan(empty_database, *project)
    assert [p.name for p in plan.changed_policies] == ["notes"] and not plan.pending_migrations
    run(empty_database, project)
    assert set(policies_of(empty_database, "notes")) == {"notes_owner_reads"}  # the old one is gone


def test_a_failing_policy_file_keeps_the_previous_policies(empty_database, project):
    run(empty_database, project)
    _, policies, _ = project
    (policies / "notes.sql").write_text(
        "create policy notes_new on public.notes for select to authenticated using (no_such_column = 1);\n"
    )
    with pytest.raises(
        MigrationError, match=r"policies/notes\.sql:1: column \"no_such_column\" does not exist"
    ):
        run(empty_database, project)
    assert set(policies_of(empty_database, "notes")) == {"notes_owner"}


def test_a_removed_policy_file_drops_the_policies_it_owned(empty_database, project):
    run(empty_database, project)
    _, policies, _ = project
    (policies / "notes.sql").unlink()
    assert runner.plan(empty_database, *project).removed_policies == ["notes"]
    run(empty_database, project)
    assert policies_of(empty_database, "notes") == {}


def test_the_projects_own_migrations_apply_cleanly_and_are_then_up_to_date(empty_database):
    runner.migrate(empty_database)
    assert runner.plan(empty_database).up_to_date


def test_the_next_response_migration_keeps_existing_policies_on_their_first_response_target(
    empty_database, tmp_path
):
    """0290 on a database with policies: each gets next response = its first response, then the column is
    mandatory and the notifier's SLA input returns it. 0290 is in the baseline now; the production databases
    ran it, and this replays it from git history (db/tests/squashed.py)."""
    schema, policies, functions = tmp_path / "schema", tmp_path / "policies", tmp_path / "functions"
    write_old_migrations(schema, below="0290")
    policies.mkdir()
    runner.migrate(empty_database, schema_dir=schema, policies_dir=policies, functions_dir=functions)
    with psycopg.connect(empty_database) as conn:
        calendar = conn.execute(
            "insert into public.business_calendars (name) values ('Brussels') returning id"
        ).fetchone()[0]
        plan = conn.execute(
            "insert into public.sla_plans (code, name, calendar_id) values ('std', 'Std', %s) returning id",
            (calendar,),
        ).fetchone()[0]
        conn.execute(
            "insert into public.sla_policies (plan_id, priority, first_response_minutes, resolution_minutes)"
            " values (%s, 'normal', 240, 2400), (%s, 'urgent', 60, 480)",
            (plan, plan),
        )
    # 0290 and every later replaced migration, with the policy files of their time.
    write_old_migrations(schema, from_version="0290")
    write_old_policies(policies)
    applied = runner.migrate(
        empty_database, schema_dir=schema, policies_dir=policies, functions_dir=functions
    )
    assert applied.pending_migrations[0].version == "0290"
    with psycopg.connect(empty_database) as conn:
        rows = conn.execute(
            "select priority, first_response_minutes, next_response_minutes from public.sla_policies"
            " order by priority"
        ).fetchall()
        assert rows == [("normal", 240, 240), ("urgent", 60, 60)]
        with pytest.raises(psycopg.errors.NotNullViolation):
            conn.execute(
                "insert into public.sla_policies (plan_id, priority, first_response_minutes, resolution_minutes)"
                " values (%s, 'low', 480, 4800)",
                (plan,),
            )
        conn.rollback()
        names, notifier, authenticated = conn.execute(
            "select p.proargnames,"
            " has_function_privilege('nexk_notifier', p.oid, 'execute'),"
            " has_function_privilege('authenticated', p.oid, 'execute')"
            " from pg_catalog.pg_proc as p where p.oid = 'private.notifier_open_tickets()'::regprocedure"
        ).fetchone()
        assert "next_response_minutes" in names
        assert (notifier, authenticated) == (True, False)
