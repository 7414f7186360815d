"""Sign-in, the TOTP step (challenge or enrolment), sign-out, invitations and password resets."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from app import navigation
from app.auth import AuthBackend, AuthError, AuthSession
from app.i18n import _, ngettext
from app.queries import audit
from app.rate_limits import Attempt, RateLimits, Scope
from app.sessions import clear_session_cookies, session_from_cookies, set_session_cookies
from app.web import STAFF_ROLES, audit_headers, client_ip, render

router = APIRouter()


def _safe_next(target: str | None) -> str:
    """Only same-site paths: never an open redirect."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if (
        parts.scheme
        or parts.netloc
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
    ):
        return "/"
    return target


def _landing(request: Request, target: str | None) -> str:
    """Where a signed-in person goes: the stored `next` if it is a page, else the page of that form's target
    (a sign-in started from a POST, e.g. a reply whose session had expired, lands on the ticket, never on a
    POST-only URL: app/navigation.py)."""
    safe = _safe_next(target)
    path = safe.partition("?")[0]
    if navigation.serves_get(request.app, path):
        return safe
    return navigation.page_for(request.app, path)


def _with_next(path: str, target: str) -> str:
    """A sign-in step's own address with its `next`: the form posts there and a refused attempt puts it in the
    address bar (`form_page_url`, app/static/portal.js), so a reload of the refused page keeps `next`."""
    return path if target == "/" else f"{path}?next={quote(target, safe='/')}"


def _backend(request: Request) -> AuthBackend:
    return request.app.state.auth


def _limits(request: Request) -> RateLimits:
    return request.app.state.rate_limits


def _refused(response: Response, attempt: Attempt) -> Response:
    """A limited attempt's answer (429) says when to come back, for people and for clients alike."""
    response.headers["Retry-After"] = str(attempt.retry_after)
    return response


def _too_many_attempts(attempt: Attempt) -> str:
    minutes = attempt.minutes_to_wait
    return ngettext(
        "Too many attempts. Wait {minutes} minute and try again.",
        "Too many attempts. Wait {minutes} minutes and try again.",
        minutes,
    ).format(minutes=minutes)


def _signed_in_response(request: Request, session: AuthSession, target: str) -> Response:
    settings = request.app.state.settings
    response = RedirectResponse(target, status_code=303)
    set_session_cookies(
        response,
        session,
        secure=settings.secure_cookies,
        refresh_seconds=settings.refresh_token_seconds,
        secret=settings.session_secret,
    )
    return response


def _needs_mfa_step(session: AuthSession, role: str | None) -> bool:
    return session.has_totp or role in STAFF_ROLES


def _record_sign_in(request: Request, session: AuthSession, *, first_factor: bool = False) -> str | None:
    """Log the sign-in in audit_log (as the user, with IP and user agent) and return the user's role.

    One entry per sign-in: after a first factor (password, reset, invitation) that the TOTP step must
    complete, nothing is written yet; the entry is written when the code is accepted (the same session)."""
    claims = request.app.state.verifier.verify(session.access_token)
    with request.app.state.database.rls_transaction(claims, headers=audit_headers(request)) as conn:
        row = conn.execute("select private.current_app_role() as role").fetchone()
        role = row["role"] if row else None
        if not (first_factor and _needs_mfa_step(session, role)):
            audit.record_sign_in(conn)
    return role


@router.get("/")
def home(request: Request) -> Response:
    if request.state.claims is None:
        return RedirectResponse("/auth/sign-in", status_code=303)
    return RedirectResponse("/tickets", status_code=303)


@router.get("/auth/sign-in")
def sign_in_page(request: Request, next: Annotated[str | None, Query(max_length=2000)] = None) -> Response:
    target = _safe_next(next)
    context = {"next": target, "email": "", "action": _with_next("/auth/sign-in", target)}
    return render(request, "auth/sign_in.html", context)


