"""`nexk retention`: run the database's retention routine by hand (pg_cron runs it daily on Supabase), and
check that pg_cron really ran it (`status`, from cron.job_run_details)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from compliance import retention
from db.connection import database_url
from nexk.errors import NexkError

app = typer.Typer(
    help=(
        "Retention: purge logs after 90 days, archive resolved tickets, erase data 5 years after contract end, "
        "delete invitations expired for 30 days."
    ),
    no_args_is_help=True,
)


@app.command("run")
def run_command(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Report what would change; change nothing.")
    ] = False,
    now: Annotated[
        datetime | None,
        typer.Option(
            "--now", help="Pretend today is this date/time (time travel for demos), e.g. 2031-12-01."
        ),
    ] = None,
) -> None:
    """Apply private.retention_policy and print the rows affected per step."""
    report = retention.run(database_url(start=True), now=now, dry_run=dry_run)
    title = "Retention dry run (nothing changed)" if dry_run else "Retention run"
    if now is not None:
        title += f" as of {now.isoformat()}"
    table = Table(title=title)
    table.add_column("step")
    table.add_column("rows", justify="right")
    for step, affected in report.counts.items():
        table.add_row(step, str(affected))
    console = Console()
    console.print(table)
    if not dry_run:
        # Contract-end erasures queue their files; the storage sweeper deletes them (rows and bytes).
        from app.storage_cli import sweep_after  # the portal's modules load only when a sweep is due

        sweep_after(console)


@app.command("periods")
def periods_command() -> None:
    """Show the retention periods the database enforces (private.retention_policy)."""
    table = Table(title="private.retention_policy")
    table.add_column("name")
    table.add_column("period")
    for name, period in retention.periods(database_url(start=True)).items():
        table.add_row(name, period)
    Console().print(table)


@app.command("status")
def status_command(
    url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            help="The database to check (a stack's session pooler URL); default NEXK_DATABASE_URL or the local one.",
        ),
    ] = None,
) -> None:
    """Show each pg_cron job's last run; fail unless the retention purge succeeded within 25 hours."""
    from compliance import retention_status

    status = retention_status.read(url or database_url(start=True))
    table = Table(title=f"pg_cron jobs (cron.job, cron.job_run_details) at {status.now:%Y-%m-%d %H:%M:%S %Z}")
    for column in ("job", "schedule", "active", "last run", "started", "message", "last success"):
        table.add_column(column)
    for job in status.jobs:
        table.add_row(
            job.name,
            job.schedule,
            "yes" if job.active else "NO",
            job.last_status or "never",
            f"{job.last_start:%Y-%m-%d %H:%M:%S}" if job.last_start else "",
            (job.last_message or "").strip(),
            f"{job.last_success_end:%Y-%m-%d %H:%M:%S}" if job.last_success_end else "never",
        )
    Console().print(table)
    found = retention_status.problems(status)
    if found:
        raise NexkError(
            "the scheduled purges are not running as the privacy policy promises:\n"
            + "\n".join(f"- {problem}" for problem in found)
        )
    Console().print("every scheduled purge succeeded within its window")
