"""`nexk storage`: the storage sweeper by hand, and what waits in its queue.

`sweep` runs the same sweep as the portal's hourly cron with the portal's settings (NEXK_ENV): locally the
byte store in .nexk/uploads, in production Supabase Storage signed in as the sweeper account.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table

from nexk.errors import NexkError

if TYPE_CHECKING:
    from app.storage_sweep import SweepResult

app = typer.Typer(
    help="Attachment storage: delete the objects erasure and retention queued (the storage sweeper).",
    no_args_is_help=True,
)


def run_sweep() -> SweepResult:
    """One sweep with the portal's settings; raises NexkError when the sweeper cannot run at all."""
    # The portal (FastAPI, the pool) is imported only when a sweep runs, so `nexk --help` stays fast.
    from app.database import Database
    from app.main import auth_backend_for, storage_for, verifier_for
    from app.settings import load_settings
    from app.storage_sweep import SweeperError, session_for, sweep

    settings = load_settings()
    database = Database(settings.database_url, min_size=1, max_size=1)
    auth = auth_backend_for(settings)
    database.open()
    auth.open()
    try:
        session = session_for(settings, auth, verifier_for(settings))
        return sweep(database, storage_for(settings, database), session)
    except SweeperError as exc:
        raise NexkError(str(exc)) from None
    finally:
        auth.close()
        database.close()


def sweep_after(console: Console) -> None:
    """The sweep a CLI runs right after queueing files (erasure, retention): reported, never fatal, since the
    queue keeps what could not be deleted for the portal's hourly cron or `nexk storage sweep`."""
    try:
        result = run_sweep()
    except NexkError as exc:
        console.print(
            f"[yellow]storage sweep not run:[/yellow] {exc}; the files stay queued (`nexk storage status`)"
        )
        return
    console.print(f"storage sweep: {result.deleted} of {result.queued} queued objects deleted")
    for error in result.errors:
        console.print(f"[red]not deleted (queued for the next sweep):[/red] {error}")


@app.command("sweep")
def sweep_command() -> None:
    """Delete the queued objects (rows and bytes) through Storage; what fails stays queued."""
    result = run_sweep()
    console = Console()
    console.print(f"storage sweep: {result.deleted} of {result.queued} queued objects deleted")
    for error in result.errors:
        console.print(f"[red]not deleted:[/red] {error}")
    if result.errors:
        raise typer.Exit(1)


@app.command("status")
def status_command() -> None:
    """What waits in the deletion queue (objects still present), per reason."""
    from db.connection import connect, database_url

    with connect(database_url(start=True)) as conn:
        rows = conn.execute(
            """select q.reason, count(*), min(q.queued_at)
               from private.storage_deletions as q
               where exists (select from storage.objects as o where o.bucket_id = q.bucket_id and o.name = q.name)
               group by q.reason order by q.reason"""
        ).fetchall()
    table = Table(title="Storage objects waiting for the sweeper")
    for column in ("reason", "objects", "oldest queued at"):
        table.add_column(column)
    for reason, count, oldest in rows:
        table.add_row(reason, str(count), oldest.isoformat(timespec="seconds"))
    Console().print(table if rows else "storage deletion queue: empty")
