"""Retention, run from Python: `private.run_retention()` (db/schema/0100_retention.sql) does the work.

The database holds the periods (`private.retention_policy`) and the purge logic, and pg_cron runs it daily
on Supabase (`private.run_retention()`, `private.purge_expired_invitations()` for expired invitations,
db/schema/0280, and `private.purge_expired_rate_limits()` every quarter of an hour, db/schema/0373). This module
is the manual and local trigger behind `nexk retention run`, which runs them all, with time travel (`now`) for
demos and tests. A dry run changes nothing and reports the same counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from db.connection import connect
from db.rows import one


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
# step name they report under and the function, which takes (now, dry_run) and returns the rows affected.
EXTRA_PURGES = (
    # db/schema/0280: invitations nobody accepted, once expired for `expired_invitations_after_expiry`.
    ("invitations: expired invitations deleted", "private.purge_expired_invitations"),
    # db/schema/0373: attempt counters of the sign-in, TOTP, reset and invitation limits, once their window ended.
    ("technical_logs: private.rate_limit_buckets", "private.purge_expired_rate_limits"),
)


def run(url: str, now: datetime | None = None, dry_run: bool = False) -> RetentionReport:
    """Apply the retention periods as of `now` (default: the database's clock) and report the counts."""
    with connect(url) as conn:
        rows = conn.execute(
            "select step, affected from private.run_retention(coalesce(%s, now()), %s)", (now, dry_run)
        ).fetchall()
        for step, function in EXTRA_PURGES:
            affected = one(
                conn.execute(
                    f"select {function}(coalesce(%s, now()), %s)",
                    (now, dry_run),
                ).fetchone()
            )[0]
            rows.append((step, affected))
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
