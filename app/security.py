"""Web security: response headers and CSRF tokens (attempt limits: app/rate_limits.py).

- Headers: a CSP with no 'unsafe-inline' (scripts and styles are files under /static, htmx is vendored),
  `frame-ancestors 'none'`, HSTS, nosniff, a strict referrer policy, and no caching of personal pages. This
  module is their one source: vercel.json's header block is generated from it.
- CSRF: signed double-submit bound to the session. The `nexk_csrf` cookie holds
  `nonce.hmac(session_id, nonce)` (an empty session id before sign-in, a new token at every sign-in); every
  state-changing request must echo it in the `csrf_token` form field or the `X-CSRF-Token` header (htmx sends
  the header), and must not come from another site (`Sec-Fetch-Site`, `Origin`, `Referer`). The JSON API
  takes only bearer tokens (no ambient cookie credentials), so it needs no CSRF token.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import HTTPException, Request

from app.i18n import N_

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        # The browser talks to the portal only: Supabase (Auth, Storage) is reached by the server, never by
        # page scripts, so no *.supabase.co here.
        "connect-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",  # the templates use no <base>: nobody may add one
        "object-src 'none'",
        "frame-ancestors 'none'",
        # No upgrade-insecure-requests: every URL is relative ('self'), HSTS already keeps browsers on https,
        # and the directive would break the http://127.0.0.1 dev server and browser tests.
    ]
)

# Two years, this host and its subdomains, and deliberately NOT `preload`. The preload list is a promise
# about a whole registrable domain: hstspreload.org's submission requirements ask for the header with
# `preload` "on the base domain" (nexk-it.com), the listing "applies to all subdomains, including internal
# subdomains that are not publicly accessible", it is "hardcoded into the Chrome source code" (months to add,
# months to remove), and "if a site sends the preload directive ... it is considered to be requesting
# inclusion" (https://hstspreload.org, "Submission Requirements"). The portal lives on subdomains
# (my.nexk-it.com, my-staging..., my-dev...: Pulumi.<stack>.yaml) and cannot make that request for NexK IT
# Solutions' other hosts (mail, marketing, internal ones); from a subdomain the token adds no protection, only
# a claim of consent nobody gave. Preloading is the apex owner's decision, taken at the apex. Browsers still
# keep the portal on HTTPS for two years after a first visit, and Vercel answers plain HTTP only with a
# redirect.
HSTS = "max-age=63072000; includeSubDomains"

# The one source of the portal's security headers: the middleware sends them on every response of the app,
# and vercel.json's "headers" block is generated from them (`python -m app.security`; a test fails when the
# two differ), so the responses Vercel answers without the app carry the same policy: its own error pages,
# and StaticFiles mounts that Vercel may promote to its CDN at build time and serve without invoking the
# function (https://vercel.com/changelog/fastapi-frontends-and-static-files-served-from-the-cdn). Where both
# apply, the function's headers win ("headers defined in Function responses override those defined for the
# same route in vercel.json": https://vercel.com/docs/concepts/functions/serverless-functions/edge-caching),
# which is harmless since they are equal.
HEADERS: dict[str, str] = {
    "Content-Security-Policy": CSP,
    "Strict-Transport-Security": HSTS,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}

SECURITY_HEADERS: list[tuple[bytes, bytes]] = [
    (name.lower().encode(), value.encode()) for name, value in HEADERS.items()
]

VERCEL_JSON = Path(__file__).resolve().parents[1] / "vercel.json"


def vercel_header_rules() -> list[dict[str, Any]]:
    """vercel.json's "headers" block: HEADERS on every path."""
    return [{"source": "/(.*)", "headers": [{"key": k, "value": v} for k, v in HEADERS.items()]}]


def write_vercel_headers(path: Path = VERCEL_JSON) -> None:
    """Rewrite the "headers" block of vercel.json from HEADERS, keeping every other setting."""
    config = json.loads(path.read_text(encoding="utf-8"))
    config["headers"] = vercel_header_rules()
    path.write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


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

