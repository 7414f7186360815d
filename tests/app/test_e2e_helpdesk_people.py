"""End to end in Debian's Chromium: who does what is visible, an agent opens a ticket on a client's behalf,
and a client admin manages their company. Screenshots of each new screen, desktop and 390 px wide, go to
test-artifacts/screenshots/."""

from __future__ import annotations

from urllib.parse import unquote

import pytest
import test_e2e_browser as e2e
from playwright.sync_api import Browser, Page, expect
from portal_testkit import PASSWORD, World
from test_e2e_browser import shot, sign_in, sign_out

from app.domain.ticket_refs import ticket_ref

pytestmark = pytest.mark.browser
browser = e2e.browser
server_url = e2e.server_url


def _page(browser: Browser) -> Page:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(10_000)
    return page


def shots(page: Page, name: str) -> None:
    """The screen at desktop width, then at 390 px (a phone), then back."""
    shot(page, name)
    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, f"{name}-390px")
    page.set_viewport_size({"width": 1280, "height": 900})


def test_an_agent_opens_a_ticket_for_a_caller_and_the_client_sees_who_helps_them(
    browser: Browser, world: World, server_url: str
) -> None:
    page = _page(browser)
    sign_in(page, server_url, world.people["agent"])
    page.get_by_role("link", name="New ticket").click()
    page.get_by_label("Requester").select_option(label="Member Tester · member_a@example.test")
    page.get_by_label("Subject").fill("Phoned: screen flickers")
    page.get_by_label("Description").fill("Called at 9:05, flicker since this morning.")
    shots(page, "30-agent-new-ticket-on-behalf")
    page.get_by_role("button", name="Open ticket").click()
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text("Phoned: screen flickers")
    expect(heading.locator(".ref")).to_have_text(ticket_ref(page.url.rsplit("/", 1)[1]))
    expect(page.locator(".meta .assignee")).to_have_text("Agent Tester")  # "Assign it to me" is the default
    page.get_by_label("Priority").select_option("high")
    page.get_by_role("button", name="Change priority").click()
    page.get_by_label("Reply to the client").fill("I will call you back at 10:00.")
    page.get_by_role("button", name="Send reply to the client").click()
    expect(page.locator(".timeline")).to_contain_text("Agent Tester")
    shots(page, "31-agent-thread-timeline")
    sign_out(page)

    sign_in(page, server_url, world.people["member_a"])
    row = page.locator("table.tickets tbody tr", has_text="Phoned: screen flickers")
    expect(row.locator(".ref")).to_have_text(
        ticket_ref(row.locator("a").get_attribute("href").rsplit("/", 1)[1])
    )
    expect(row.locator(".assignee")).to_have_text("Agent")
    expect(
        page.locator("table.tickets tbody tr", has_text="Printer on fire").locator(".assignee")
    ).to_have_text("Not assigned")
    shots(page, "32-client-list-refs-assignees")
    row.get_by_role("link").click()
    reply = page.locator("li.message.from-staff")
    expect(reply).to_contain_text("I will call you back at 10:00.")
    expect(reply.locator(".support-badge")).to_have_text("NexK support")
    expect(reply.locator(".person")).to_have_text("Agent")
    timeline = page.locator(".timeline")
    expect(timeline).to_contain_text("opened this ticket on behalf of Member Tester")
    expect(timeline).to_contain_text("Priority: High")
    expect(page.locator(".meta .assignee")).to_have_text("Agent")
    expect(page.get_by_text("Agent Tester")).to_have_count(0)  # clients learn the first name only
    shots(page, "33-client-thread-staff-reply-timeline")
    # The reference finds the ticket.
    ref = page.locator("h1 .ref").inner_text()
    page.get_by_role("link", name="My tickets").click()
    page.get_by_label("Search subjects").fill(ref)
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("table.tickets tbody tr")).to_have_count(1)
    expect(page.locator("table.tickets tbody tr")).to_contain_text("Phoned: screen flickers")


