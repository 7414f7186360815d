"""`nexk dsr`: the admins' data-subject request tooling (GDPR Art. 15-21) over the owner connection.

SUBJECT is a profile id (UUID) or the person's e-mail. An unknown subject fails with a clear message and
the attempt is journalled (private.dsr_events).
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from compliance import dsr
from db.connection import database_url

app = typer.Typer(
    help="Data-subject requests: open, export, rectify, erase, restrict, object, complete.",
    no_args_is_help=True,
)
console = Console()

Subject = Annotated[str, typer.Argument(help="The person's profile id (UUID) or e-mail.")]


def _print_json(data: object) -> None:
    console.print_json(json.dumps(data, default=str))


def _print_recipients(items: list[dict[str, str]] | None) -> None:
    if not items:
        return
    table = Table(title="Art. 19: recipients to inform")
    for column in ("recipient", "kind", "reason"):
        table.add_column(column)
    for item in items:
        table.add_row(item["recipient"], item["kind"], item["reason"])
    console.print(table)


@app.command("open")
def open_command(
    subject: Subject,
    request_type: Annotated[str, typer.Argument(metavar="TYPE", help=", ".join(dsr.REQUEST_TYPES))],
    received: Annotated[
        datetime | None, typer.Option(help="When the request arrived (default: now).")
    ] = None,
    notes: Annotated[str | None, typer.Option(help="Admin notes (how identity was checked, ...).")] = None,
) -> None:
    """Record a request; prints its id and due dates."""
    url = database_url(start=True)
    request_id = dsr.open_request(url, subject, request_type, received, notes)
    row = next(r for r in dsr.list_requests(url, include_closed=True) if r["id"] == request_id)
    console.print(
        f"request {request_id} ({request_type}) received {row['received_at']:%Y-%m-%d %H:%M}: "
        f"due {row['due_at']:%Y-%m-%d} (legal {row['legal_due_at']:%Y-%m-%d}, internal {row['internal_due_at']:%Y-%m-%d})"
    )


@app.command("export")
def export_command(
    subject: Subject,
    out: Annotated[Path, typer.Option("--out", help="The zip to write (export.json + attachments).")],
    uploads: Annotated[Path | None, typer.Option(help="Local byte store (default .nexk/uploads).")] = None,
) -> None:
    """Art. 15/20: write the person's data and attachments into a zip."""
    data = dsr.export_zip(database_url(start=True), subject, out, dsr.local_reader(uploads))
    console.print(
        f"wrote {out}: {len(data['tickets'])} ticket(s), {len(data['attachments'])} attachment(s)"
        + (
            f", {len(data['attachments_missing'])} missing in the byte store"
            if data["attachments_missing"]
            else ""
        )
    )


@app.command("rectify")
def rectify_command(
    subject: Subject,
    changes: Annotated[list[str], typer.Argument(help="field=value pairs, e.g. surname=Peeters phone=")],
) -> None:
    """Art. 16: correct first_name, surname, position, email or phone (empty value clears position/phone)."""
    parsed: dict[str, str | None] = {}
    for item in changes:
        field, sep, value = item.partition("=")
        if not sep:
            raise dsr.DsrError(
                f"{item!r}: write changes as field=value ({', '.join(dsr.RECTIFIABLE_FIELDS)})"
            )
        parsed[field] = value or None
    _print_json(dsr.rectify(database_url(start=True), subject, parsed))


@app.command("erase")
def erase_command(
    subject: Subject,
    yes: Annotated[bool, typer.Option("--yes", help="Confirm: erasure cannot be undone.")] = False,
) -> None:
    """Art. 17: anonymise the person everywhere and delete their files (through the storage sweeper)."""
    if not yes:
        raise dsr.DsrError("erasure cannot be undone: run again with --yes")
    result = dsr.erase(database_url(start=True), subject)
    _print_recipients(result.pop("recipients", None))
    _print_json({k: v for k, v in result.items() if k != "storage_paths"})
    # The files were queued with the erasure; delete them now rather than at the portal's next cron.
    from app.storage_cli import sweep_after  # the portal's modules load only when a sweep is due

    sweep_after(console)


@app.command("restrict")
def restrict_command(
    subject: Subject,
    lift: Annotated[
        bool, typer.Option("--lift", help="Lift the restriction (tell the person first, Art. 18(3)).")
    ] = False,
) -> None:
    """Art. 18: make the person's data read-only and out of processing (or lift it with --lift)."""
    _print_json(dsr.restrict(database_url(start=True), subject, restricted=not lift))


@app.command("object")
def object_command(
    subject: Subject,
    purpose: Annotated[str, typer.Argument(help=", ".join(dsr.OBJECTION_PURPOSES))],
    reason: Annotated[str | None, typer.Option(help="The person's grounds, in their words.")] = None,
) -> None:
    """Art. 21: record an objection to a legitimate-interest purpose."""
    status = dsr.object_to(database_url(start=True), subject, purpose, reason)
    console.print(f"objection to {purpose}: {status}")


@app.command("complete")
def complete_command(
    request_id: Annotated[str, typer.Argument(help="The request id (see `nexk dsr list`).")],
    reject: Annotated[
        bool, typer.Option("--reject", help="Close as rejected (give reasons, Art. 12(4)).")
    ] = False,
) -> None:
    """Close a request; prints whether it was on time and the Art. 19 recipients to inform."""
    result = dsr.complete(database_url(start=True), request_id, "rejected" if reject else "completed")
    _print_recipients(result.pop("recipients", None))
    _print_json(result)


@app.command("recipients")
def recipients_command(subject: Subject) -> None:
    """Art. 19: who received the person's data."""
    _print_recipients([vars(r) for r in dsr.recipients(database_url(start=True), subject)])


@app.command("list")
def list_command(
    all_requests: Annotated[bool, typer.Option("--all", help="Include closed requests.")] = False,
) -> None:
    """The request queue, most urgent first."""
    table = Table(title="Data-subject requests")
    for column in ("due", "legal due", "type", "status", "subject", "received", "completed", "id"):
        table.add_column(column)
    for row in dsr.list_requests(database_url(start=True), include_closed=all_requests):
        table.add_row(
            f"{row['due_at']:%Y-%m-%d}",
            f"{row['legal_due_at']:%Y-%m-%d}" if row["legal_due_at"] else "",
            row["type"],
            row["status"],
            row["subject_email"],
            f"{row['received_at']:%Y-%m-%d}",
            f"{row['completed_at']:%Y-%m-%d}" if row["completed_at"] else "",
            str(row["id"]),
        )
    console.print(table)
