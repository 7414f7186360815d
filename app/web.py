"""What every screen needs: the signed-in viewer, its RLS transaction, and template rendering.

`viewer_transaction(request)` is how a route reaches data: it opens the request's RLS transaction (through
app.database), loads who the caller is, and enforces the portal-level rules that are not row rules: signed
in, an active profile, and staff only at aal2 ("staff reach no page before aal2").
"""

from __future__ import annotations

import ipaddress
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.templating import Jinja2Templates
from psycopg import Connection
from starlette.responses import Response

from app import flash, i18n, navigation
from app.domain.ticket_refs import ticket_ref
from app.i18n import N_, labels
from app.queries import profiles, tickets

STAFF_ROLES = ("agent", "admin")
CLIENT_ROLES = ("client_member", "client_admin")

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
# Templates ship with the code: no mtime check per `get_template` (the list page includes tickets/_sla.html
# once per row). Like a .py change, a template edit takes a server restart.
templates.env.auto_reload = False
templates.env.add_extension("jinja2.ext.i18n")
# Stateless callables: they read the request's language from app.i18n's ContextVar when a template calls them.
templates.env.install_gettext_callables(  # type: ignore[attr-defined]
    gettext=i18n.gettext, ngettext=i18n.ngettext, newstyle=True
)


def _size(value: int) -> str:
    units = (N_("{size} bytes"), N_("{size} KB"), N_("{size} MB"))
    for index, unit in enumerate(units):
        if value < 1024 or index == len(units) - 1:
            size = f"{value:.0f}" if index == 0 else f"{value:.1f}"
            if i18n.current_language() != "en":
                size = size.replace(".", ",")
            return i18n._(unit, size=size)
        value /= 1024  # type: ignore[assignment]
    return str(value)


def _page_url(base: str, f: Any, page: int) -> str:
    """The list URL for another page with the same filters."""
    params: list[tuple[str, str]] = [("status", s) for s in f.statuses] + [
        ("priority", p) for p in f.priorities
    ]
    if f.search:
        params.append(("q", f.search))
    if getattr(f, "organization_id", None):
        params.append(("organization", str(f.organization_id)))
    if getattr(f, "assigned_to_me", False):
        params.append(("mine", "true"))
    params += [("sort", f.sort), ("page", str(page))]
    return f"{base}?{urlencode(params)}"


def _narrowed(f: Any, staff: bool) -> bool:
    """Whether a ticket list is narrowed by the viewer's filters (or paged), as opposed to its default view
    (a client's every ticket; a staff queue's open statuses): an empty list then says "no match", not "none yet"."""
    default_statuses = tickets.OPEN_STATUSES if staff else ()
    return bool(
        f.priorities
        or f.search
        or getattr(f, "organization_id", None)
        or getattr(f, "assigned_to_me", False)
        or (f.statuses and tuple(f.statuses) != default_statuses)
        or f.page > 1
    )


templates.env.globals["page_url"] = _page_url
templates.env.globals["narrowed"] = _narrowed
templates.env.filters["dt"] = i18n.format_datetime
templates.env.globals["label"] = labels.label
templates.env.globals["weekday_names"] = labels.weekday_names
templates.env.globals["holiday_name"] = labels.holiday_name
templates.env.filters["day"] = labels.format_day
templates.env.globals["current_language"] = i18n.current_language
templates.env.globals["ticket_ref"] = ticket_ref
templates.env.filters["size"] = _size


class SignInRequired(Exception):
    """No (valid) session: browsers go to the sign-in page, the API answers 401."""


class MfaRequired(Exception):
    """A staff session at aal1: it must pass the TOTP step first."""


class NoAccess(Exception):
    """Signed in, but no active profile (deactivated, erased, or never invited)."""


@dataclass
class Viewer:
    claims: dict[str, Any]
    access_token: str
    role: str
    profile: dict[str, Any] = field(default_factory=dict)

    @property
    def user_id(self) -> uuid.UUID:
        return uuid.UUID(str(self.claims["sub"]))

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def organization_id(self) -> uuid.UUID | None:
        return self.profile.get("organization_id")

    @property
    def name(self) -> str:
        return f"{self.profile.get('first_name') or ''} {self.profile.get('surname') or ''}".strip()

    @property
    def theme(self) -> str:
        return self.profile.get("theme") or "system"


def client_ip(request: Request) -> str:
    """The caller's address: Vercel's first X-Forwarded-For hop in production, the socket peer otherwise."""
    candidate = request.client.host if request.client else ""
    if request.app.state.settings.is_prod:
        forwarded = request.headers.get("x-forwarded-for", "").split(",")[0].strip()
        candidate = forwarded or candidate
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return ""  # e.g. the test client's "testclient": logged as no address rather than a wrong one


def audit_headers(request: Request) -> dict[str, str]:
    """`request.headers` for the transaction, as PostgREST would set them (what the audit log reads)."""
    return {"x-forwarded-for": client_ip(request), "user-agent": request.headers.get("user-agent", "")[:512]}


@contextmanager
def claims_transaction(
    request: Request, claims: dict[str, Any], access_token: str, *, read_only: bool = False
) -> Iterator[tuple[Connection[Any], Viewer]]:
    database = request.app.state.database
    with database.rls_transaction(claims, read_only=read_only, headers=audit_headers(request)) as conn:
        me = profiles.me(conn)
        i18n.use_profile_language(request, me.get("language"))
        role = me.get("app_role")
        if role is None:
            raise NoAccess
        if role in STAFF_ROLES and claims.get("aal") != "aal2":
            raise MfaRequired
        yield conn, Viewer(claims=claims, access_token=access_token, role=role, profile=me)


@contextmanager
def viewer_transaction(
    request: Request, *, read_only: bool = False
) -> Iterator[tuple[Connection[Any], Viewer]]:
    claims = request.state.claims
    if claims is None:
        raise SignInRequired
    with claims_transaction(request, claims, request.state.access_token, read_only=read_only) as pair:
        yield pair


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, *, status_code: int = 200
) -> Response:
    ctx = {"csrf_token": getattr(request.state, "csrf_token", ""), "viewer": None, **(context or {})}
    # Error handlers run outside the route's context: set the request's language again before rendering.
    i18n.activate(i18n.request_language(request))
    # A full page shows the pending confirmation of the action that redirected here (app/flash.py), and says
    # which GET address it stands for, so a form re-rendered after a failed POST can put that address in the
    # address bar (app/static/portal.js): a reload then never lands on a POST-only URL.
    shown = not is_htmx(request) and flash.COOKIE in request.cookies
    if shown:
        ctx.setdefault("flash", flash.take(request))
    if request.method not in ("GET", "HEAD"):
        ctx.setdefault("form_page_url", navigation.page_for(request.app, request.url.path))
    response = templates.TemplateResponse(request, template, ctx, status_code=status_code)
    response.headers["content-language"] = i18n.current_language()
    if shown:
        flash.clear(request, response)
    return response


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"
