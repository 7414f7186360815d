"""`nexk retention`: run the database's retention routine by hand (pg_cron runs it daily on Supabase)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from compliance import retention
from db.connection import database_url

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