@router.post("/auth/sign-in")
def sign_in(
    request: Request,
    email: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=1000)],
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    attempt = _limits(request).attempt(Scope.SIGN_IN, account=email, client_ip=client_ip(request))
    target = _safe_next(next)
    action = _with_next("/auth/sign-in", target)
    context: dict[str, Any] = {"next": target, "email": email, "action": action, "form_page_url": action}
    if not attempt.admitted:
        minutes = attempt.minutes_to_wait
        context["error"] = ngettext(
            "Too many sign-in attempts. Wait {minutes} minute and try again.",
            "Too many sign-in attempts. Wait {minutes} minutes and try again.",
            minutes,
        ).format(minutes=minutes)
        return _refused(render(request, "auth/sign_in.html", context, status_code=429), attempt)
    try:
        session = _backend(request).sign_in_password(
            email, password, ip=client_ip(request), user_agent=request.headers.get("user-agent")
        )
    except AuthError as exc:  # a failure: the attempt keeps its slot on the address
        context["error"] = _(str(exc))
        return render(request, "auth/sign_in.html", context, status_code=401)
    _limits(request).succeeded(attempt)
    role = _record_sign_in(request, session, first_factor=True)
    if _needs_mfa_step(session, role):
        return _signed_in_response(
            request, session, f"/auth/mfa?next={quote(_landing(request, next), safe='/')}"
        )
    return _signed_in_response(request, session, _landing(request, next))


def _current_session(request: Request) -> AuthSession | None:
    return session_from_cookies(request)


@router.get("/auth/mfa")
def mfa_page(request: Request, next: Annotated[str | None, Query(max_length=2000)] = None) -> Response:
    session = _current_session(request)
    if session is None:
        return RedirectResponse("/auth/sign-in", status_code=303)
    if session.aal == "aal2":
        return RedirectResponse(_landing(request, next), status_code=303)
    backend = _backend(request)
    target = _safe_next(next)
    context: dict[str, Any] = {"next": target, "action": _with_next("/auth/mfa", target)}
    if not backend.has_totp(session):
        context["enrolment"] = backend.enroll_totp(session)
    return render(request, "auth/mfa.html", context)


