"""The privacy policy, public (no sign-in): compliance/generated/privacy-policy.<lang>.md, rendered from the
compliance register by `nexk compliance render`, shown in the reader's language.

Language: `?lang=` (links from e-mails and the sign-in page), else the signed-in viewer's profile, else
Accept-Language. The Markdown is rendered with raw HTML disabled (markdown-it-py, CommonMark), so nothing in
the file can inject markup, scripts or inline styles (the CSP forbids them anyway).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from markdown_it import MarkdownIt
from markupsafe import Markup
from starlette.responses import Response

from app import i18n
from app.web import MfaRequired, NoAccess, SignInRequired, render, viewer_transaction

router = APIRouter()

POLICY_DIR = Path(__file__).resolve().parents[2] / "compliance" / "generated"


@functools.cache
def policy_html(language: str) -> Markup:
    """The policy of a language as HTML (cached: the generated files change only with a deployment)."""
    text = (POLICY_DIR / f"privacy-policy.{language}.md").read_text(encoding="utf-8")
    # The generator's "do not edit" comment is for maintainers, not readers.
    body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("<!--"))
    renderer = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    return Markup(renderer.render(body))  # noqa: S704 (html disabled above: markdown-it escapes all raw HTML)


def _viewer(request: Request) -> Any:
    """The signed-in viewer when there is one (for the navigation and their language), else None."""
    if request.state.claims is None:
        return None
    try:
        with viewer_transaction(request, read_only=True) as (_conn, viewer):
            return viewer
    except (SignInRequired, MfaRequired, NoAccess):
        return None


@router.get("/privacy")
def privacy_policy(
    request: Request, lang: Annotated[Literal["en", "fr", "nl"] | None, Query()] = None
) -> Response:
    viewer = _viewer(request)
    if lang is not None:
        request.state.locale = lang
    language = i18n.request_language(request)
    return render(request, "privacy.html", {"viewer": viewer, "policy": policy_html(language)})
