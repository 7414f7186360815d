"""End to end in Debian's Chromium, in French and Dutch: the admin pages show weekdays, holidays and stored
values in the admin's language; a destructive button asks first and one click changes nothing; a reloaded POST
URL gives a translated page with the navigation; a new account's empty list invites to open a ticket; phone
cards name each field; a spent invitation link says so before any password. Screenshots (desktop and 390 px)
go to test-artifacts/screenshots/desk-*.png."""

from __future__ import annotations

import psycopg
import pytest
import test_e2e_browser as e2e
from playwright.sync_api import Browser, Page, expect
from portal_testkit import World
from test_e2e_browser import shot, sign_in
from test_translated_values import ROLES, _paths, forbidden, full_world, problems

pytestmark = pytest.mark.browser
browser = e2e.browser
server_url = e2e.server_url
# The world holding every stored value, and the English the walk looks for (tests/app/test_translated_values.py).
full_world = full_world
forbidden = forbidden

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def _page(browser: Browser, *, locale: str = "en-GB", viewport: dict[str, int] = DESKTOP) -> Page:
    page = browser.new_page(viewport=viewport, locale=locale)
    page.set_default_timeout(10_000)
    return page


def _both_sizes(page: Page, name: str) -> None:
    """A screenshot at desktop width, then at 390 px (a phone), then back."""
    page.set_viewport_size(DESKTOP)
    shot(page, f"{name}-desktop")
    page.set_viewport_size(PHONE)
    shot(page, f"{name}-390")
    page.set_viewport_size(DESKTOP)


def _language(db: psycopg.Connection, world: World, who: str, language: str) -> None:
    db.execute("update public.profiles set language = %s where id = %s", (language, world.people[who].id))


def _cell_label(page: Page, selector: str) -> str:
    """What the phone card shows before a cell: the ::before content (data-label), if it is displayed."""
    return page.locator(selector).first.evaluate(
        "cell => { const s = getComputedStyle(cell, '::before');"
        " return s.display === 'none' ? '' : s.content.replace(/^\"|\"$/g, ''); }"
    )


def test_a_french_admin_reads_calendar_and_requests_in_french_and_confirms_a_deactivation(
    browser: Browser, server_url: str, full_world: World, db: psycopg.Connection
) -> None:
    _language(db, full_world, "boss", "fr")
    member = full_world.people["member_a"]
    page = _page(browser)
    sign_in(page, server_url, full_world.people["boss"])

    page.goto(f"{server_url}/admin/sla")
    expect(page.get_by_role("heading", name="Plans SLA et calendriers")).to_be_visible()
    hours = page.locator("section", has=page.get_by_role("heading", name="Heures d'ouverture")).first
    expect(hours).to_contain_text("Lundi 08:30\u201317:30")  # an en dash between the times
    expect(hours).to_contain_text("Dimanche")
    expect(page.get_by_text("Noël")).to_be_visible()
    expect(page.get_by_text("Monday")).to_have_count(0)
    _both_sizes(page, "desk-admin-sla-fr")

    page.goto(f"{server_url}/admin/dsr?closed=true")
    expect(page.locator("table.dsr")).to_contain_text("Effacement")
    expect(page.locator("table.dsr")).to_contain_text("Vérification de votre identité")
    _both_sizes(page, "desk-admin-dsr-fr")

    page.goto(f"{server_url}/admin/organizations/{full_world.orgs['a']}")
    row = page.locator("tr", has_text="member_a@example.test")
    expect(row).to_contain_text("Membre client")
    row.get_by_role("button", name="Désactiver").click()
    expect(page.get_by_role("heading", name="Désactiver member_a@example.test ?")).to_be_visible()
    _both_sizes(page, "desk-confirm-deactivate-fr")
    still_active = db.execute(
        "select deactivated_at is null from public.profiles where id = %s", (member.id,)
    ).fetchone()[0]
    assert still_active, "one click deactivated the person"
    page.get_by_role("link", name="Annuler, ne rien changer").click()
    expect(page.locator("tr", has_text="member_a@example.test")).not_to_contain_text("désactivé")

    page.locator("tr", has_text="member_a@example.test").get_by_role("button", name="Désactiver").click()
    page.get_by_role("button", name="Désactiver").click()
    expect(page.locator("tr", has_text="member_a@example.test")).to_contain_text("désactivé")

    page.set_viewport_size(PHONE)
    assert _cell_label(page, "table.tickets tbody td[data-label]") == "Nom"
    page.set_viewport_size(DESKTOP)
    _both_sizes(page, "desk-admin-organization-fr")

    # A POST URL loaded again (reload after a failed form, a bookmark): no 405 page, the form's own page
    # (Post/Redirect/Get, app/navigation.py), in French with the navigation.
    ticket = full_world.tickets["a1"]
    page.goto(f"{server_url}/tickets/{ticket}/status")
    expect(page).to_have_url(f"{server_url}/tickets/{ticket}")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(
        page.get_by_role("navigation", name="Principal").get_by_role("link", name="Administration")
    ).to_be_visible()
    _both_sizes(page, "desk-405-fr")