@router.post("/auth/mfa")
def mfa_verify(
    request: Request,
    code: Annotated[str, Form(min_length=1, max_length=12)],
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    session = _current_session(request)
    if session is None:
        return RedirectResponse("/auth/sign-in", status_code=303)
    attempt = _limits(request).attempt(Scope.TOTP, account=str(session.user_id), client_ip=client_ip(request))
    target = _safe_next(next)
    action = _with_next("/auth/mfa", target)
    context: dict[str, Any] = {"next": target, "action": action, "form_page_url": action}
    if not attempt.admitted:
        minutes = attempt.minutes_to_wait
        context["error"] = ngettext(
            "Too many codes tried. Wait {minutes} minute and try again.",
            "Too many codes tried. Wait {minutes} minutes and try again.",
            minutes,
        ).format(minutes=minutes)
        return _refused(render(request, "auth/mfa.html", context, status_code=429), attempt)
    try:
        upgraded = _backend(request).verify_totp(session, code)
    except AuthError as exc:  # a failure: the attempt keeps its slot on the address
        context["error"] = _(str(exc))
        return render(request, "auth/mfa.html", context, status_code=401)
    _limits(request).succeeded(attempt)
    _record_sign_in(request, upgraded)
    return _signed_in_response(request, upgraded, _landing(request, next))


@router.post("/auth/sign-out")
async def sign_out(request: Request) -> Response:
    session = _current_session(request)
    if session is not None:
        await run_in_threadpool(_backend(request).sign_out, session, "local")
        # Refused in this process at once; other processes stop honouring it within LIVE_SECONDS.
        request.app.state.live_sessions.ended(request.state.claims)
    response = RedirectResponse("/auth/sign-in", status_code=303)
    clear_session_cookies(response, secure=request.app.state.settings.secure_cookies)
    return response


@router.get("/auth/forgot")
def forgot_page(request: Request) -> Response:
    return render(request, "auth/forgot.html", {})


@router.post("/auth/forgot")
def forgot(request: Request, email: Annotated[str, Form(min_length=3, max_length=320)]) -> Response:
    # A reset request proves nothing, so it is never reported as a success: it counts against the address.
    attempt = _limits(request).attempt(Scope.RESET_REQUEST, account=email, client_ip=client_ip(request))
    if attempt.admitted:
        _backend(request).request_password_reset(email)
    # The same answer whether or not the address exists.
    return render(request, "auth/forgot.html", {"sent": True})


def _set_password_page(
    request: Request, token: str, *, invite: bool, error: str | None = None, status_code: int = 200
) -> Response:
    """The one form behind a password reset and an invitation (they differ only in wording and target)."""
    context = {"token": token, "action": "/auth/invite" if invite else "/auth/reset", "invite": invite}
    if error is not None:
        context["error"] = error
    return render(request, "auth/set_password.html", context, status_code=status_code)


@router.get("/auth/reset")
def reset_page(request: Request, token: Annotated[str, Query(min_length=10, max_length=200)]) -> Response:
    return _set_password_page(request, token, invite=False)


@router.post("/auth/reset")
def reset(
    request: Request,
    token: Annotated[str, Form(min_length=10, max_length=200)],
    password: Annotated[str, Form(max_length=1000)],
) -> Response:
    attempt = _limits(request).attempt(Scope.RESET_LINK, account=token, client_ip=client_ip(request))
    if not attempt.admitted:
        page = _set_password_page(
            request, token, invite=False, error=_too_many_attempts(attempt), status_code=429
        )
        return _refused(page, attempt)
    try:
        session = _backend(request).reset_password(token, password)
    except AuthError as exc:
        return _set_password_page(request, token, invite=False, error=_(str(exc)), status_code=400)
    _limits(request).succeeded(attempt)
    role = _record_sign_in(request, session, first_factor=True)
    return _signed_in_response(request, session, "/auth/mfa" if _needs_mfa_step(session, role) else "/")


@router.get("/auth/invite")
def invite_page(request: Request, token: Annotated[str, Query(min_length=10, max_length=200)]) -> Response:
    """The link is checked before the password form is shown: a used, replaced or expired link says so and
    what to do, rather than letting the person choose a password first (where the auth service can tell
    without spending the link, see AuthBackend.invitation_link_usable)."""
    # Checking a link is an attempt of the address (guessing links is made of unusable ones); the token
    # itself is not counted here: opening one's own link again is no attack.
    attempt = _limits(request).attempt(
        Scope.INVITATION_ACCEPTANCE, account=None, client_ip=client_ip(request)
    )
    if not attempt.admitted:
        page = _set_password_page(
            request, token, invite=True, error=_too_many_attempts(attempt), status_code=429
        )
        return _refused(page, attempt)
    if _backend(request).invitation_link_usable(token) is False:  # a failure: the slot stays taken
        context = {"token": "", "action": "/auth/invite", "invite": True, "link_unusable": True}
        return render(request, "auth/set_password.html", context, status_code=410)
    _limits(request).succeeded(attempt)
    return _set_password_page(request, token, invite=True)


@router.post("/auth/invite")
def accept_invite(
    request: Request,
    token: Annotated[str, Form(min_length=10, max_length=200)],
    password: Annotated[str, Form(max_length=1000)],
) -> Response:
    attempt = _limits(request).attempt(
        Scope.INVITATION_ACCEPTANCE, account=token, client_ip=client_ip(request)
    )
    if not attempt.admitted:
        page = _set_password_page(
            request, token, invite=True, error=_too_many_attempts(attempt), status_code=429
        )
        return _refused(page, attempt)
    try:
        session = _backend(request).accept_invite(token, password)
    except AuthError as exc:
        return _set_password_page(request, token, invite=True, error=_(str(exc)), status_code=400)
    _limits(request).succeeded(attempt)
    role = _record_sign_in(request, session, first_factor=True)
    return _signed_in_response(request, session, "/auth/mfa" if _needs_mfa_step(session, role) else "/")
