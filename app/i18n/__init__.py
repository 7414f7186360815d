"""Translations (en, fr, nl) with Babel: the language of a request, `_()` for Python code, and the gettext
callables of the Jinja2 `i18n` extension.

Which language: the viewer's profile language once the profile is loaded (app.web.claims_transaction calls
`use_profile_language`), before that (sign-in pages, public pages) the best match of `Accept-Language`, else
English. The choice lives in a ContextVar and on `request.state.locale`, never in shared mutable state: two
concurrent requests in different languages cannot see each other's choice. The Jinja callables below are
global but stateless; they read the ContextVar at call time, and `app.web.render` sets it just before
rendering.

Catalogues: `app/i18n/locales/<lang>/LC_MESSAGES/messages.po` are the source of truth. They are compiled in
memory (babel.messages) the first time a language is used: no build step and no `.mo` file to keep in step.
Fuzzy entries are never used. English is the source language (msgids), so it has no catalogue.

Marking strings:
- Python: `_("Text with {name}", name=value)` translates now (str.format placeholders); `N_("Text")` only
  marks a constant, translated where it is shown (`_(CONSTANT)`); `lazy_gettext(...)` translates when the
  text is turned into a string (for messages built before the viewer's language is known).
- Templates: `{{ _("Text with %(name)s", name=value) }}` or `{% trans name=value %}Text with {{ name }}{% endtrans %}`.
Extracting, updating and translating the catalogues: docs/portal.md ("Translations").
"""

from __future__ import annotations

import functools
import io
from contextvars import ContextVar
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import LazyProxy, NullTranslations, Translations

LANGUAGES = ("en", "fr", "nl")
DEFAULT = "en"
LOCALES_DIR = Path(__file__).parent / "locales"
BRUSSELS = ZoneInfo("Europe/Brussels")
# Dates are formatted the Belgian way in each language (day first, 24-hour clock).
_FORMAT_LOCALE = {"en": "en_BE", "fr": "fr_BE", "nl": "nl_BE"}

_current: ContextVar[str] = ContextVar("nexk_language", default=DEFAULT)


def catalogue_path(language: str) -> Path:
    return LOCALES_DIR / language / "LC_MESSAGES" / "messages.po"


@functools.cache
def translations(language: str) -> NullTranslations:
    """The compiled catalogue of a language (cached: catalogues never change while the process runs)."""
    if language == DEFAULT or language not in LANGUAGES:
        return NullTranslations()
    with catalogue_path(language).open("rb") as po:
        catalog = read_po(po, locale=language)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled, domain="messages")


def negotiate(accept_language: str | None) -> str:
    """The best supported language of an Accept-Language header (`fr-BE,fr;q=0.9,en;q=0.5`), else English."""
    choices: list[tuple[float, int, str]] = []
    for index, part in enumerate((accept_language or "").split(",")):
        tag, _sep, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and quality > 0:
            choices.append((-quality, index, primary))
    return min(choices)[2] if choices else DEFAULT


def activate(language: str | None) -> str:
    """Make `language` (if supported, else English) the language of the current context; returns it."""
    chosen = language if language in LANGUAGES else DEFAULT
    _current.set(chosen)
    return chosen


def current_language() -> str:
    return _current.get()


def use_profile_language(request: Any, language: str | None) -> None:
    """The viewer's profile language wins over Accept-Language, for the rest of the request."""
    if language in LANGUAGES:
        request.state.locale = activate(language)


def request_language(request: Any) -> str:
    """The language already chosen for this request (profile), else its Accept-Language."""
    chosen = getattr(request.state, "locale", None)
    return chosen if chosen in LANGUAGES else negotiate(request.headers.get("accept-language"))


def gettext(message: str) -> str:
    return translations(_current.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(_current.get()).ngettext(singular, plural, n)


def _(message: str, **params: Any) -> str:
    """Translate into the current language, then fill `{name}` placeholders."""
    text = gettext(message)
    return text.format(**params) if params else text


def N_(message: str) -> str:
    """Mark a constant for extraction; translate it where it is shown."""
    return message


def lazy_gettext(message: str, **params: Any) -> LazyProxy:
    """Translated each time it becomes a string, in the language current at that moment."""
    return LazyProxy(_, message, enable_cache=False, **params)


def format_datetime(value: datetime | None) -> str:
    """A timestamp on the Brussels clock in the current language: `26 nov. 2026 15:04`."""
    if value is None:
        return ""
    return _format_local(value.astimezone(BRUSSELS), _current.get())


@functools.cache
def _format_locale(language: str) -> Locale:
    """The parsed Babel locale (parsing it again for every timestamp is most of Babel's cost)."""
    return Locale.parse(_FORMAT_LOCALE[language])


def babel_locale(language: str) -> Locale:
    """The Belgian Babel locale of a supported language (en_BE, fr_BE, nl_BE), for dates and calendar words."""
    return _format_locale(language if language in LANGUAGES else DEFAULT)


@functools.lru_cache(maxsize=8192)
def _format_local(local: datetime, language: str) -> str:
    """Cached: a list page shows the same timestamps (created, updated, due) to every viewer of a ticket."""
    locale = _format_locale(language)
    return f"{format_date(local, 'medium', locale=locale)} {format_time(local, 'short', locale=locale)}"


class LanguageMiddleware:
    """Pure ASGI: starts every request in its Accept-Language (or English), in a context of its own."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        header = dict(scope.get("headers") or []).get(b"accept-language", b"").decode("latin-1")
        token = _current.set(negotiate(header))
        try:
            await self.app(scope, receive, send)
        finally:
            _current.reset(token)
