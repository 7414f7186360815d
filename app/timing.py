"""`Server-Timing: db;dur=<ms>, app;dur=<ms>` on every response: the time spent inside RLS transactions
(connection wait included) and the total from request start to response start, so the benchmark (and a
browser's dev tools) see where a request's time goes without guessing."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

# A mutable cell per request: worker threads run in a copy of the context but share the same dict.
_request_timing: ContextVar[dict[str, float] | None] = ContextVar("nexk_request_timing", default=None)


@contextmanager
def measure(name: str) -> Iterator[None]:
    cell = _request_timing.get()
    started = time.perf_counter()
    try:
        yield
    finally:
        if cell is not None:
            cell[name] = cell.get(name, 0.0) + (time.perf_counter() - started) * 1000


class ServerTimingMiddleware:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        cell: dict[str, float] = {}
        token = _request_timing.set(cell)

        async def send_with_timing(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                parts = [f"{name};dur={value:.2f}" for name, value in cell.items()]
                parts.append(f"app;dur={(time.perf_counter() - started) * 1000:.2f}")
                message["headers"] = [
                    *message.get("headers", []),
                    (b"server-timing", ", ".join(parts).encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_timing)
        finally:
            _request_timing.reset(token)
