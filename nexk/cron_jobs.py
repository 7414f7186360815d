"""The database's scheduled jobs (pg_cron): what db/schema/0377_pg_cron.sql schedules, what `nexk retention
status` expects to have run, and what the Pulumi program and its policy pack require of a stack. The migration
says it in SQL, this module in Python; db/tests/test_cron.py compares the two on a migrated database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class CronJob:
    """One pg_cron job: its `cron.job.jobname`, schedule and command, and how long after its last success
    `nexk retention status` starts failing (one missed run and an hour of slack)."""

    name: str
    schedule: str
    command: str
    max_age: timedelta


# The extension that runs them: on Supabase, created by the Pulumi program (infra/providers/database_extension.py)
# and by 0377; locally, the compatibility layer's emulated catalogue stands in (db/compat/supabase.sql).
EXTENSION = "pg_cron"
# pg_cron.control: `schema = pg_catalog` and not relocatable (its tables and functions live in schema `cron`).
EXTENSION_SCHEMA = "pg_catalog"

# The nightly purge behind the privacy policy's promises (90-day log purge, contract end + 5 years).
RETENTION = CronJob("nexk-retention", "17 3 * * *", "select private.run_retention()", timedelta(hours=25))
INVITATIONS_PURGE = CronJob(
    "nexk-invitations-purge", "23 3 * * *", "select private.purge_expired_invitations()", timedelta(hours=25)
)
RATE_LIMITS_PURGE = CronJob(
    "nexk-rate-limits-purge", "*/15 * * * *", "select private.purge_expired_rate_limits()", timedelta(hours=1)
)
JOBS: tuple[CronJob, ...] = (RETENTION, INVITATIONS_PURGE, RATE_LIMITS_PURGE)


def schedules() -> dict[str, str]:
    """{job name: schedule}: what a stack declares (DatabaseMigrations.cron_jobs) and the policy pack reads."""
    return {job.name: job.schedule for job in JOBS}
