"""Browser sessions: the access and refresh tokens in httpOnly cookies, refreshed transparently.

The middleware verifies the access-token cookie on every request and puts the claims in `request.state`;
when the access token has expired it uses the refresh cookie once (rotating it) and sets the new cookies on
the response. It also makes sure every browser has a signed CSRF cookie (app.security).
"""

from __future__ import annotations

from typing import Any

import anyio
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.responses import Response

from app.auth import AuthError, AuthSession
from app.auth.tokens import InvalidToken
from app.security import CSRF_COOKIE, csrf_token_is_valid, new_csrf_token

ACCESS_COOKIE = "nexk_access"
REFRESH_COOKIE = "nexk_refresh"


def _cookie_kwargs(secure: bool) -> dict[str, Any]:
    return {"httponly": True, "secure": secure, "samesite": "lax", "path": "/"}


def set_session_cookies(
    response: Response, session: AuthSession, *, secure: bool, refresh_seconds: int
) -> None:
    response.set_cookie(
        ACCESS_COOKIE, session.access_token, max_age=refresh_seconds, **_cookie_kwargs(secure)
    )
    response.set_cookie(
        REFRESH_COOKIE, session.refresh_token, max_age=refresh_seconds, **_cookie_kwargs(secure)
    )


def clear_session_cookies(response: Response, *, secure: bool) -> None:
    for name in (ACCESS_COOKIE, REFRESH_COOKIE):
        response.delete_cookie(name, **_cookie_kwargs(secure))


def session_from_cookies(request: HTTPConnection) -> AuthSession | None:
    claims = getattr(request.state, "claims", None)
    access = getattr(request.state, "access_token", None)
    if claims is None or access is None:
        return None
    return AuthSession(
        access_token=access,
        refresh_token=request.cookies.get(REFRESH_COOKIE, ""),
        expires_at=int(claims.get("exp", 0)),
        user_id=str(claims["sub"]),
        aal=str(claims.get("aal", "aal1")),
        has_totp=False,
    )


class SessionMiddleware:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"].startswith(("/static/", "/api/")):
            await self.app(scope, receive, send)
            return
        state = scope["app"].state
        conn = HTTPConnection(scope)
        settings, verifier, backend = state.settings, state.verifier, state.auth
        scope.setdefault("state", {})
        scope["state"]["claims"] = None
        scope["state"]["access_token"] = None
        outgoing = Response()  # collects Set-Cookie headers to add to whatever the route answers

        access = conn.cookies.get(ACCESS_COOKIE)
        if access:
            try:
                scope["state"]["claims"] = verifier.verify(access)
                scope["state"]["access_token"] = access
            except InvalidToken:
                refresh = conn.cookies.get(REFRESH_COOKIE)
                session = None
                if refresh:
                    try:
                        session = await anyio.to_thread.run_sync(backend.refresh, refresh)
                    except AuthError:
                        session = None
                if session is not None:
                    scope["state"]["claims"] = verifier.verify(session.access_token)
                    scope["state"]["access_token"] = session.access_token
                    set_session_cookies(
                        outgoing,
                        session,
                        secure=settings.secure_cookies,
                        refresh_seconds=settings.refresh_token_seconds,
                    )
                else:
                    clear_session_cookies(outgoing, secure=settings.secure_cookies)

        csrf = conn.cookies.get(CSRF_COOKIE)
        if not csrf_token_is_valid(settings.session_secret, csrf, csrf):
            csrf = new_csrf_token(settings.session_secret)
            outgoing.set_cookie(
                CSRF_COOKIE, csrf, samesite="strict", secure=settings.secure_cookies, httponly=True
            )
        scope["state"]["csrf_token"] = csrf
        extra = [(k, v) for k, v in outgoing.raw_headers if k == b"set-cookie"]

        async def send_with_cookies(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start" and extra:
                headers = MutableHeaders(scope=message)
                already = {
                    value.split("=", 1)[0] for value in headers.getlist("set-cookie")
                }  # the route's own cookies (sign-in, sign-out) win
                for _, value in extra:
                    if value.decode("latin-1").split("=", 1)[0] not in already:
                        headers.append("set-cookie", value.decode("latin-1"))
            await send(message)

        await self.app(scope, receive, send_with_cookies)