def test_a_client_admin_manages_their_company(browser: Browser, world: World, server_url: str) -> None:
    page = _page(browser)
    sign_in(page, server_url, world.people["admin_a"])
    page.get_by_role("link", name="My company").click()
    expect(page.get_by_role("heading", name="Org a")).to_be_visible()
    member = page.locator("tr", has_text="member_a@example.test")
    expect(member).to_contain_text("accepted")
    shots(page, "34-client-admin-company")

    page.get_by_label("E-mail address").fill("nina@example.test")
    page.get_by_label("First name").fill("  ")  # passes the browser's `required`, not the server
    page.get_by_label("Surname").fill("Newcomer")
    page.get_by_role("button", name="Send invitation").click()
    summary = page.locator("[data-error-summary]")
    expect(summary).to_contain_text("First name: write between 1 and 100 characters.")
    expect(summary).to_be_focused()
    expect(page.get_by_label("E-mail address")).to_have_value("nina@example.test")  # the form, kept
    expect(page.get_by_label("Surname")).to_have_value("Newcomer")
    assert page.url == f"{server_url}/team"  # a reload shows the page, never the POST-only URL
    shots(page, "37-client-admin-invite-refused")
    page.get_by_label("First name").fill("Nina")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_role("status")).to_contain_text("The invitation was sent.")
    expect(page.locator("tr", has_text="nina@example.test")).to_contain_text("not accepted yet")

    member.get_by_label("Role of Member Tester").select_option("client_admin")
    member.get_by_role("button", name="Change role").click()
    expect(
        page.locator("tr", has_text="member_a@example.test").get_by_label("Role of Member Tester")
    ).to_have_value("client_admin")

    page.locator("tr", has_text="member_a@example.test").get_by_role("link", name="Deactivate…").click()
    expect(page.get_by_role("heading", name="Deactivate Member Tester?")).to_be_visible()
    shots(page, "35-client-admin-confirm-deactivation")
    page.get_by_role("button", name="Deactivate").click()
    expect(page.locator("tr", has_text="member_a@example.test")).to_contain_text("deactivated")

    page.get_by_label("Members see all of the company's tickets").check()
    page.get_by_role("button", name="Save sharing").click()
    expect(page.get_by_label("Members see all of the company's tickets")).to_be_checked()
    expect(page.get_by_role("status")).to_contain_text("Ticket sharing was saved.")
    shots(page, "36-client-admin-company-after")


def test_an_admin_chooses_the_caller_among_every_organizations_active_people(
    browser: Browser, world: World, server_url: str
) -> None:
    boss = world.person("boss", "admin", totp=True)
    gone = world.person("gone_b", "client_member", "b")
    world.db.execute("update public.profiles set deactivated_at = now() where id = %s", (gone.id,))
    page = _page(browser)
    sign_in(page, server_url, boss)
    page.get_by_role("link", name="New ticket").click()
    requester = page.get_by_label("Requester")
    expect(requester.locator("optgroup")).to_have_count(2)
    expect(requester.locator("optgroup[label='Org b'] option")).to_have_text(
        ["Member Tester · member_b@example.test"]
    )
    shots(page, "37-admin-new-ticket-on-behalf")
    page.get_by_role("button", name="Open ticket").click()  # nothing filled in: the browser asks first
    expect(page.get_by_role("heading", name="New ticket")).to_be_visible()


def test_a_failed_sign_in_keeps_next_through_a_reload(
    browser: Browser, world: World, server_url: str
) -> None:
    page = _page(browser)
    ticket = world.tickets["a1"]
    member = world.people["member_a"]
    page.goto(f"{server_url}/tickets/{ticket}")  # signed out: sent to sign in with next
    assert unquote(page.url) == f"{server_url}/auth/sign-in?next=/tickets/{ticket}"
    page.get_by_label("E-mail address").fill(member.email)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("[data-error-summary]")).to_be_visible()
    assert unquote(page.url) == f"{server_url}/auth/sign-in?next=/tickets/{ticket}"  # not bare /auth/sign-in
    page.reload()
    page.get_by_label("E-mail address").fill(member.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Printer on fire")
    assert page.url == f"{server_url}/tickets/{ticket}"
