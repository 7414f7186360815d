"""Browser sessions: the access and refresh tokens in httpOnly cookies, refreshed transparently.

The middleware verifies the access-token cookie on every request (signature, expiry, and that its session is
still alive: sign-out ends it everywhere) and puts the claims in `request.state`; when the access token has expired it uses the refresh cookie once (rotating it) and sets the new cookies on
the response. It also makes sure every browser has a signed CSRF cookie bound to its session (app.security).
"""

from __future__ import annotations

from typing import Any

import anyio
import jwt
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.responses import Response

from app.auth import AuthError, AuthSession
from app.auth.tokens import InvalidToken
from app.security import CSRF_COOKIE, csrf_binding, csrf_token_is_valid, new_csrf_token

ACCESS_COOKIE = "nexk_access"
REFRESH_COOKIE = "nexk_refresh"


def _cookie_kwargs(secure: bool) -> dict[str, Any]:
    return {"httponly": True, "secure": secure, "samesite": "lax", "path": "/"}


def _set_token_cookies(
    response: Response, session: AuthSession, *, secure: bool, refresh_seconds: int
) -> None:
    response.set_cookie(
        ACCESS_COOKIE, session.access_token, max_age=refresh_seconds, **_cookie_kwargs(secure)
    )
    response.set_cookie(
        REFRESH_COOKIE, session.refresh_token, max_age=refresh_seconds, **_cookie_kwargs(secure)
    )


def set_csrf_cookie(response: Response, token: str, *, secure: bool) -> None:
    response.set_cookie(CSRF_COOKIE, token, samesite="strict", secure=secure, httponly=True, path="/")


def set_session_cookies(
    response: Response, session: AuthSession, *, secure: bool, refresh_seconds: int, secret: str
) -> None:
    """The session's cookies, and a CSRF token bound to it: a sign-in never keeps the anonymous token."""
    _set_token_cookies(response, session, secure=secure, refresh_seconds=refresh_seconds)
    # The token was issued to us just now by the auth service (never taken from the request), so its
    # unverified claims are what the next request's verified ones will be.
    claims = jwt.decode(session.access_token, options={"verify_signature": False})
    set_csrf_cookie(response, new_csrf_token(secret, csrf_binding(claims)), secure=secure)


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
                # In a worker thread: besides the signature, it may ask the database whether the session is
                # still alive (app/auth/live_sessions.py), which must not block the event loop.
                scope["state"]["claims"] = await anyio.to_thread.run_sync(verifier.verify, access)
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
                    try:
                        claims = await anyio.to_thread.run_sync(verifier.verify, session.access_token)
                    except InvalidToken:  # the session ended between the refresh and this check
                        session = None
                if session is not None:
                    scope["state"]["claims"] = claims
                    scope["state"]["access_token"] = session.access_token
                    # The same session (same id): its CSRF token stays, so forms open in other tabs work.
                    _set_token_cookies(
                        outgoing,
                        session,
                        secure=settings.secure_cookies,
                        refresh_seconds=settings.refresh_token_seconds,
                    )
                else:
                    clear_session_cookies(outgoing, secure=settings.secure_cookies)

        # The CSRF token of this request's session (app/security.py); a new one whenever the browser holds
        # none, a forged one, or one of another session (before sign-in, or a session that has ended).
        binding = csrf_binding(scope["state"]["claims"])
        csrf = conn.cookies.get(CSRF_COOKIE)
        if not csrf_token_is_valid(settings.session_secret, csrf, csrf, binding):
            csrf = new_csrf_token(settings.session_secret, binding)
            set_csrf_cookie(outgoing, csrf, secure=settings.secure_cookies)
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
