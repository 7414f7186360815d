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
    stack: str = typer.Option(
        ..., "--stack", help="Stack name: dev, staging, prod (environments) or repo (the merge gate)."
    ),
    fmt: str = typer.Option(
        "table",
        "--format",
        help="table (full width, or a list in a terminal under 120 columns), markdown (reports) or json.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Same as --format json (pull-request review)."),
) -> None:
    """Every resource of STACK with its subprocessor and its region/privacy-relevant settings."""
    # Heavy imports (pulumi, the program) only when the command runs, so `nexk --help` stays fast.
    from infra.inventory_view import FORMATS, show
    from nexk.errors import NexkError

    if as_json:
        fmt = "json"
    if fmt not in FORMATS:
        typer.echo(f"error: --format {fmt!r} is not one of {', '.join(FORMATS)}", err=True)
        raise typer.Exit(2)
    try:
        from infra.inventory import inventory as build_inventory

        result = build_inventory(stack)
    except NexkError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    show(result, fmt)  # type: ignore[arg-type]


@app.command()
def rehearse(
    stack: str = typer.Option(..., "--stack", help="Stack name: dev, staging or prod (Pulumi.<stack>.yaml)."),
    database_url: str = typer.Option(
        "",
        "--database-url",
        help="An empty PostgreSQL database that stands in for the project's (the migrations run there, and the "
        "nexk_portal and nexk_notifier passwords are set, then removed: roles are cluster-wide, so use a cluster "
        "nothing else logs in to); without it the database resources are rehearsed by check and diff only.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print a summary per phase as JSON at the end."),
) -> None:
    """The stack's lifecycle offline: first up, DNS, second up, no-op up, update, drift, destroy.

    The real program and providers run against in-process simulators of Supabase and Brevo that behave as the
    vendors document; every HTTP request is appended to test-artifacts/vendor-calls.jsonl (docs/ops.md).
    """
    from infra.repo import REPO_STACK

    if stack == REPO_STACK:
        typer.echo(
            f"error: stack {REPO_STACK} is the merge gate (GitHub's protection of main), not an environment: "
            f"there is no vendor to rehearse; review it with `nexk infra inventory --stack {REPO_STACK}`",
            err=True,
        )
        raise typer.Exit(1)
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