FORM_EXPIRED = N_(
    "This form belongs to an earlier visit (you signed in or out since it was shown): reload the page, "
    "then send it again."
)
CROSS_SITE_REFUSED = N_(
    "This request came from another website, so the portal refused it to protect your account. If you meant "
    "to do this, open the portal yourself and do it there."
)


def csrf_binding(claims: Mapping[str, Any] | None) -> str:
    """What a CSRF token is bound to: the sign-in session (the JWT's `session_id`), or "" before sign-in.

    A token minted for one binding is refused under any other, so the token an anonymous visitor (or an
    attacker) obtained is worthless once someone is signed in, and every sign-in starts with a new token."""
    return str(claims.get("session_id") or "") if claims else ""


def _sign(secret: str, binding: str, nonce: str) -> str:
    return hmac.new(secret.encode(), f"csrf:{binding}:{nonce}".encode(), hashlib.sha256).hexdigest()[:32]


def new_csrf_token(secret: str, binding: str) -> str:
    nonce = secrets.token_urlsafe(18)
    return f"{nonce}.{_sign(secret, binding, nonce)}"


def csrf_token_is_valid(secret: str, cookie: str | None, submitted: str | None, binding: str) -> bool:
    """Double submit, signed and bound: the form echoes the cookie, and the cookie was minted for this
    session (or for "no session") with the portal's secret."""
    if not cookie or not submitted or not hmac.compare_digest(cookie, submitted):
        return False
    nonce, _, signature = cookie.partition(".")
    return bool(nonce) and hmac.compare_digest(signature, _sign(secret, binding, nonce))


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower() if parts.scheme and parts.netloc else "null"


def is_cross_site(request: Request) -> bool:
    """Whether a state-changing request was sent by another site (OWASP CSRF cheat sheet: Fetch Metadata,
    then the standard Origin headers). `Sec-Fetch-Site: cross-site` is refused outright; otherwise `Origin`
    (or, when a browser leaves it out, the origin of `Referer`) must be the portal's own: the host the browser
    addressed (`Host`, which a page on another site cannot set), over https or the scheme of this request.
    A request with neither header (no browser sends a form that way) relies on the token alone."""
    if request.headers.get("sec-fetch-site", "").lower() == "cross-site":
        return True
    origin = request.headers.get("origin")
    if origin is None:
        referer = request.headers.get("referer")
        if not referer:
            return False
        origin = _origin_of(referer)
    host = request.headers.get("host", "").lower()
    own = {f"https://{host}", f"{request.url.scheme}://{host}"}
    return origin.strip().lower() not in own


async def require_csrf(request: Request) -> None:
    """Dependency on every browser route: an unsafe method must come from the portal's own pages and carry
    the token of the current session. The JSON API (/api/) takes only bearer tokens, no ambient cookie
    credentials, so forged cross-site requests carry nothing it would honour."""
    if request.method not in UNSAFE_METHODS or request.url.path.startswith("/api/"):
        return
    if is_cross_site(request):
        raise HTTPException(status_code=403, detail=CROSS_SITE_REFUSED)
    submitted = request.headers.get(CSRF_HEADER)
    if submitted is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()  # cached by Starlette: the route reads the same parsed form
        value = form.get(CSRF_FIELD)
        submitted = value if isinstance(value, str) else None
    secret = request.app.state.settings.session_secret
    binding = csrf_binding(getattr(request.state, "claims", None))
    if not csrf_token_is_valid(secret, request.cookies.get(CSRF_COOKIE), submitted, binding):
        raise HTTPException(status_code=403, detail=FORM_EXPIRED)


if __name__ == "__main__":  # python -m app.security: regenerate vercel.json's headers from HEADERS
    write_vercel_headers()
    print(f"wrote the headers of {VERCEL_JSON}")
