"""`nexk notifications ...`: run the outbox worker, scan SLAs once, list the local mail sink.

Configuration (environment): NEXK_WORKER_DATABASE_URL (the nexk_notifier role; default: the local cluster's owner),
NEXK_PORTAL_URL (links in e-mails; default http://127.0.0.1:8000), BREVO_API_KEY and BREVO_TEMPLATE_IDS
(without an API key the worker writes to the mail sink, .nexk/mail-sink/).
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

# The worker's modules (psycopg, httpx, the templates) are imported by the commands that run, not here:
# every `nexk` invocation, `--help` included, imports this file to list its sub-commands.
if TYPE_CHECKING:
    import psycopg

    from app.notifications.outbox import MailClient

app = typer.Typer(
    help="E-mail notifications: the outbox worker, SLA alerts, the local mail sink.", no_args_is_help=True
)
console = Console()


def _connect() -> psycopg.Connection:
    from app.notifications.connection import connect_notifier, notifier_dsn

    return connect_notifier(notifier_dsn())


def _client() -> tuple[MailClient, bool]:
    from app.notifications.brevo_client import BrevoClient
    from app.notifications.sink import SinkClient

    key = os.environ.get("BREVO_API_KEY")
    if key:
        return BrevoClient(
            api_key=key, base_url=os.environ.get("BREVO_API_URL", "https://api.brevo.com/v3")
        ), True
    console.print(
        "[yellow]BREVO_API_KEY is not set: e-mails go to the mail sink (.nexk/mail-sink/).[/yellow]"
    )
    return SinkClient(), False


def _portal_url() -> str:
    return os.environ.get("NEXK_PORTAL_URL", "http://127.0.0.1:8000")


@app.command()
def worker(
    once: Annotated[bool, typer.Option(help="One pass over the due rows, then exit.")] = False,
) -> None:
    """Send queued notifications (Brevo, or the mail sink in dev) and scan SLAs every minute."""
    from app.notifications.templates import template_ids_from_env
    from app.notifications.worker import run_forever, run_once

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    client, real = _client()
    ids = template_ids_from_env()
    if once:
        stats = run_once(
            _connect,
            client,
            datetime.now(UTC),
            template_ids=ids,
            portal_url=_portal_url(),
            require_template_ids=real,
        )
        console.print(stats)
        return
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        run_forever(
            _connect, client, template_ids=ids, portal_url=_portal_url(), stop=stop, require_template_ids=real
        )
    except KeyboardInterrupt:
        stop.set()


@app.command("sla-scan")
def sla_scan_command() -> None:
    """Enqueue SLA warning/breach alerts for the open tickets, once (idempotent)."""
    from app.notifications.worker import sla_scan

    with _connect() as conn:
        result = sla_scan(conn, datetime.now(UTC))
    console.print(f"{result.alerts} alert(s) enqueued over {result.tickets} open ticket(s).")


@app.command()
def sink(
    directory: Annotated[
        Path | None, typer.Option(help="The mail sink folder (default: .nexk/mail-sink).", show_default=False)
    ] = None,
) -> None:
    """List what the local mail sink holds (what would have been sent), newest first."""
    from app.notifications.sink import DEFAULT_SINK_DIR, list_sent

    directory = directory or DEFAULT_SINK_DIR
    table = Table("stored", "to", "template", "ticket", "notification")
    for email in list_sent(directory):
        table.add_row(
            email.stored_at.strftime("%Y-%m-%d %H:%M:%S"),
            email.to_email,
            email.template,
            email.params.get("ticket_ref", ""),
            email.notification_id,
        )
    console.print(table)


def start_background_worker() -> threading.Event:
    """`nexk dev`: deliver notifications (to the mail sink without BREVO_API_KEY) in a daemon thread.

    Returns the event that stops it. Same loop as `nexk notifications worker`, so dev shows exactly the
    e-mails production would send, at /dev/mail.
    """
    from app.notifications.templates import template_ids_from_env
    from app.notifications.worker import run_forever

    client, real = _client()
    stop = threading.Event()
    thread = threading.Thread(
        target=run_forever,
        args=(_connect, client),
        kwargs={
            "template_ids": template_ids_from_env(),
            "portal_url": _portal_url(),
            "stop": stop,
            "require_template_ids": real,
        },
        name="notifications-worker",
        daemon=True,
    )
    thread.start()
    return stop
