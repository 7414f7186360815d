"""Errors are for people: a friendly page (or a JSON message for the API), never a stack trace.

Database refusals map to what they mean for the caller: an RLS or privilege refusal is 403, a broken
invariant (check, foreign key) is 422 with the constraint's message, malformed input is 400.
"""

from __future__ import annotations

import logging
from typing import Any

import psycopg
from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import Match

from app import i18n, navigation
from app.auth import AuthError
from app.form_errors import CONSTRAINTS, FormRefused, database_error, validation_message
from app.i18n import N_
from app.queries import profiles
from app.security import SECURITY_HEADERS
from app.web import STAFF_ROLES, MfaRequired, NoAccess, SignInRequired, Viewer, render

log = logging.getLogger("nexk.portal")

TITLES = {
    400: N_("That request could not be understood"),
    401: N_("Please sign in"),
    403: N_("You do not have access to this"),
    404: N_("Not found"),
    405: N_("That action is not available here"),
    409: N_("That conflicts with the current state"),
    413: N_("That upload is too large"),
    422: N_("Some fields need fixing"),
    429: N_("Too many attempts"),
    500: N_("Something went wrong on our side"),
    502: N_("Another service did not answer as expected"),
    503: N_("The portal is busy"),
}


UNREADABLE_BODY = (
    "The body is not a JSON document in UTF-8: send a JSON object with Content-Type: application/json."
)


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def error_response(
    request: Request,
    status: int,
    message: str,
    *,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    if _wants_json(request):
        body: dict[str, Any] = {"detail": message}
        if errors:
            body["errors"] = errors
        return JSONResponse(body, status_code=status, headers=headers)
    # Messages are English msgids (marked where they are written); pages show them in the viewer's language,
    # with the viewer's navigation. The async handlers load the viewer in a worker thread first; an error
    # page rendered from elsewhere loads it here (never for a server failure, which must not touch the
    # database again).
    if status < 500:
        _use_viewer_language(request)
    i18n.activate(i18n.request_language(request))
    context = {
        "viewer": getattr(request.state, "error_viewer", None),
        "status": status,
        "title": i18n.gettext(TITLES.get(status, N_("Error"))),
        "message": i18n.gettext(message),
        "errors": errors or [],
    }
    response = render(request, "error.html", context, status_code=status)
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def _field_errors(exc: RequestValidationError, *, for_people: bool) -> list[dict[str, Any]]:
    if for_people:
        # Pages: the field as people call it and a translated message; pydantic's English never shows.
        return [{"field": e.field, "message": e.message} for e in map(validation_message, exc.errors())]
    out = []
    for error in exc.errors():
        # The first element of `loc` says where (body, query, path, header); the rest names the field,
        # whatever it is called (a message's field is itself called `body`). Nothing left: the whole body.
        location = [str(part) for part in error.get("loc", ())[1:]]
        out.append(
            {"field": ".".join(location) or "request", "message": str(error.get("msg", "is not valid"))}
        )
    return out


METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


def allowed_methods(request: Request) -> list[str]:
    """Every method some route answers at the request's path: asks the router itself, method by method (routes
    nest: FastAPI keeps each included router as one route). HEAD wherever GET: app.head answers it."""
    routed = {
        method
        for method in METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] == Match.FULL
            for route in request.app.router.routes
        )
    }
    return sorted(routed | ({"HEAD"} if "GET" in routed else set()))


def _use_viewer_language(request: Request) -> None:
    """Error pages are shown in the signed-in person's profile language (even when raised before a route
    opened its transaction: validation, 404/405, refused forms) and with the portal's navigation, so nobody
    lands on a page in the browser's language with no way on."""
    claims = getattr(request.state, "claims", None)
    if _wants_json(request) or claims is None or hasattr(request.state, "error_viewer"):
        return
    request.state.error_viewer = None
    try:
        with request.app.state.database.rls_transaction(claims, read_only=True) as conn:
            me = profiles.me(conn)
    except psycopg.Error:
        log.warning("could not read the viewer for an error page", exc_info=True)
        return
    i18n.use_profile_language(request, me.get("language"))
    role = me.get("app_role")
    if role is not None and (role not in STAFF_ROLES or claims.get("aal") == "aal2"):
        request.state.error_viewer = Viewer(
            claims=claims, access_token=getattr(request.state, "access_token", ""), role=role, profile=me
        )


