"""`nexk`: one command line for every operation of the platform (database, RLS, infra, compliance, dev)."""

from __future__ import annotations

import importlib

import typer
from rich.console import Console
from rich.text import Text

from nexk.errors import NexkError

app = typer.Typer(
    help="myNexK platform: local database, RLS proofs, infrastructure, compliance and the portal.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

# Each part of the platform owns its sub-commands; they are mounted here so `nexk --help` lists them all.
SUBCOMMANDS = {
    "db": "db.cli",
    "rls": "db.rls.cli",
    "infra": "infra.cli",
    "compliance": "compliance.cli",
    "retention": "compliance.retention_cli",
    "dsr": "compliance.dsr_cli",
    "portal": "app.cli",
    "storage": "app.storage_cli",
    "notifications": "app.notifications.cli",
}

for _name, _module in SUBCOMMANDS.items():
    app.add_typer(importlib.import_module(_module).app, name=_name)


@app.command()
def dev() -> None:
    """Run the local platform: start PostgreSQL, migrate, seed a demo world once, serve the portal."""
    from nexk_cli.dev import run

    run()


def main() -> None:
    """Entry point: errors meant for people print as one clear message, not a traceback."""
    try:
        app()
    except NexkError as exc:
        Console(stderr=True).print(Text("error: ", style="bold red") + Text(str(exc)), highlight=False)
        raise SystemExit(1) from None
