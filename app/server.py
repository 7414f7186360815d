"""Serving the portal locally: `serve()` is what `nexk dev` and `nexk portal serve` call."""

from __future__ import annotations


def serve(host: str = "127.0.0.1", port: int = 8000, *, reload: bool = False) -> None:
    """Run uvicorn on `app.main:app` (loopback by default: dev serves no one but this machine)."""
    import uvicorn

    uvicorn.run("app.main:app", host=host, port=port, reload=reload, proxy_headers=False, log_level="info")
