"""Translations: every string marked in app/ has a French and a Dutch translation, pages follow the viewer's
language (profile, else Accept-Language, else English), and the choice never leaks between requests."""

from __future__ import annotations

import contextvars
import re
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient
from portal_testkit import World, csrf_of, sign_in

from app import i18n

REPO_ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {**DEFAULT_KEYWORDS, "N_": None, "lazy_gettext": None}
PLACEHOLDER = re.compile(r"\{[a-z_]+\}|%\([a-z_]+\)s")


def extracted_msgids() -> set[str]:
    """What `pybabel extract -F babel.cfg` finds in the current tree (the admin screens' strings included)."""
    with (REPO_ROOT / "babel.cfg").open(encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(REPO_ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return {m for m in found if m}


def _singular(msgid: str | tuple[str, ...]) -> str:
    """A plural entry (ngettext) is keyed by its singular msgid, as the extraction reports it."""
    return msgid[0] if isinstance(msgid, tuple) else msgid


def _forms(msgstr: str | tuple[str, ...]) -> tuple[str, ...]:
    """Every translated form of an entry: one, or one per plural form of the language."""
    return msgstr if isinstance(msgstr, tuple) else (msgstr,)


@pytest.fixture(scope="module")
def msgids() -> set[str]:
    return extracted_msgids()


@pytest.mark.parametrize("language", ["fr", "nl"])
def test_every_marked_string_has_a_reviewed_translation(msgids: set[str], language: str) -> None:
    with i18n.catalogue_path(language).open("rb") as po:
        catalog = read_po(po, locale=language)
    translated = {_singular(m.id): m for m in catalog if m.id}
    assert sorted(msgids - translated.keys()) == [], (
        f"untranslated in {language}: run the update in docs/portal.md"
    )
    assert sorted(m for m in msgids if not all(_forms(translated[m].string))) == []
    assert sorted(m for m in msgids if translated[m].fuzzy) == []


@pytest.mark.parametrize("language", ["fr", "nl"])
def test_translations_keep_every_placeholder_of_their_msgid(msgids: set[str], language: str) -> None:
    with i18n.catalogue_path(language).open("rb") as po:
        catalog = read_po(po, locale=language)
    broken = [
        m.id
        for m in catalog
        if m.id and _singular(m.id) in msgids
        for form in _forms(m.string)
        if sorted(PLACEHOLDER.findall(_singular(m.id))) != sorted(PLACEHOLDER.findall(form))
    ]
    assert broken == []


def test_accept_language_picks_the_best_supported_language() -> None:
    assert i18n.negotiate("de-DE,nl-BE;q=0.8,fr;q=0.9") == "fr"
    assert i18n.negotiate("nl-BE") == "nl"
    assert i18n.negotiate("de, es;q=0.5") == "en"
    assert i18n.negotiate("") == "en"
    assert i18n.negotiate("fr;q=0, nl;q=0.1") == "nl"


def test_dates_are_on_the_brussels_clock_in_the_viewers_language() -> None:
    moment = datetime(2026, 11, 26, 14, 4, tzinfo=UTC)  # 15:04 in Brussels (CET)
    shown = {}
    for language in i18n.LANGUAGES:
        ctx = contextvars.copy_context()
        shown[language] = ctx.run(
            lambda lang=language: (i18n.activate(lang), i18n.format_datetime(moment))[1]
        )
    assert shown == {"en": "26 Nov 2026 15:04", "fr": "26 nov. 2026 15:04", "nl": "26 nov 2026 15:04"}


def test_the_language_of_one_context_does_not_leak_into_another() -> None:
    french = contextvars.copy_context()
    french.run(i18n.activate, "fr")
    dutch = contextvars.copy_context()
    dutch.run(i18n.activate, "nl")
    assert french.run(i18n._, "Queue") == "File d'attente"
    assert dutch.run(i18n._, "Queue") == "Wachtrij"
    assert contextvars.copy_context().run(i18n._, "Queue") == "Queue"


@pytest.mark.parametrize(
    ("accept", "lang", "heading"),
    [
        ("en-GB,en;q=0.9", "en", "Sign in to myNexK"),
        ("fr-BE,fr;q=0.9", "fr", "Se connecter à myNexK"),
        ("nl-BE,nl;q=0.9,en;q=0.5", "nl", "Aanmelden bij myNexK"),
    ],
)
def test_the_sign_in_page_follows_accept_language_and_sets_html_lang(
    portal: TestClient, accept: str, lang: str, heading: str
) -> None:
    response = portal.get("/auth/sign-in", headers={"Accept-Language": accept})
    assert response.status_code == 200
    assert f'<html lang="{lang}"' in response.text
    assert heading in response.text
    assert response.headers["content-language"] == lang


@pytest.mark.parametrize(
    ("language", "strings"),
    [
        ("en", ["My tickets", "Search subjects", "Urgent", "Sign out"]),
        ("fr", ["Mes tickets", "Rechercher dans les objets", "Urgente", "Se déconnecter"]),
        ("nl", ["Mijn tickets", "Zoeken in onderwerpen", "Dringend", "Afmelden"]),
    ],
)
def test_the_profile_language_wins_over_the_browser_language(
    portal: TestClient, world: World, db: psycopg.Connection, language: str, strings: list[str]
) -> None:
    member = world.people["member_a"]
    db.execute("update public.profiles set language = %s where id = %s", (language, member.id))
    sign_in(portal, member)
    other = "nl" if language != "nl" else "fr"
    response = portal.get("/tickets", headers={"Accept-Language": other})
    assert response.status_code == 200
    assert f'<html lang="{language}"' in response.text
    assert [s for s in strings if s not in response.text] == []


def test_error_pages_are_translated_for_the_viewer(
    portal: TestClient, world: World, db: psycopg.Connection
) -> None:
    member = world.people["member_a"]
    db.execute("update public.profiles set language = 'nl' where id = %s", (member.id,))
    sign_in(portal, member)
    response = portal.get(f"/tickets/{world.tickets['b1']}")
    assert response.status_code == 404
    assert "Dit ticket bestaat niet, of u hebt er geen toegang toe." in response.text
    assert '<html lang="nl"' in response.text


def test_validation_messages_are_shown_in_the_profile_language(
    portal: TestClient, world: World, db: psycopg.Connection
) -> None:
    member = world.people["member_a"]
    db.execute("update public.profiles set language = 'fr' where id = %s", (member.id,))
    sign_in(portal, member)
    response = portal.post(
        "/tickets", data={"subject": " ", "description": "x", "csrf_token": csrf_of(portal)}
    )
    assert response.status_code == 422
    assert "Objet : écrivez un court résumé de 1 à 200 caractères." in response.text


def test_a_person_saves_language_theme_and_notification_choices_on_the_profile(
    portal: TestClient, world: World, db: psycopg.Connection
) -> None:
    member = world.people["member_a"]
    sign_in(portal, member)
    response = portal.post(
        "/profile",
        data={
            "first_name": "Member",
            "surname": "Tester",
            "language": "nl",
            "theme": "dark",
            "notify_sla_alerts": "true",
            "csrf_token": csrf_of(portal),
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    page = portal.get("/profile?saved=true").text
    assert '<html lang="nl" data-theme="dark"' in page
    assert "Uw profiel werd opgeslagen." in page
    row = db.execute(
        "select language, theme, notify_ticket_replies, notify_status_changes, notify_sla_alerts"
        " from public.profiles where id = %s",
        (member.id,),
    ).fetchone()
    assert row == ("nl", "dark", False, False, True)
