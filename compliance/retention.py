"""Retention, run from Python: `private.run_retention()` (db/schema/0100_retention.sql) does the work.

The database holds the periods (`private.retention_policy`) and the purge logic, and pg_cron runs it daily
on Supabase (`private.run_retention()`, `private.purge_expired_invitations()` for expired invitations,
db/schema/0280, and `private.purge_expired_rate_limits()` every quarter of an hour, db/schema/0373). This module
is the manual and local trigger behind `nexk retention run`, which runs them all, with time travel (`now`) for
demos and tests. A dry run changes nothing and reports the same counts.

Locally nothing schedules the jobs: the compatibility layer only emulates pg_cron's catalogue. So a real run
(not dry, no time travel) against that emulation records each job it ran in `cron.job_run_details`, as pg_cron's
worker does on Supabase (status 'succeeded' with "N rows", or 'failed' with the error, start and end times),
and `nexk retention status` reads the same rows either way. Against the real pg_cron nothing is recorded by
hand: its run log must only ever say what pg_cron itself ran.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import psycopg

from db.connection import connect
from db.rows import one
from nexk import cron_jobs


@dataclass(frozen=True)
class RetentionReport:
    """What one run did (or, dry, would do): rows affected per step, in the order the steps ran."""

    now: datetime | None
    dry_run: bool
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


# Purges that live in their own function (a later migration than private.run_retention), run after it: the
# step name they report under, the function, which takes (now, dry_run) and returns the rows affected, and the
# pg_cron job that runs it on Supabase.
EXTRA_PURGES = (
    # db/schema/0280: invitations nobody accepted, once expired for `expired_invitations_after_expiry`.
    (
        "invitations: expired invitations deleted",
        "private.purge_expired_invitations",
        cron_jobs.INVITATIONS_PURGE,
    ),
    # db/schema/0373: attempt counters of the sign-in, TOTP, reset and invitation limits, once their window ended.
    (
        "technical_logs: private.rate_limit_buckets",
        "private.purge_expired_rate_limits",
        cron_jobs.RATE_LIMITS_PURGE,
    ),
)


def run(url: str, now: datetime | None = None, dry_run: bool = False) -> RetentionReport:
    """Apply the retention periods as of `now` (default: the database's clock) and report the counts."""
    import psycopg  # here: `nexk --help` imports this module (and db.compat imports psycopg)

    from db.compat import is_emulated_cron

    with connect(url) as conn:
        # Only the run pg_cron would have made is recorded: not a dry run, not a time-travelling one.
        record = not dry_run and now is None and is_emulated_cron(conn)
        finished: list[
            tuple[cron_jobs.CronJob, datetime, datetime, int]
        ] = []  # job, start, end, rows returned
        job, started = cron_jobs.RETENTION, _clock(conn)
        try:
            rows = conn.execute(
                "select step, affected from private.run_retention(coalesce(%s, now()), %s)", (now, dry_run)
            ).fetchall()
            finished.append((job, started, _clock(conn), len(rows)))
            for step, function, job in EXTRA_PURGES:
                started = _clock(conn)
                affected = one(
                    conn.execute(f"select {function}(coalesce(%s, now()), %s)", (now, dry_run)).fetchone()
                )[0]
                finished.append((job, started, _clock(conn), 1))
                rows.append((step, affected))
            if dry_run:
                conn.rollback()  # belt and braces: the function already rolled its own work back
            else:
                conn.commit()
        except psycopg.Error as exc:
            conn.rollback()
            if record:
                # One transaction: the jobs that had finished were rolled back with the failing one, so none of
                # them took effect; each is logged as failed with the error, as pg_cron logs a failed command.
                message = f"ERROR:  {exc.diag.message_primary or exc}"
                ended = _clock(conn)
                for done_job, done_start, _, _ in finished:
                    _record(conn, done_job, done_start, ended, "failed", message)
                _record(conn, job, started, ended, "failed", message)
                conn.commit()
            raise
        if record:
            for done_job, done_start, done_end, returned in finished:
                # pg_cron's return message for a query: "1 row", "5 rows".
                _record(
                    conn,
                    done_job,
                    done_start,
                    done_end,
                    "succeeded",
                    f"{returned} row{'s' * (returned != 1)}",
                )
            conn.commit()
    return RetentionReport(now=now, dry_run=dry_run, counts={step: int(affected) for step, affected in rows})


def _clock(conn: psycopg.Connection) -> datetime:
    """The database's wall clock (not the transaction's start): a job's start and end times, as pg_cron's."""
    return one(conn.execute("select pg_catalog.clock_timestamp()").fetchone())[0]


def _record(
    conn: psycopg.Connection,
    job: cron_jobs.CronJob,
    start: datetime,
    end: datetime,
    status: str,
    message: str,
) -> None:
    """Log one run of `job` in the emulated cron.job_run_details, with the columns pg_cron's worker fills
    (job_pid: the backend that ran it). A job that is not scheduled gets no row: status reports it missing."""
    conn.execute(
        "insert into cron.job_run_details"
        " (jobid, job_pid, database, username, command, status, return_message, start_time, end_time)"
        " select j.jobid, pg_catalog.pg_backend_pid(), j.database, j.username, j.command, %s, %s, %s, %s"
        " from cron.job as j where j.jobname = %s and j.username = current_user",
        (status, message, start, end, job.name),
    )


def periods(url: str) -> dict[str, str]:
    """The retention periods the database enforces, by name (what the register cross-check compares)."""
    with connect(url) as conn:
        rows = conn.execute(
            "select name, period::text from private.retention_policy order by name"
        ).fetchall()
    return dict(rows)
