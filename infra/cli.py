"""`nexk infra ...`: the infrastructure as auditors and reviewers see it, without credentials or the Pulumi CLI."""

from __future__ import annotations

import json

import typer

app = typer.Typer(
    help="Infrastructure (Pulumi): inspect what each stack declares, offline, under Pulumi's mocks.",
    no_args_is_help=True,
)


@app.callback()
def _infra() -> None:
    """Keep `inventory` a sub-command even while it is the only one."""


@app.command()
def inventory(
    stack: str = typer.Option(..., "--stack", help="Stack name: dev, staging or prod (Pulumi.<stack>.yaml)."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output for pull-request review."),
) -> None:
    """Every resource of STACK with its subprocessor and its region/privacy-relevant settings."""
    # Heavy imports (pulumi, the program) only when the command runs, so `nexk --help` stays fast.
    from nexk.errors import NexkError

    try:
        from infra.inventory import inventory as build_inventory

        result = build_inventory(stack)
    except NexkError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc

    if as_json:
        typer.echo(json.dumps(result.as_dict(), indent=2, sort_keys=True))
        return

    from rich.console import Console
    from rich.table import Table

    console = Console()
    subs = Table(title=f"Subprocessors used by stack {stack}")
    for column in ("subprocessor", "legal entity", "country", "hosting region", "transfer"):
        subs.add_column(column)
    for sub in result.subprocessors:
        subs.add_row(
            sub["key"],
            sub["legal_entity"] or "NOT REGISTERED",
            sub["country"] or "-",
            ", ".join(sub["hosting_region"] or []),
            sub["transfer_mechanism"] or "-",
        )
    console.print(subs)

    table = Table(title=f"Resources of stack {stack} ({len(result.resources)})")
    for column in ("subprocessor", "type", "name", "settings", "secrets"):
        table.add_column(column, overflow="fold")
    for item in result.resources:
        settings = "\n".join(f"{k} = {json.dumps(v)}" for k, v in item.settings.items())
        table.add_row(
            item.subprocessor or "local",
            item.type.split(":")[-1],
            item.name,
            settings,
            ", ".join(item.secrets),
        )
    console.print(table)
    for key in result.missing_secrets:
        console.print(f"[yellow]note:[/] {key} is not set in Pulumi.{stack}.yaml yet (docs/ops.md, secrets)")


@app.command()
def rehearse(
    stack: str = typer.Option(..., "--stack", help="Stack name: dev, staging or prod (Pulumi.<stack>.yaml)."),
    database_url: str = typer.Option(
        "",
        "--database-url",
        help="An empty PostgreSQL database that stands in for the project's (the migrations run there); "
        "without it the database resources are rehearsed by check and diff only.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print a summary per phase as JSON at the end."),
) -> None:
    """The stack's lifecycle offline: first up, DNS, second up, no-op up, update, drift, destroy.

    The real program and providers run against in-process simulators of Supabase and Brevo that behave as the
    vendors document; every HTTP request is appended to test-artifacts/vendor-calls.jsonl (docs/ops.md).
    """
    from infra.rehearsal.engine import RehearsalError
    from infra.rehearsal.scenario import rehearse as run_rehearsal
    from infra.rehearsal.scenario import summary
    from nexk.errors import NexkError

    try:
        result = run_rehearsal(stack, database_url=database_url or None, echo=typer.echo)
    except (NexkError, RehearsalError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    if as_json:
        typer.echo(json.dumps(summary(result), indent=2))
