"""End to end in Debian's Chromium: an SLA breach at the top of the agent queue, and an erasure fulfilled by
an admin from the DSR queue that leaves nothing of the person visible to the agent, the admin or a colleague.
Screenshots go to test-artifacts/screenshots/."""

from __future__ import annotations

import pytest
import test_e2e_browser as e2e
from playwright.sync_api import Browser, Page, expect
from portal_testkit import World
from sla_world import age_ticket, give_plan_targets
from test_e2e_browser import shot, sign_in, sign_out

pytestmark = pytest.mark.browser
# The uvicorn server and Chromium fixtures of the main browser story, shared rather than copied.
browser = e2e.browser
server_url = e2e.server_url


def _page(browser: Browser) -> Page:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(10_000)
    return page


@pytest.fixture
def breached(world: World) -> World:
    give_plan_targets(world)
    late = world.ticket("late", "member_a", subject="Backup job failing every night", priority="low")
    age_ticket(world, late, 48)
    return world


def test_an_sla_breach_shows_first_in_the_agent_queue(
    browser: Browser, breached: World, server_url: str
) -> None:
    page = _page(browser)
    sign_in(page, server_url, breached.people["agent"])
    expect(page.get_by_role("heading", name="Queue")).to_be_visible()
    first = page.locator("table.tickets tbody tr").first
    expect(first).to_contain_text("Backup job failing every night")
    expect(first.locator(".sla-breached")).to_have_text("Breached")
    shot(page, "20-agent-queue-sla-breach")


@pytest.fixture
def erasure(world: World) -> World:
    member = world.people["member_a"]
    # A name nobody else in the world has (member_b is also "Member Tester").
    world.db.execute(
        "update public.profiles set first_name = 'Griet', surname = 'Vandenbroucke', phone = '+32 2 555 12 34' "
        "where id = %s",
        (member.id,),
    )
    world.message(
        "a2", "admin_a", "Please call Griet Vandenbroucke on +32 2 555 12 34 or member_a@example.test."
    )
    world.person("boss", "admin", totp=True)
    world.db.execute("select private.dsr_open(%s, 'erasure')", (member.id,))
    return world


def _no_trace(page: Page) -> None:
    for trace in ("Griet", "Vandenbroucke", "member_a@example.test", "555 12 34"):
        expect(page.get_by_text(trace), f"{trace!r} on {page.url}").to_have_count(0)


def test_an_erasure_fulfilled_by_an_admin_leaves_nothing_of_the_person_visible(
    browser: Browser,
    erasure: World,
    server_url: str,
) -> None:
    page = _page(browser)
    sign_in(page, server_url, erasure.people["boss"])
    page.get_by_role("link", name="Administration").click()
    page.get_by_role("link", name="DSR queue").click()
    row = page.locator("table.dsr tbody tr").first
    expect(row).to_contain_text("member_a@example.test")
    expect(row).to_contain_text("Erasure")
    shot(page, "21-admin-dsr-queue")
    row.get_by_role("button", name="Erase this person").click()
    # The second step (app/confirmation.py): nothing is erased until the confirmation page's button.
    expect(page.get_by_role("heading", name="Erase member_a@example.test for good?")).to_be_visible()
    page.get_by_role("button", name="Erase this person").click()
    expect(page.get_by_role("status")).to_contain_text("erase")
    expect(page.locator("table.dsr tbody tr").first).to_contain_text("erased person")
    shot(page, "22-admin-dsr-erased")
    _no_trace(page)
    for path in ("/admin/staff", f"/admin/organizations/{erasure.orgs['a']}", "/admin/audit", "/agent/queue"):
        page.goto(server_url + path)
        _no_trace(page)
    page.goto(f"{server_url}/tickets/{erasure.tickets['a2']}")
    _no_trace(page)
    sign_out(page)

    for who in ("agent", "admin_a"):
        sign_in(page, server_url, erasure.people[who])
        for path in ("/tickets", f"/tickets/{erasure.tickets['a1']}", f"/tickets/{erasure.tickets['a2']}"):
            page.goto(server_url + path)
            _no_trace(page)
        shot(page, f"23-after-erasure-{who}")
        sign_out(page)
