"""pg_cron on every migrated database (db/schema/0377_pg_cron.sql): the compatibility layer's emulation of
pg_cron's catalogue has pg_cron 1.6's columns and semantics (citusdata/pg_cron pg_cron.sql and its upgrade
scripts), the migration schedules the project's jobs into it exactly as nexk/cron_jobs.py states them, and a
database with neither pg_cron nor the emulation can not be migrated past 0377."""

from __future__ import annotations

import psycopg
import pytest

from db.compat import ensure_compat, is_emulated_cron
from db.migrate import SCHEMA_DIR
from nexk import cron_jobs

# (column, type, nullable, default) as pg_cron 1.6 defines them: pg_cron.sql, 1.0--1.1 (active), 1.2--1.3
# (jobname, job_run_details), 1.4-1--1.5 (jobname becomes text).
PG_CRON_JOB = [
    ("jobid", "bigint", "NO", "nextval('cron.jobid_seq'::regclass)"),
    ("schedule", "text", "NO", None),
    ("command", "text", "NO", None),
    ("nodename", "text", "NO", "'localhost'::text"),
    ("nodeport", "integer", "NO", "inet_server_port()"),
    ("database", "text", "NO", "current_database()"),
    ("username", "text", "NO", "CURRENT_USER"),
    ("active", "boolean", "NO", "true"),
    ("jobname", "text", "YES", None),
]
PG_CRON_JOB_RUN_DETAILS = [
    ("jobid", "bigint", "YES", None),
    ("runid", "bigint", "NO", "nextval('cron.runid_seq'::regclass)"),
    ("job_pid", "integer", "YES", None),
    ("database", "text", "YES", None),
    ("username", "text", "YES", None),
    ("command", "text", "YES", None),
    ("status", "text", "YES", None),
    ("return_message", "text", "YES", None),
    ("start_time", "timestamp with time zone", "YES", None),
    ("end_time", "timestamp with time zone", "YES", None),
]


def columns(db: psycopg.Connection, table: str) -> list[tuple]:
    return db.execute(
        "select column_name::text, data_type::text, is_nullable::text, column_default::text"
        " from information_schema.columns where table_schema = 'cron' and table_name = %s order by ordinal_position",
        (table,),
    ).fetchall()


def test_the_emulated_catalogue_has_pg_cron_16s_tables_columns_and_functions(db):
    assert is_emulated_cron(db)
    assert columns(db, "job") == PG_CRON_JOB
    assert columns(db, "job_run_details") == PG_CRON_JOB_RUN_DETAILS
    signatures = {
        row[0]
        for row in db.execute(
            "select p.oid::regprocedure::text || ' -> ' || p.prorettype::regtype::text from pg_proc as p"
            " where p.pronamespace = 'cron'::regnamespace"
        )
    }
    assert signatures == {
        "cron.schedule(text,text,text) -> bigint",
        "cron.unschedule(bigint) -> boolean",
        "cron.unschedule(text) -> boolean",
    }
    # pg_cron's row level security: each role sees the rows of its own jobs only.
    policies = db.execute(
        "select tablename::text, qual from pg_policies where schemaname = 'cron' order by tablename"
    ).fetchall()
    assert policies == [
        ("job", "(username = CURRENT_USER)"),
        ("job_run_details", "(username = CURRENT_USER)"),
    ]
    unique = db.execute(
        "select pg_get_constraintdef(c.oid) from pg_constraint as c where c.conname = 'jobname_username_uniq'"
    ).fetchone()
    assert unique == ("UNIQUE (jobname, username)",)


def test_after_migrate_every_project_job_is_scheduled_active_with_its_schedule_and_command(db):
    jobs = db.execute(
        "select jobname, schedule, command, active, username, nodename from cron.job order by jobid"
    ).fetchall()
    assert jobs == [
        (job.name, job.schedule, job.command, True, "postgres", "localhost") for job in cron_jobs.JOBS
    ]
    # The migration states them in SQL, nexk/cron_jobs.py in Python: the same three calls.
    migration = (SCHEMA_DIR / "0377_pg_cron.sql").read_text()
    for job in cron_jobs.JOBS:
        assert f"cron.schedule('{job.name}', '{job.schedule}', '{job.command}')" in migration


def test_schedule_upserts_by_job_name_keeping_the_id_and_unschedule_removes_by_name_or_id(db):
    jobid = db.execute("select jobid from cron.job where jobname = 'nexk-retention'").fetchone()[0]
    again = db.execute(
        "select cron.schedule('nexk-retention', '0 4 * * *', 'select private.run_retention()')"
    ).fetchone()[0]
    assert again == jobid
    assert db.execute("select schedule from cron.job where jobid = %s", (jobid,)).fetchone() == ("0 4 * * *",)
    other = db.execute("select cron.schedule('probe', '30 seconds', 'select 1')").fetchone()[0]
    assert other > jobid
    assert db.execute("select cron.unschedule('probe')").fetchone() == (True,)
    assert db.execute("select cron.unschedule(%s::bigint)", (jobid,)).fetchone() == (True,)
    assert db.execute("select count(*) from cron.job where jobid in (%s, %s)", (jobid, other)).fetchone() == (
        0,
    )
    with pytest.raises(psycopg.errors.RaiseException, match="could not find valid entry for job 'probe'"):
        db.execute("select cron.unschedule('probe')")


@pytest.mark.parametrize("schedule", ["every night", "61 seconds", "* * * *", ""])
def test_schedule_refuses_what_pg_cron_could_not_parse(db, schedule):
    with pytest.raises(psycopg.errors.RaiseException, match="invalid schedule"):
        db.execute("select cron.schedule('probe', %s, 'select 1')", (schedule,))


def test_reapplying_the_layer_keeps_the_jobs_and_their_run_log(database):
    with psycopg.connect(database) as conn:
        conn.execute(
            "insert into cron.job_run_details (jobid, status, start_time, end_time)"
            " select jobid, 'succeeded', now(), now() from cron.job where jobname = 'nexk-retention'"
        )
        conn.commit()
        assert ensure_compat(conn)
        assert conn.execute("select count(*) from cron.job").fetchone() == (len(cron_jobs.JOBS),)
        assert conn.execute("select count(*) from cron.job_run_details").fetchone() == (1,)


def test_0377_fails_on_a_database_with_neither_pg_cron_nor_the_emulation(db):
    # This server has no pg_cron to create (the local one never does): the migration must refuse, not skip.
    assert db.execute("select count(*) from pg_available_extensions where name = 'pg_cron'").fetchone() == (
        0,
    )
    db.execute("drop schema cron cascade")
    with pytest.raises(psycopg.errors.FeatureNotSupported, match='extension "pg_cron" is not available'):
        db.execute((SCHEMA_DIR / "0377_pg_cron.sql").read_text())
