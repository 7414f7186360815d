"""Retention, run from Python: `private.run_retention()` (db/schema/0100_retention.sql) does the work.

The database holds the periods (`private.retention_policy`) and the purge logic, and pg_cron runs it daily
on Supabase. This module is the manual and local trigger behind `nexk retention run`, with time travel
(`now`) for demos and tests. A dry run is rolled back inside the database and reports the same counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from db.connection import connect


@dataclass(frozen=True)
class RetentionReport:
    """What one run did (or, dry, would do): rows affected per step, in the order the steps ran."""

    now: datetime | None
    dry_run: bool
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def run(url: str, now: datetime | None = None, dry_run: bool = False) -> RetentionReport:
    """Apply the retention periods as of `now` (default: the database's clock) and report the counts."""
    with connect(url) as conn:
        rows = conn.execute(
            "select step, affected from private.run_retention(coalesce(%s, now()), %s)", (now, dry_run)
        ).fetchall()
        if dry_run:
            conn.rollback()  # belt and braces: the function already rolled its own work back
        else:
            conn.commit()
    return RetentionReport(now=now, dry_run=dry_run, counts={step: int(affected) for step, affected in rows})


def periods(url: str) -> dict[str, str]:
    """The retention periods the database enforces, by name (what the register cross-check compares)."""
    with connect(url) as conn:
        rows = conn.execute(
            "select name, period::text from private.retention_policy order by name"
        ).fetchall()
    return dict(rows)