def test_a_dutch_client_sees_an_inviting_empty_list_and_labelled_cards_on_a_phone(
    browser: Browser, server_url: str, full_world: World, db: psycopg.Connection
) -> None:
    newcomer = full_world.person("newcomer_b", "client_member", "b")
    _language(db, full_world, "newcomer_b", "nl")
    _language(db, full_world, "member_a", "nl")
    page = _page(browser)
    sign_in(page, server_url, newcomer)
    expect(page.get_by_text("U hebt nog geen tickets.")).to_be_visible()
    expect(page.get_by_role("link", name="Een ticket openen")).to_be_visible()
    _both_sizes(page, "desk-empty-list-nl")
    page.get_by_role("button", name="Afmelden").click()

    sign_in(page, server_url, full_world.people["member_a"])
    page.set_viewport_size(PHONE)
    expect(page.locator("table.tickets thead")).to_be_hidden()
    labels = [_cell_label(page, f"table.tickets tbody td:nth-child({n})") for n in range(1, 8)]
    assert labels == ["Onderwerp", "Status", "Prioriteit", "Aanvrager", "Toegewezen aan", "Bijgewerkt", "SLA"]
    shot(page, "desk-ticket-cards-nl-390")
    page.goto(f"{server_url}/tickets?status=closed&priority=low&q=zzz")
    expect(page.get_by_text("Geen tickets voldoen aan deze filters.")).to_be_visible()
    page.set_viewport_size(DESKTOP)
    shot(page, "desk-ticket-list-nl-desktop")
    icon = page.request.get(f"{server_url}/favicon.ico")
    assert icon.status == 200 and icon.headers["content-type"] == "image/x-icon"


def test_a_spent_invitation_link_says_so_before_any_password(browser: Browser, server_url: str) -> None:
    page = _page(browser, locale="fr-BE")
    page.goto(f"{server_url}/auth/invite?token=this-link-was-already-used")
    expect(page.get_by_text("Ce lien d'invitation a expiré ou a déjà été utilisé.")).to_be_visible()
    expect(page.get_by_label("Nouveau mot de passe")).to_have_count(0)
    expect(page.get_by_role("link", name="Se connecter")).to_be_visible()
    _both_sizes(page, "desk-invitation-link-spent-fr")


@pytest.mark.parametrize(
    ("who", "language"), [("agent", "nl"), ("admin_a", "fr"), ("member_a", "fr"), ("boss", "nl")]
)
def test_each_role_walks_its_pages_in_the_browser_without_english(
    browser: Browser,
    server_url: str,
    full_world: World,
    db: psycopg.Connection,
    forbidden: dict[str, dict[str, str]],
    who: str,
    language: str,
) -> None:
    """The same check as the HTTP walk (tests/app/test_translated_values.py), on what Chromium rendered."""
    _language(db, full_world, who, language)
    page = _page(browser)
    sign_in(page, server_url, full_world.people[who])
    found = {}
    for path in _paths(full_world, ROLES[who]):
        page.goto(server_url + path)
        expect(page.locator("html")).to_have_attribute("lang", language)
        if issues := problems(page.content(), language, forbidden[language]):
            found[path] = issues
    page.goto(server_url + _paths_first(full_world, who))
    _both_sizes(page, f"desk-walk-{who}-{language}")
    assert found == {}


def _paths_first(world: World, who: str) -> str:
    return next(_paths(world, ROLES[who]))
