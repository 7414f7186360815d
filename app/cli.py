"""`nexk portal ...`: serve the portal, and print a demo user's current TOTP code."""

from __future__ import annotations

from typing import Annotated

import typer

app = typer.Typer(help="The myNexK web portal (FastAPI).", no_args_is_help=True)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on (loopback by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    reload: Annotated[bool, typer.Option(help="Restart on code changes.")] = False,
) -> None:
    """Serve the portal against the local database (start it with `nexk db start` or use `make dev`)."""
    from app.server import serve as run

    run(host, port, reload=reload)


@app.command("totp")
def totp(
    secret: Annotated[str, typer.Argument(help="The base32 TOTP secret printed for a demo login.")],
) -> None:
    """Print the current 6-digit code for a TOTP secret (for demo logins without an authenticator app)."""
    import pyotp

    typer.echo(pyotp.TOTP(secret.replace(" ", "")).now())
