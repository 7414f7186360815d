"""Which page a URL belongs to: every POST-only address has a page a person can be sent to instead.

Post/Redirect/Get everywhere: a GET on a form's target (a reload after a failed
submission, a bookmark, a sign-in that stored it as `next`) redirects to the page the form lives on instead of
answering 405. The page is found from the routes themselves, not from a list to maintain: the longest leading
part of the path that a GET route serves (`/tickets/<id>/messages` -> `/tickets/<id>`,
`/admin/sla/hours/<id>/delete` -> `/admin/sla`), else `/`.
"""

from __future__ import annotations

from starlette.routing import Match, Mount
from starlette.types import ASGIApp


def serves_get(app: ASGIApp, path: str) -> bool:
    """Whether a GET route (not a static mount) answers `path`."""
    scope = {"type": "http", "path": path, "method": "GET", "root_path": ""}
    for route in app.router.routes:  # type: ignore[attr-defined]
        if isinstance(route, Mount):
            continue
        match, _ = route.matches(scope)
        if match == Match.FULL:
            return True
    return False


def page_for(app: ASGIApp, path: str) -> str:
    """`path` if a GET route serves it, else its longest leading part that one does, else `/`."""
    parts = [p for p in path.split("/") if p]
    while parts:
        candidate = "/" + "/".join(parts)
        if serves_get(app, candidate):
            return candidate
        parts.pop()
    return "/"