def install(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        await run_in_threadpool(_use_viewer_language, request)
        message = exc.detail if isinstance(exc.detail, str) else TITLES.get(exc.status_code, N_("Error"))
        headers = getattr(exc, "headers", None)
        allow = ", ".join(allowed_methods(request)) if exc.status_code == 405 else ""
        if exc.status_code == 405:
            # Starlette's `Allow` names the methods of the first route on the path only (FastAPI makes one
            # route per method): RFC 9110 §15.5.6 wants every method the resource supports.
            headers = (headers or {}) | {"Allow": allow}
        if exc.status_code == 404 and message == "Not Found":
            message = N_("There is nothing at this address, or you do not have access to it.")
        elif (
            exc.status_code == 400
            and message == "There was an error parsing the body"
            and _wants_json(request)
        ):
            message = UNREADABLE_BODY  # FastAPI's words for a body that is not UTF-8
        elif exc.status_code == 405 and message == "Method Not Allowed" and _wants_json(request):
            message = f"{request.method} is not available at this address; use {allow}."
        elif exc.status_code == 405 and message == "Method Not Allowed":
            if request.method in ("GET", "HEAD") and not _wants_json(request):
                # A form's target opened as a page (reload, bookmark, stored `next`): go to the form's page.
                return RedirectResponse(navigation.page_for(request.app, request.url.path), status_code=303)
            message = N_(
                "This address only receives forms, it is not a page. Go back to the previous page, or use the "
                "menu above."
            )
        return error_response(request, exc.status_code, message, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        if _wants_json(request) and any(e.get("type") == "json_invalid" for e in exc.errors()):
            # Malformed syntax is 400, as the document says; 422 is for well-formed values that need fixing.
            return error_response(request, 400, UNREADABLE_BODY)
        if _wants_json(request):
            errors = _field_errors(exc, for_people=False)
            summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
            return error_response(request, 422, f"Please fix: {summary}", errors=errors)
        await run_in_threadpool(_use_viewer_language, request)
        i18n.activate(i18n.request_language(request))
        errors = _field_errors(exc, for_people=True)
        return error_response(
            request,
            422,
            N_("Some values of the form are not valid: go back, correct them and retry."),
            errors=errors,
        )

    @app.exception_handler(FormRefused)
    async def form_refused(request: Request, exc: FormRefused) -> Response:
        await run_in_threadpool(_use_viewer_language, request)
        # A form whose route does not re-render it: the page lists what to fix, in the viewer's words.
        errors = [{"field": "", "message": e.message} for e in exc.errors]
        return error_response(
            request,
            422,
            N_("Some values of the form are not valid: go back, correct them and retry."),
            errors=errors,
        )

    @app.exception_handler(SignInRequired)
    async def sign_in_required(request: Request, exc: SignInRequired) -> Response:
        if _wants_json(request):
            return error_response(
                request,
                401,
                "Send a valid access token: Authorization: Bearer <token>.",
                headers={"WWW-Authenticate": "Bearer"},
            )
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if request.headers.get("hx-request") == "true":
            return Response(status_code=204, headers={"HX-Redirect": "/auth/sign-in"})
        from urllib.parse import quote

        return RedirectResponse(f"/auth/sign-in?next={quote(target, safe='')}", status_code=303)

    @app.exception_handler(MfaRequired)
    async def mfa_required(request: Request, exc: MfaRequired) -> Response:
        if _wants_json(request):
            return error_response(
                request, 403, "NexK staff must use a token from a session that passed MFA (aal2)."
            )
        return RedirectResponse("/auth/mfa", status_code=303)

    @app.exception_handler(NoAccess)
    async def no_access(request: Request, exc: NoAccess) -> Response:
        return error_response(
            request,
            403,
            N_("Your account has no active access to myNexK. Ask your administrator to invite you again."),
        )

    @app.exception_handler(AuthError)
    async def auth_error(request: Request, exc: AuthError) -> Response:
        return error_response(request, 401, str(exc))

    @app.exception_handler(psycopg.errors.InsufficientPrivilege)
    async def refused(request: Request, exc: psycopg.Error) -> Response:
        return error_response(request, 403, N_("You are not allowed to make that change."))

    @app.exception_handler(psycopg.errors.CheckViolation)
    async def check_failed(request: Request, exc: psycopg.Error) -> Response:
        detail = exc.diag.message_primary or "a value is not allowed"
        if _wants_json(request):
            return error_response(request, 422, f"That change was refused: {detail}.")
        # Pages: the constraint in the person's words (forms catch these themselves to keep their values).
        i18n.activate(i18n.request_language(request))
        return error_response(request, 422, database_error(exc).message)

    @app.exception_handler(psycopg.errors.IntegrityError)
    async def integrity(request: Request, exc: psycopg.Error) -> Response:
        if not _wants_json(request) and (exc.diag.constraint_name or "") in CONSTRAINTS:
            i18n.activate(i18n.request_language(request))
            return error_response(request, 422, database_error(exc).message)
        return error_response(
            request, 422, N_("That refers to something that does not exist or conflicts with it.")
        )

    @app.exception_handler(psycopg.errors.ObjectNotInPrerequisiteState)
    async def wrong_state(request: Request, exc: psycopg.Error) -> Response:
        if _wants_json(request):
            return error_response(request, 409, f"{exc.diag.message_primary}.")
        return error_response(
            request,
            409,
            N_("That is not possible in the current state of this item: reload the page and retry."),
        )

    @app.exception_handler(psycopg.errors.DataError)
    async def bad_data(request: Request, exc: psycopg.Error) -> Response:
        log.info("data error on %s %s: %s", request.method, request.url.path, exc)
        return error_response(
            request, 400, N_("A value is malformed or out of range: check the fields and retry.")
        )

    @app.exception_handler(psycopg.errors.QueryCanceled)
    async def too_slow(request: Request, exc: psycopg.Error) -> Response:
        return error_response(request, 503, N_("That took too long: narrow the filters and try again."))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        response = error_response(
            request,
            500,
            N_("We could not complete that. It has been logged; try again, or contact NexK support."),
        )
        # This handler runs outside the middleware stack (Starlette's ServerErrorMiddleware): add them here.
        for name, value in SECURITY_HEADERS:
            response.headers[name.decode()] = value.decode()
        response.headers["cache-control"] = "no-store"
        return response


def http_error(status: int, message: str) -> HTTPException:
    return HTTPException(status_code=status, detail=message)
