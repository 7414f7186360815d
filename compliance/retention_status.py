"""Whether the scheduled purges really ran: `nexk retention status` reads pg_cron's own log.

pg_cron logs every run of every job in `cron.job_run_details` (status 'succeeded' or 'failed', start and end
times); on Supabase its worker writes it, locally `nexk retention run` writes the emulated one the same way
(compliance/retention.py). This module reads each job's last run and last success and judges them against
the jobs the project schedules (nexk/cron_jobs.py): a job missing or inactive, a last run that failed, or no
success within the job's `max_age` (25 hours for the nightly retention purge) is a problem, and the command
exits non-zero naming it. Reading is separate from judging so the rule is a pure function.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from db.connection import connect
from db.rows import one
from nexk import cron_jobs

# pg_cron's statuses of a run that has ended (src/job_metadata.c GetCronStatus); 'starting', 'running',
# 'sending' and 'connecting' are a run in progress.
FINISHED = ("succeeded", "failed")


@dataclass(frozen=True)
class JobStatus:
    """One row of cron.job with its last run (any status), last finished run and last success."""

    name: str
    schedule: str
    active: bool
    last_status: str | None = None
    last_start: datetime | None = None
    last_message: str | None = None
    finished_status: str | None = None
    finished_end: datetime | None = None
    finished_message: str | None = None
    last_success_end: datetime | None = None


@dataclass(frozen=True)
class CronStatus:
    """What the database says: its clock, whether pg_cron's catalogue exists at all, and every job in it."""

    now: datetime
    catalogue: bool
    jobs: tuple[JobStatus, ...]


JOBS_QUERY = """
select
    j.jobname, j.schedule, j.active,
    last_run.status, last_run.start_time, last_run.return_message,
    finished.status, finished.end_time, finished.return_message,
    success.end_time
from cron.job as j
left join lateral (
    select r.status, r.start_time, r.return_message from cron.job_run_details as r
    where r.jobid = j.jobid order by r.start_time desc nulls last, r.runid desc limit 1
) as last_run on true
left join lateral (
    select r.status, r.end_time, r.return_message from cron.job_run_details as r
    where r.jobid = j.jobid and r.status = any(%s) order by r.end_time desc nulls last, r.runid desc limit 1
) as finished on true
left join lateral (
    select max(r.end_time) as end_time from cron.job_run_details as r
    where r.jobid = j.jobid and r.status = 'succeeded'
) as success on true
order by j.jobname
"""


def read(url: str) -> CronStatus:
    """Every job of cron.job (the ones the caller's role may see: pg_cron's row level security) and its runs."""
    with connect(url) as conn:
        now, catalogue = one(
            conn.execute(
                "select now(), pg_catalog.to_regclass('cron.job_run_details') is not null"
            ).fetchone()
        )
        rows = conn.execute(JOBS_QUERY, (list(FINISHED),)).fetchall() if catalogue else []
    return CronStatus(now=now, catalogue=catalogue, jobs=tuple(JobStatus(*row) for row in rows))


def problems(status: CronStatus, expected: Sequence[cron_jobs.CronJob] = cron_jobs.JOBS) -> list[str]:
    """What is wrong with the expected jobs, one sentence each (empty: every one ran in time)."""
    if not status.catalogue:
        return [
            "pg_cron is not enabled on this database (no cron.job_run_details): nothing runs the retention "
            "purge. Enable it (`pulumi up` creates the extension, or `create extension pg_cron with schema "
            "pg_catalog`) and run `nexk db migrate` to schedule the jobs (db/schema/0377_pg_cron.sql)."
        ]
    by_name = {job.name: job for job in status.jobs}
    found = []
    for job in expected:
        seen = by_name.get(job.name)
        limit = _hours(job.max_age.total_seconds())
        if seen is None:
            found.append(
                f"{job.name} is not scheduled (no row in cron.job): run `nexk db migrate`, which schedules "
                f"{job.command!r} at {job.schedule!r} (db/schema/0377_pg_cron.sql)."
            )
            continue
        if not seen.active:
            found.append(
                f"{job.name} is inactive (cron.job.active is false): pg_cron skips it. Re-activate it with "
                "pg_cron's cron.alter_job(<its jobid>, active => true)."
            )
        if seen.finished_status == "failed":
            found.append(
                f"{job.name}: its last run failed (ended {_when(seen.finished_end)}): "
                f"{(seen.finished_message or '').strip() or 'no message'}. "
                "Its runs: cron.job_run_details, newest start_time first."
            )
        if seen.last_success_end is None:
            found.append(f"{job.name} has never succeeded (no 'succeeded' row in cron.job_run_details).")
        elif status.now - seen.last_success_end > job.max_age:
            age = _hours((status.now - seen.last_success_end).total_seconds())
            found.append(
                f"{job.name} last succeeded {age} ago ({_when(seen.last_success_end)}), more than {limit}: "
                f"it should run at {seen.schedule!r}."
            )
    return found


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:.1f} hours"


def _when(moment: datetime | None) -> str:
    return "at an unknown time" if moment is None else f"{moment:%Y-%m-%d %H:%M:%S %Z}".strip()
