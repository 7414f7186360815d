"""In Chromium: a page on another site that makes a signed-in person's browser post to the portal is refused.

Cross-site request forgery as a browser really sends it: the attacker's page (served by Playwright
for http://evil.test) carries a CSRF token the attacker fetched anonymously and submits a form to the portal
while the victim is signed in. The browser labels it (`Origin: http://evil.test`, `Sec-Fetch-Site:
cross-site`); the portal refuses it with a page saying what to do, and nothing changes. The portal's own
forms keep working in the same browser (and in every other browser test).
"""

from __future__ import annotations

import psycopg
import pytest
from playwright.sync_api import Browser, Route, expect
from portal_testkit import World
from test_e2e_browser import browser, server_url, sign_in  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser

EVIL = "http://evil.test"


def test_a_form_posted_from_another_site_is_refused_and_the_portals_own_form_works(
    browser: Browser,  # noqa: F811
    server_url: str,  # noqa: F811
    world: World,
    db: psycopg.Connection,
) -> None:
    # The attacker's anonymous token, from a visit of their own.
    attacker = browser.new_context()
    attacker_page = attacker.new_page()
    attacker_page.goto(f"{server_url}/auth/sign-in")
    token = attacker_page.locator("input[name=csrf_token]").first.get_attribute("value")
    attacker.close()

    victim = world.people["member_a"]
    page = browser.new_page()
    page.set_default_timeout(10_000)
    sign_in(page, server_url, victim)
    expect(page.get_by_role("heading", name="Tickets")).to_be_visible()

    evil_page = f"""<!doctype html><title>Win a prize</title>
        <form method="post" action="{server_url}/profile">
          <input name="first_name" value="Mallory"><input name="surname" value="Owned">
          <input name="csrf_token" value="{token}">
          <button type="submit">Claim the prize</button>
        </form>"""

    def serve_evil(route: Route) -> None:
        route.fulfill(status=200, content_type="text/html", body=evil_page)

    page.route(f"{EVIL}/**", serve_evil)
    page.goto(f"{EVIL}/prize")
    page.get_by_role("button", name="Claim the prize").click()
    expect(page.get_by_text("This request came from another website")).to_be_visible()
    assert page.url == f"{server_url}/profile"
    name = db.execute(
        "select first_name, surname from public.profiles where id = %s", (victim.id,)
    ).fetchone()
    assert name == ("Member", "Tester")

    # The victim's own profile form, in the same browser, still saves.
    page.goto(f"{server_url}/profile")
    page.get_by_label("First name").fill("Marie")
    page.get_by_role("button", name="Save").first.click()
    expect(page.get_by_label("First name")).to_have_value("Marie")
    name = db.execute("select first_name from public.profiles where id = %s", (victim.id,)).fetchone()
    assert name == ("Marie",)
