"""Web security: response headers and CSRF tokens (attempt limits: app/rate_limits.py).

- Headers: a CSP with no 'unsafe-inline' (scripts and styles are files under /static, htmx is vendored),
  `frame-ancestors 'none'`, HSTS, nosniff, a strict referrer policy, and no caching of personal pages.
- CSRF: signed double-submit. The `nexk_csrf` cookie holds `nonce.hmac(nonce)`; every state-changing request
  must echo it in the `csrf_token` form field or the `X-CSRF-Token` header (htmx sends the header). The JSON
  API takes only bearer tokens (no ambient cookie credentials), so it needs no CSRF token.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi import HTTPException, Request

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "object-src 'none'",
        "frame-ancestors 'none'",
    ]
)

SECURITY_HEADERS: list[tuple[bytes, bytes]] = [
    (b"content-security-policy", CSP.encode()),
    (b"strict-transport-security", b"max-age=63072000; includeSubDomains"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"x-frame-options", b"DENY"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGIApp = Callable[
    [Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]
]


class SecurityHeadersMiddleware:
    """Pure ASGI (cheaper than BaseHTTPMiddleware): adds the headers to every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        is_static = scope["path"].startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.extend(h for h in SECURITY_HEADERS if h[0] not in present)
                if not is_static and b"cache-control" not in present:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


# -- CSRF ---------------------------------------------------------------------------------------------------
CSRF_COOKIE = "nexk_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def _sign(secret: str, nonce: str) -> str:
    return hmac.new(secret.encode(), f"csrf:{nonce}".encode(), hashlib.sha256).hexdigest()[:32]


def new_csrf_token(secret: str) -> str:
    nonce = secrets.token_urlsafe(18)
    return f"{nonce}.{_sign(secret, nonce)}"


def csrf_token_is_valid(secret: str, cookie: str | None, submitted: str | None) -> bool:
    if not cookie or not submitted or not hmac.compare_digest(cookie, submitted):
        return False
    nonce, _, signature = cookie.partition(".")
    return bool(nonce) and hmac.compare_digest(signature, _sign(secret, nonce))


async def require_csrf(request: Request) -> None:
    """Dependency on every browser route: an unsafe method must carry the cookie's token back."""
    if request.method not in UNSAFE_METHODS or request.url.path.startswith("/api/"):
        return
    submitted = request.headers.get(CSRF_HEADER)
    if submitted is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()  # cached by Starlette: the route reads the same parsed form
        value = form.get(CSRF_FIELD)
        submitted = value if isinstance(value, str) else None
    secret = request.app.state.settings.session_secret
    if not csrf_token_is_valid(secret, request.cookies.get(CSRF_COOKIE), submitted):
        raise HTTPException(
            status_code=403,
            detail="This form expired or came from another site: reload the page and try again.",
        )
