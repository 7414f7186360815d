"""`nexk retention status`: the scheduled purges provably ran. It reads pg_cron's run log
(cron.job_run_details, emulated locally and written by `nexk retention run` as pg_cron's worker would) and fails
unless every project job is scheduled, active, its last run did not fail and it succeeded within its window
(25 hours for the nightly retention purge). Time travel moves the run rows, never the clock."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from compliance import retention, retention_cli, retention_status
from nexk import cron_jobs
from nexk.errors import NexkError

REPO_ROOT = Path(__file__).resolve().parents[2]


def status(database: str) -> tuple[int, str]:
    """Run `nexk retention status --database-url ...` as ops would: exit code and everything printed."""
    done = subprocess.run(
        [sys.executable, "-m", "nexk_cli", "retention", "status", "--database-url", database],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO_ROOT), "COLUMNS": "200"},
    )
    return done.returncode, done.stdout + done.stderr


def problems(database: str) -> list[str]:
    return retention_status.problems(retention_status.read(database))


def test_status_fails_before_any_run_saying_the_purge_never_succeeded(database):
    code, output = status(database)
    assert code == 1
    assert "nexk-retention has never succeeded" in output
    assert "not running as the privacy policy promises" in output


def test_a_run_is_logged_like_pg_cron_logs_it_and_status_then_succeeds(database, db):
    retention.run(database)
    runs = db.execute(
        "select j.jobname, r.status, r.return_message, r.command = j.command, r.username, r.database = j.database,"
        " r.job_pid is not null, r.start_time <= r.end_time, r.end_time <= now()"
        " from cron.job_run_details as r join cron.job as j using (jobid) order by r.runid"
    ).fetchall()
    assert [run[:2] for run in runs] == [(job.name, "succeeded") for job in cron_jobs.JOBS]
    assert runs[0][2].endswith(" rows")  # one row per step of private.run_retention()
    assert [run[2] for run in runs[1:]] == ["1 row", "1 row"]
    assert all(run[3:] == (True, "postgres", True, True, True, True) for run in runs)
    code, output = status(database)
    assert code == 0, output
    assert "every scheduled purge succeeded within its window" in output
    assert "nexk-retention" in output and "succeeded" in output


def test_status_fails_when_the_last_success_is_older_than_25_hours(database, db):
    retention.run(database)
    db.execute(
        "update cron.job_run_details set start_time = start_time - interval '26 hours',"
        " end_time = end_time - interval '26 hours'"
    )
    found = problems(database)
    assert any(p.startswith("nexk-retention last succeeded 26.0 hours ago") for p in found), found
    assert any("more than 25.0 hours" in p for p in found)
    code, _ = status(database)
    assert code == 1


def test_a_success_24_hours_old_is_still_in_time_for_the_daily_jobs(database, db):
    retention.run(database)
    db.execute(
        "update cron.job_run_details as r set start_time = start_time - interval '24 hours',"
        " end_time = end_time - interval '24 hours' from cron.job as j"
        " where j.jobid = r.jobid and j.jobname <> 'nexk-rate-limits-purge'"
    )
    assert problems(database) == []


def test_status_fails_when_the_last_run_failed_even_after_an_earlier_success(database, db):
    retention.run(database)
    db.execute(
        "update cron.job_run_details set start_time = start_time - interval '2 hours',"
        " end_time = end_time - interval '2 hours'"
    )
    db.execute(
        "insert into cron.job_run_details (jobid, status, return_message, start_time, end_time, username)"
        " select jobid, 'failed', 'ERROR:  canceling statement due to statement timeout', now() - interval '1 hour',"
        " now() - interval '1 hour', username from cron.job where jobname = 'nexk-retention'"
    )
    found = problems(database)
    assert [p for p in found if p.startswith("nexk-retention")] == [
        found[0]
    ] and "its last run failed" in found[0]
    assert "canceling statement due to statement timeout" in found[0]


def test_a_failing_purge_is_logged_as_failed_with_its_error_and_status_fails(database, db):
    # A real failure, not a forged row: an old access-log row the purge must delete, and a trigger that refuses.
    db.execute(
        "create function public.refuse() returns trigger language plpgsql as"
        " $$ begin raise exception 'disk on fire'; end $$"
    )
    db.execute(
        "create trigger refuse before delete on public.audit_log for each row execute function public.refuse()"
    )
    db.execute(
        "insert into public.audit_log (object_table, action, created_at) values ('t', 'read', now() - interval '100 days')"
    )
    with pytest.raises(psycopg.errors.RaiseException, match="disk on fire"):
        retention.run(database)
    runs = db.execute(
        "select j.jobname, r.status, r.return_message from cron.job_run_details as r join cron.job as j using (jobid)"
    ).fetchall()
    assert runs == [("nexk-retention", "failed", "ERROR:  disk on fire")]
    found = problems(database)
    assert any("nexk-retention: its last run failed" in p and "disk on fire" in p for p in found), found


def test_status_fails_when_the_retention_job_is_missing_or_inactive(database, db):
    retention.run(database)
    db.execute("update cron.job set active = false where jobname = 'nexk-invitations-purge'")
    db.execute("select cron.unschedule('nexk-retention')")
    found = problems(database)
    assert any(p.startswith("nexk-retention is not scheduled (no row in cron.job)") for p in found), found
    assert any(p.startswith("nexk-invitations-purge is inactive") for p in found), found


def test_status_fails_where_pg_cron_is_not_enabled_at_all(database, db):
    db.execute("drop schema cron cascade")
    assert [p.split(":")[0] for p in problems(database)] == [
        "pg_cron is not enabled on this database (no cron.job_run_details)"
    ]


def test_dry_and_time_travelling_runs_are_not_logged_as_pg_cron_runs(database, db, monkeypatch):
    from datetime import UTC, datetime

    retention.run(database, dry_run=True)
    retention.run(database, now=datetime(2031, 1, 1, tzinfo=UTC))
    assert db.execute("select count(*) from cron.job_run_details").fetchone() == (0,)
    monkeypatch.setenv("NEXK_DATABASE_URL", database)
    result = CliRunner().invoke(retention_cli.app, ["status"])
    assert isinstance(result.exception, NexkError) and "never succeeded" in str(result.exception)


def test_the_status_rule_is_a_pure_function_of_the_log_and_the_clock():
    from datetime import UTC, datetime

    now = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
    job = cron_jobs.RETENTION
    fresh = retention_status.JobStatus(
        job.name,
        job.schedule,
        True,
        "succeeded",
        now - timedelta(hours=6),
        "7 rows",
        "succeeded",
        now - timedelta(hours=6),
        "7 rows",
        now - timedelta(hours=6),
    )
    state = retention_status.CronStatus(now=now, catalogue=True, jobs=(fresh,))
    assert retention_status.problems(state, [job]) == []
    stale = retention_status.CronStatus(now=now + timedelta(hours=20), catalogue=True, jobs=(fresh,))
    assert retention_status.problems(stale, [job]) == [
        "nexk-retention last succeeded 26.0 hours ago (2026-12-05 03:00:00 UTC), more than 25.0 hours: "
        "it should run at '17 3 * * *'."
    ]
