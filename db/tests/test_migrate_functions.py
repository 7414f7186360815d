"""db/functions: every SQL function declared once, as `create or replace`, applied by the runner when its file
changed, in the order the files declare (`-- nexk: after <file>`), each file in its own transaction with the
migrations' timeouts. Signature changes and drops stay in migrations, and the runner says so."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from db import migrate as runner
from db.migrate import MigrationError, Timeouts

NOTES = (
    "-- notes: the table the functions read\ncreate table public.notes (id bigint primary key, body text);\n"
)
COUNT = """-- How many notes there are.
create or replace function public.note_count() returns bigint
language sql stable
as $$ select count(*) from public.notes $$;
revoke all on function public.note_count() from public, anon;
grant execute on function public.note_count() to authenticated;
"""
SUMMARY = """-- nexk: after counting.sql
-- A line about the notes; calls counting.sql's function from a SQL body (checked when created).
create or replace function public.note_summary() returns text
language sql stable
as $$ select public.note_count()::text || ' notes' $$;
"""


@pytest.fixture
def project(tmp_path: Path) -> dict[str, Path]:
    dirs = {name: tmp_path / name for name in ("schema", "policies", "functions")}
    for path in dirs.values():
        path.mkdir()
    (dirs["schema"] / "0001_notes.sql").write_text(NOTES)
    (dirs["functions"] / "counting.sql").write_text(COUNT)
    (dirs["functions"] / "summary.sql").write_text(SUMMARY)
    return dirs


def run(url: str, project: dict[str, Path], **kwargs: object) -> runner.Plan:
    return runner.migrate(
        url,
        schema_dir=project["schema"],
        policies_dir=project["policies"],
        functions_dir=project["functions"],
        **kwargs,
    )


def source(url: str, signature: str) -> str | None:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "select prosrc from pg_proc where oid = to_regprocedure(%s)", (signature,)
        ).fetchone()
    return row[0] if row else None


def test_function_files_are_applied_in_declared_order_then_only_when_changed(empty_database, project):
    first = run(empty_database, project)
    assert [f.name for f in first.changed_functions] == ["counting", "summary"]
    with psycopg.connect(empty_database) as conn:
        assert conn.execute("select public.note_summary()").fetchone() == ("0 notes",)
        # The file's grants are the function's access: re-applied with it, so they never drift.
        assert conn.execute(
            "select has_function_privilege('authenticated', 'public.note_count()', 'execute'),"
            " has_function_privilege('anon', 'public.note_count()', 'execute')"
        ).fetchone() == (True, False)
        oid = conn.execute("select 'public.note_summary()'::regprocedure::oid").fetchone()
    assert run(empty_database, project).up_to_date
    (project["functions"] / "counting.sql").write_text(COUNT.replace("count(*)", "count(*) + 0"))
    assert [f.name for f in runner.plan(empty_database, *project.values()).changed_functions] == ["counting"]
    assert [f.name for f in run(empty_database, project).changed_functions] == ["counting"]
    assert "count(*) + 0" in source(empty_database, "public.note_count()")
    with psycopg.connect(empty_database) as conn:  # replaced in place: same function, callers unaffected
        assert conn.execute("select 'public.note_summary()'::regprocedure::oid").fetchone() == oid


def test_a_wrong_order_is_caught_before_anything_runs(empty_database, project):
    # Without its `after` line, summary.sql would sort first: its SQL body calls a function not yet created.
    (project["functions"] / "summary.sql").write_text(SUMMARY.replace("-- nexk: after counting.sql\n", ""))
    (project["functions"] / "summary.sql").rename(project["functions"] / "a_summary.sql")
    with pytest.raises(
        MigrationError,
        match=r"a_summary\.sql:2 calls public\.note_count .* add the line "
        r"`-- nexk: after counting\.sql` to a_summary\.sql",
    ):
        run(empty_database, project)
    with psycopg.connect(empty_database) as conn:
        assert conn.execute("select to_regclass('public.notes')").fetchone() == (None,)


def test_after_lines_that_name_no_file_or_form_a_cycle_are_refused(project):
    functions = project["functions"]
    (functions / "counting.sql").write_text("-- nexk: after nowhere.sql\n" + COUNT)
    with pytest.raises(MigrationError, match=r"`-- nexk: after nowhere\.sql` names no file"):
        runner.load_functions(functions)
    (functions / "counting.sql").write_text("-- nexk: after summary.sql\n" + COUNT)
    with pytest.raises(MigrationError, match=r"form a cycle"):
        runner.load_functions(functions)


def test_a_caller_above_its_callee_in_one_file_is_refused(project):
    functions = project["functions"]
    (functions / "summary.sql").unlink()
    (functions / "counting.sql").write_text(SUMMARY.replace("-- nexk: after counting.sql\n", "") + COUNT)
    with pytest.raises(MigrationError, match=r"counting\.sql:2 calls public\.note_count .* before line \d+"):
        runner.load_functions(functions)


@pytest.mark.parametrize(
    ("statement", "what"),
    [
        ("create table public.more (id int);", "a table"),
        ("drop function public.note_count();", "a drop"),
        ("create function public.plain() returns int language sql as $$ select 1 $$;", "no `or replace`"),
    ],
)
def test_only_function_definitions_their_comments_and_grants_belong_in_a_functions_file(
    project, statement, what
):
    (project["functions"] / "counting.sql").write_text(COUNT + statement + "\n")
    with pytest.raises(
        MigrationError, match=r"counting\.sql:7: db/functions files hold only .* in a migration"
    ):
        runner.load_functions(project["functions"])


def test_a_signature_change_in_a_functions_file_is_refused_and_says_what_to_do(empty_database, project):
    run(empty_database, project)
    # New argument list: create or replace would quietly add a second function.
    (project["functions"] / "counting.sql").write_text(
        COUNT.replace("note_count()", "note_count(p_min bigint)").replace(
            "notes $$", "notes where id >= p_min $$"
        )
    )
    with pytest.raises(
        MigrationError,
        match=r"would change the signature of public\.note_count\(\) in place.*`drop function public\.note_count\(\);`",
    ):
        run(empty_database, project)
    # New result type: PostgreSQL refuses create or replace; the runner says what to do.
    (project["functions"] / "counting.sql").write_text(
        COUNT.replace("returns bigint", "returns integer").replace("count(*)", "count(*)::integer")
    )
    with pytest.raises(
        MigrationError, match=r"cannot change return type.*signature change and goes in a migration"
    ):
        run(empty_database, project)
    assert source(empty_database, "public.note_count()") == " select count(*) from public.notes "
    # The documented way: a migration drops the old signature (and summary.sql, which used it, is applied again).
    (project["functions"] / "counting.sql").write_text(
        COUNT.replace("returns bigint", "returns integer").replace("count(*)", "count(*)::integer")
    )
    (project["schema"] / "0002_note_count_integer.sql").write_text(
        "-- note_count returns an integer now: the old signature goes first\ndrop function public.note_count();\n"
    )
    run(empty_database, project)
    with psycopg.connect(empty_database) as conn:
        assert conn.execute("select pg_typeof(public.note_count())::text").fetchone() == ("integer",)


def test_a_function_left_out_of_every_file_must_be_dropped_by_a_migration(empty_database, project):
    run(empty_database, project)
    (project["functions"] / "summary.sql").unlink()
    with pytest.raises(
        MigrationError, match=r"public\.note_summary\(\) no longer stands in db/functions .* drop it"
    ):
        run(empty_database, project)
    (project["schema"] / "0002_no_summary.sql").write_text(
        "-- the summary is gone\ndrop function public.note_summary();\n"
    )
    assert run(empty_database, project).pending_migrations[0].version == "0002"
    assert run(empty_database, project).up_to_date


def test_a_migration_applies_the_changed_functions_at_its_functions_line(empty_database, project):
    """The table a function reads before the line, the trigger that calls it after, in one transaction."""
    run(empty_database, project)
    (project["functions"] / "stamping.sql").write_text(
        "-- Stamps a note's change time.\n"
        "create or replace function public.stamp_note() returns trigger\nlanguage plpgsql\n"
        "as $$ begin new.changed_at := now(); return new; end $$;\n"
    )
    (project["schema"] / "0002_note_stamps.sql").write_text(
        "-- notes remember when they changed\n"
        "alter table public.notes add column changed_at timestamptz;\n"
        "-- nexk: functions\n"
        "create trigger notes_stamp before insert or update on public.notes\n"
        "for each row execute function public.stamp_note();\n"
    )
    plan = run(empty_database, project)
    assert [f.name for f in plan.changed_functions] == [
        "stamping"
    ]  # applied at the line, checked again after
    with psycopg.connect(empty_database) as conn:
        assert conn.execute(
            "insert into public.notes (id) values (1) returning changed_at is not null"
        ).fetchone() == (True,)
    assert run(empty_database, project).up_to_date


def test_a_migration_may_not_redefine_a_declared_function(empty_database, project):
    run(empty_database, project)
    (project["schema"] / "0002_copy.sql").write_text(
        "-- a copied body, the habit db/functions ends\n"
        "create or replace function public.note_count() returns bigint language sql as $$ select 0::bigint $$;\n"
    )
    with pytest.raises(
        MigrationError, match=r"0002_copy\.sql:2: defines public\.note_count, which .*counting\.sql"
    ):
        run(empty_database, project)


def test_a_functions_file_gives_way_to_a_lock_and_names_itself(empty_database, project):
    run(empty_database, project)
    (project["functions"] / "counting.sql").write_text(COUNT.replace("count(*)", "count(*) + 0"))
    pauses: list[float] = []
    with psycopg.connect(empty_database) as holder:
        holder.execute("alter function public.note_count() cost 5")  # holds its pg_proc row
        with pytest.raises(
            MigrationError, match=r"functions/counting\.sql: could not take its locks .* 3 tries"
        ):
            run(
                empty_database,
                project,
                timeouts=Timeouts(lock="200ms", statement="10s", tries=3),
                sleep=pauses.append,
            )
        holder.rollback()
    assert len(pauses) == 2
    assert run(empty_database, project).changed_functions[0].name == "counting"


def test_the_projects_functions_load_in_a_valid_order():
    names = [f.name for f in runner.load_functions()]
    assert names.index("access") < names.index("audit") and names.index("access") < names.index("profiles")
    defined = [name for f in runner.load_functions() for name, *_ in f.definitions]
    assert "private.erase_person" in defined and defined.count("private.erase_person") == 1
