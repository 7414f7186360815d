"""`make dev` / `nexk dev`: the whole local platform in one command.

Starts the project's PostgreSQL, applies migrations and policies, seeds a small demo world on the first run
(later runs reuse it), serves the portal on localhost and prints the URL and the demo logins. Ctrl-C stops
the portal and the database it started.
"""

from __future__ import annotations

import os
import signal
import threading
from typing import TYPE_CHECKING

from rich.console import Console

from db import migrate as runner
from db.cluster import LocalCluster, free_port
from db.connection import external_url

if TYPE_CHECKING:  # the demo world's module (bcrypt, pyotp) loads only when `nexk dev` runs
    from db.seed.demo import DemoWorld

console = Console(soft_wrap=True)  # long secrets and URLs stay on one line, whole


def _print_logins(world: DemoWorld, url: str) -> None:
    # Plain lines, never a table: a password or TOTP secret must not be truncated by a narrow terminal.
    console.print("[bold]Demo logins[/] (generated for this machine, kept in .nexk/demo-logins.json):")
    for login in world.logins:
        console.print(f"  {login.role:<14} {login.email}  password: {login.password}", highlight=False)
        if login.totp_secret:
            console.print(f"  {'':<14} TOTP secret: {login.totp_secret}  ({login.totp_uri})", highlight=False)
    console.print(f"\nThe portal: [bold]{url}[/]   (Ctrl-C stops it and the database)")


def run(host: str = "127.0.0.1", port: int | None = None) -> None:
    import uvicorn

    from app.notifications.cli import start_background_worker
    from db.seed.demo import ensure_demo_world

    cluster = None if external_url() else LocalCluster()
    was_running = cluster.is_running() if cluster else True
    stop_worker: threading.Event | None = None
    try:
        # The portal logs in as nexk_portal (db/schema/0375) with the cluster's own password for it, which the
        # runner sets; on another server (NEXK_DATABASE_URL) NEXK_PORTAL_DATABASE_URL names the login.
        if cluster:
            config = cluster.start()
            plan = runner.migrate(
                config.url,
                authenticator_password=config.authenticator_password,
                portal_password=config.portal_password,
            )
            url = config.url
        else:
            url = str(external_url())
            plan = runner.migrate(url)
        console.print(
            f"Database ready: {len(plan.pending_migrations)} migration(s) and "
            f"{len(plan.changed_policies)} policy file(s) applied just now."
        )
        world = ensure_demo_world(url)
        port = port or int(os.environ.get("NEXK_PORTAL_PORT", 0)) or free_port(8000)
        os.environ.setdefault("NEXK_PORTAL_URL", f"http://{host}:{port}")
        stop_worker = start_background_worker()  # e-mails land in the mail sink (/dev/mail, admins)
        _print_logins(world, f"http://{host}:{port}/")
        console.print(
            f"Notifications: delivered to the local mail sink, listed at http://{host}:{port}/dev/mail"
        )
        # uvicorn stops the portal on Ctrl-C, then raises the KeyboardInterrupt again (caught below).
        uvicorn.run("app.main:app", host=host, port=port, log_level="info")
    except KeyboardInterrupt:
        pass
    finally:
        # A second Ctrl-C must not cut the shutdown short and leave the server running: ignore it meanwhile
        # (pg_ctl inherits the ignored signal too).
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            if stop_worker is not None:
                stop_worker.set()
            if cluster and not was_running:
                cluster.stop()
                console.print("PostgreSQL stopped.")
            elif cluster:
                console.print("PostgreSQL left running: it was running before (`nexk db stop` stops it).")
        finally:
            signal.signal(signal.SIGINT, previous)
