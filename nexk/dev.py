"""`make dev` / `nexk dev`: the whole local platform in one command.

Starts the project's PostgreSQL, applies migrations and policies, seeds a small demo world on the first run
(later runs reuse it), serves the portal on localhost and prints the URL and the demo logins. Ctrl-C stops
the portal and the database it started.
"""

from __future__ import annotations

import os

from rich.console import Console
from rich.table import Table

from db import migrate as runner
from db.cluster import LocalCluster, free_port
from db.connection import external_url
from nexk.errors import NexkError

console = Console()


def _print_logins(world: object, url: str) -> None:
    table = Table("role", "email", "password", "TOTP secret (staff)", title="Demo logins")
    for login in world.logins:
        table.add_row(login.role, login.email, login.password, login.totp_secret or "")
    console.print(table)
    console.print(f"\nThe portal: [bold]{url}[/]   (Ctrl-C stops it and the database)")


def run(host: str = "127.0.0.1", port: int | None = None) -> None:
    import uvicorn

    from db.seed.demo import ensure_demo_world

    cluster = None if external_url() else LocalCluster()
    was_running = cluster.is_running() if cluster else True
    if cluster:
        config = cluster.start()
        url, authenticator_password = config.url, config.authenticator_password
    else:
        url, authenticator_password = external_url(), None
    try:
        plan = runner.migrate(url, authenticator_password=authenticator_password)
        console.print(
            f"Database ready: {len(plan.pending_migrations)} migration(s) and "
            f"{len(plan.changed_policies)} policy file(s) applied just now."
        )
        world = ensure_demo_world(url)
        port = port or int(os.environ.get("NEXK_PORTAL_PORT", 0)) or free_port(8000)
        _print_logins(world, f"http://{host}:{port}/")
        uvicorn.run("app.main:app", host=host, port=port, log_level="info")
    except KeyboardInterrupt:
        pass
    except NexkError:
        raise
    finally:
        if cluster and not was_running:
            cluster.stop()
            console.print("PostgreSQL stopped.")
