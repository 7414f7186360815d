"""`nexk db ...`: the local PostgreSQL cluster, migrations, synthetic data."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from db.cluster import LocalCluster
from db.connection import database_url, external_url
from nexk.errors import NexkError

app = typer.Typer(
    help="The database: local PostgreSQL cluster, migrations and synthetic data.", no_args_is_help=True
)
console = Console()


def _local_only(action: str) -> LocalCluster:
    if external_url():
        raise NexkError(
            f"NEXK_DATABASE_URL is set, so there is no local cluster to {action}: unset it first."
        )
    return LocalCluster()


@app.command()
def start() -> None:
    """Start the local PostgreSQL cluster (created in .nexk/ on first use)."""
    config = _local_only("start").start()
    console.print(f"PostgreSQL is running on 127.0.0.1:{config.port}")


@app.command()
def stop() -> None:
    """Stop the local PostgreSQL cluster."""
    stopped = _local_only("stop").stop()
    console.print("PostgreSQL stopped" if stopped else "PostgreSQL was not running")


@app.command()
def gc() -> None:
    """Remove the data folders in /var/lib/nexk/ whose clone is gone (also done by every start)."""
    from db.cluster import collect_garbage, server_root

    garbage = collect_garbage()
    for home, clone in garbage.removed:
        console.print(f"removed {home} (its clone {clone} is gone)", highlight=False, soft_wrap=True)
    for home in garbage.unrecorded:
        console.print(
            f"kept {home}: it does not record its clone (made before `nexk db gc` existed and not started "
            "since); if no clone of yours uses it, stop any server in it and delete it by hand",
            highlight=False,
            soft_wrap=True,
        )
    if not garbage.removed:
        console.print(f"nothing to remove in {server_root()}", highlight=False, soft_wrap=True)


@app.command()
def url() -> None:
    """Print the database URL (DSN) every command uses."""
    typer.echo(database_url())


@app.command()
def status() -> None:
    """Show the server and the applied and pending migrations, function and policy files."""
    from db import migrate as runner

    if not external_url():
        cluster = LocalCluster()
        config = cluster.load_config()
        running = config is not None and cluster.is_running()
        where = f"127.0.0.1:{config.port}, data in {cluster.data_dir}" if config else "not created yet"
        console.print(f"local PostgreSQL: {'running' if running else 'stopped'} ({where})")
        if not running:
            return
    plan = runner.plan(database_url())
    table = Table("state", "file")
    for version, name in plan.applied:
        table.add_row("[green]applied[/]", f"db/schema/{version}_{name}.sql")
    if plan.adopt_baseline is not None:
        table.add_row("[yellow]to record[/]", f"{plan.adopt_baseline.relpath} (replaces what is applied)")
    for file in plan.pending_migrations:
        table.add_row("[yellow]pending[/]", file.relpath)
    for changed in [*plan.changed_functions, *plan.changed_policies]:
        table.add_row("[yellow]to apply[/]", changed.relpath)
    for name in plan.removed_policies:
        table.add_row("[yellow]removed[/]", f"db/policies/{name}.sql")
    console.print(table)
    console.print("up to date" if plan.up_to_date else "run `nexk db migrate` to apply what is pending")


def _print_plan(plan, verb: str) -> None:
    if plan.up_to_date:
        console.print("Database is up to date: nothing to do.")
        return
    if plan.adopt_baseline is not None:
        console.print(
            f"{verb} record of {plan.adopt_baseline.relpath} (the migrations it replaces are applied)"
        )
    for file in plan.pending_migrations:
        console.print(f"{verb} migration {file.relpath}")
    for file in plan.changed_functions:
        console.print(f"{verb} functions  {file.relpath}")
    for file in plan.changed_policies:
        console.print(f"{verb} policies   {file.relpath} ({', '.join(file.tables()) or 'no policy'})")
    for name in plan.removed_policies:
        console.print(f"{verb} removal of db/policies/{name}.sql")


@app.command()
def migrate(dry_run: bool = typer.Option(False, "--dry-run", help="Print the plan, change nothing.")) -> None:
    """Apply pending migrations (db/schema), then changed function files (db/functions), then changed policy
    files (db/policies)."""
    from db import migrate as runner

    url = database_url(start=not dry_run)
    config = None if external_url() else LocalCluster().load_config()
    plan = runner.migrate(
        url,
        dry_run=dry_run,
        authenticator_password=config.authenticator_password if config else None,
        portal_password=config.portal_password if config else None,
    )
    _print_plan(plan, "would apply" if dry_run else "applied")


@app.command()
def reset(yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation.")) -> None:
    """Delete the local database and rebuild it from scratch (migrations, policies, demo data)."""
    from db import migrate as runner

    cluster = _local_only("reset")
    if not yes:
        typer.confirm(f"Delete every row of the local database in {cluster.data_dir}?", abort=True)
    from db.seed.demo import ensure_demo_world

    cluster.destroy()
    config = cluster.start()
    runner.migrate(
        config.url,
        authenticator_password=config.authenticator_password,
        portal_password=config.portal_password,
    )
    ensure_demo_world(config.url)  # same demo logins as before (.nexk/demo-logins.json survives a reset)
    console.print("Local database rebuilt: migrations, policies and the demo world applied.")


@app.command()
def seed(
    orgs: int = typer.Option(..., "--orgs", help="Client organizations to create."),
    users_per_org: int = typer.Option(..., "--users-per-org", help="Client users per organization."),
    tickets: int = typer.Option(..., "--tickets", help="Tickets across all organizations."),
    seed: int = typer.Option(..., "--seed", help="Same seed, same rows (byte for byte)."),
    messages_per_ticket: int = typer.Option(3, "--messages-per-ticket", help="Messages on every ticket."),
    replace: bool = typer.Option(False, "--replace", help="Delete previously seeded synthetic rows first."),
) -> None:
    """Load deterministic synthetic Belgian tenants (organizations, people, tickets, messages) with COPY."""
    from db.seed.load import load_world
    from db.seed.world import WorldSpec

    spec = WorldSpec(
        orgs=orgs,
        users_per_org=users_per_org,
        tickets=tickets,
        seed=seed,
        messages_per_ticket=messages_per_ticket,
    )
    problems = spec.problems()
    if problems:
        raise typer.BadParameter("; ".join(problems))
    report = load_world(
        database_url(start=True), spec, replace=replace, progress=lambda line: console.print(f"  {line}")
    )
    table = Table("table", "rows", title=f"Seeded world (seed {seed})")
    for name, count in report.counts.items():
        table.add_row(name, f"{count:,}")
    console.print(table)
    console.print(f"Loaded in {report.total:.1f} s.")
