"""End to end in Debian's Chromium: a French-speaking client who switches to dark theme.

Her browser asks for French, so the sign-in page is French; her profile still says English, so the portal is
English once she is in (the profile wins); she picks Français and Sombre, and every page after that is French
and dark, dates included. Screenshots go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, expect
from portal_testkit import PASSWORD, World
from test_e2e_browser import browser, server_url, shot  # noqa: F401 (shared Playwright fixtures)

pytestmark = pytest.mark.browser

LIGHT_BACKGROUND = "rgb(247, 248, 250)"
DARK_BACKGROUND = "rgb(13, 17, 23)"


def test_a_french_speaking_client_switches_to_french_and_the_dark_theme(
    browser: Browser,  # noqa: F811
    server_url: str,  # noqa: F811
    world: World,
) -> None:
    context = browser.new_context(
        locale="fr-BE", color_scheme="light", viewport={"width": 1280, "height": 900}
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    member = world.people["member_a"]

    page.goto(f"{server_url}/auth/sign-in")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.get_by_role("heading", name="Se connecter à myNexK")).to_be_visible()
    shot(page, "20-fr-sign-in")
    page.get_by_label("Adresse e-mail").fill(member.email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()

    # The profile (English by default) wins over the browser once she is signed in.
    expect(page.get_by_role("heading", name="Tickets")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == LIGHT_BACKGROUND
    page.get_by_role("link", name="Profile").click()
    page.get_by_label("Language").select_option("fr")
    page.get_by_label("Theme").select_option("dark")
    page.get_by_label("Status changes").check()
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_role("status")).to_have_text("Votre profil a été enregistré.")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == DARK_BACKGROUND
    expect(page.get_by_label("Les changements de statut")).to_be_checked()
    shot(page, "21-fr-dark-profile")

    page.get_by_role("link", name="Mes tickets").click()
    expect(page.get_by_role("link", name="Printer on fire")).to_be_visible()
    expect(page.get_by_role("cell", name="Urgente")).to_be_visible()
    # Dates in French on the Brussels clock, e.g. "26 nov. 2026 15:04".
    expect(page.locator("td time").first).to_have_text(re.compile(r"^\d{1,2} [a-zéû]+\.? \d{4} \d{2}:\d{2}$"))
    shot(page, "22-fr-dark-ticket-list")

    page.get_by_role("link", name="Mes données").click()
    expect(page.get_by_role("heading", name="Mes données", exact=True)).to_be_visible()
    page.get_by_label("Que demandez-vous ?").select_option("rectification")
    page.get_by_label("Précisions (facultatif)").fill("Mon nom de famille s'écrit Dupont-Lefèvre.")
    page.get_by_role("button", name="Envoyer la demande").click()
    expect(page.get_by_role("status")).to_contain_text("Votre demande a été reçue.")
    expect(page.get_by_role("cell", name="Rectification")).to_be_visible()
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == DARK_BACKGROUND
    shot(page, "23-fr-dark-my-data")

    page.get_by_role("link", name="Politique de confidentialité", exact=True).click()
    expect(page.get_by_role("heading", name="Politique de confidentialité", level=1)).to_be_visible()
    shot(page, "24-fr-dark-privacy")
    context.close()
