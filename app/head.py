"""HEAD on every GET route: FastAPI registers only the methods it is given, so a monitor's or a link checker's
`HEAD /tickets` would be a 405. This pure ASGI middleware answers HEAD by running the GET handler and sending
its status and headers (Content-Length included) without the body, as RFC 9110 §9.3.2 describes."""

from __future__ import annotations

from typing import Any

from app.security import ASGIApp, Message, Scope


class HeadAsGetMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, send_without_body)
