"""Who is looking at an error page. Errors raised before or outside a route (405 on a reloaded POST URL, a 404
path, a refused form) are rendered without the route's viewer; this loads it once more, read-only, so the
page keeps the navigation and the viewer's profile language instead of a bare English page.

Best effort: a server-side failure (5xx) does not touch the database again, and anything that goes wrong
here (no session, no profile, staff before the TOTP step) leaves the page as it was: anonymous."""

from __future__ import annotations

import logging

from fastapi import Request

from app.web import Viewer, claims_transaction

log = logging.getLogger("nexk.portal")


def viewer_for_error_page(request: Request, status: int) -> Viewer | None:
    claims = getattr(request.state, "claims", None)
    if claims is None or status >= 500:
        return None
    try:
        with claims_transaction(request, claims, request.state.access_token, read_only=True) as (_, viewer):
            return viewer
    except Exception:  # an error page must render whatever happens here
        log.debug("no viewer for the error page of %s", request.url.path, exc_info=True)
        return None
