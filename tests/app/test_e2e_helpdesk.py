"""An agent's and a client's day in Debian's Chromium: the internal note that
must stay internal through a refused attachment and a retry, the queue filters with and without JavaScript
(and a failed htmx request shown on the page), a client's reply reopening a waiting ticket, the follow-up of a
closed ticket, and an admin form refused in words. Screenshots (desktop and 390 px) go to
test-artifacts/screenshots/."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from playwright.sync_api import Browser, Page, expect
from portal_testkit import World
from test_e2e_browser import browser, server_url, shot, sign_in, sign_out  # noqa: F401 (fixtures)

from app.notifications.sink import SinkClient, list_sent
from app.notifications.worker import run_once

pytestmark = pytest.mark.browser

EXE = b"MZ\x90\x00" + b"\x00" * 256
NOTE = "Internal: their firewall admin is on leave until Monday, do not promise a date."


def both_widths(page: Page, name: str) -> None:
    """A screenshot at desktop width and at 390 px (a phone), then back to desktop."""
    shot(page, f"{name}-desktop")
    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, f"{name}-390")
    page.set_viewport_size({"width": 1280, "height": 900})


def new_page(browser: Browser, **options: object) -> Page:  # noqa: F811 (the fixture is the parameter)
    page = browser.new_page(viewport={"width": 1280, "height": 900}, **options)
    page.set_default_timeout(10_000)
    return page


def test_an_internal_note_refused_for_its_attachment_stays_internal_through_the_retry(
    browser: Browser,  # noqa: F811
    server_url: str,  # noqa: F811
    world: World,
    db: psycopg.Connection,
    database: str,
    tmp_path: Path,
) -> None:
    """Finding 1, exactly: note + setup.exe -> Send -> error -> Send again. Then the client's view and the mail
    sink show nothing of the note."""
    ticket = world.tickets["a2"]
    page = new_page(browser)
    sign_in(page, server_url, world.people["agent"])
    page.goto(f"{server_url}/tickets/{ticket}")
    composer = page.locator(".composer-internal")
    expect(composer.get_by_text("Internal note — not visible to the client")).to_be_visible()
    assert composer.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(255, 248, 197)"
    page.get_by_label("Note for NexK staff").fill(NOTE)
    installer = tmp_path / "setup.exe"
    installer.write_bytes(EXE)
    page.get_by_label("Internal attachments").set_input_files(str(installer))
    page.get_by_role("button", name="Add internal note").click()

    # Refused: the error is announced and in view, the note is still a note, the address is the ticket's.
    summary = page.locator("#composer-errors")
    expect(summary).to_be_focused()
    expect(summary).to_be_in_viewport()
    expect(summary).to_contain_text("setup.exe")
    expect(page.get_by_label("Note for NexK staff")).to_have_value(NOTE)
    expect(page.get_by_label("Reply to the client")).to_have_value("")
    assert page.url == f"{server_url}/tickets/{ticket}"
    both_widths(page, "10-agent-internal-note-refused")

    # Send again (the file input is empty now): stored as an internal note.
    page.get_by_role("button", name="Add internal note").click()
    expect(page.get_by_role("status")).to_have_text("Internal note added. The client does not see it.")
    note = page.locator("li.message.internal", has_text=NOTE)
    expect(note).to_be_visible()
    expect(note.get_by_text("Internal note")).to_be_visible()
    both_widths(page, "11-agent-internal-note-added")
    page.reload()
    expect(page.get_by_role("heading", name="VPN is slow")).to_be_visible()
    sign_out(page)
    rows = db.execute(
        "select id, internal from public.ticket_messages where ticket_id = %s and body = %s", (ticket, NOTE)
    ).fetchall()
    assert [r[1] for r in rows] == [True]

    # The client sees nothing of it, and no e-mail carries it or announces it.
    sign_in(page, server_url, world.people["admin_a"])
    page.goto(f"{server_url}/tickets/{ticket}")
    expect(page.get_by_role("heading", name="VPN is slow")).to_be_visible()
    expect(page.get_by_text("firewall admin")).to_have_count(0)
    shot(page, "12-client-does-not-see-the-note")
    run_once(
        lambda: psycopg.connect(database, autocommit=True),
        SinkClient(tmp_path / "sink"),
        datetime.now(UTC),
        template_ids={},
        portal_url=server_url,
        require_template_ids=False,
    )
    sent = list_sent(tmp_path / "sink")
    assert not any("firewall" in str(e.params) for e in sent)
    assert not any(e.kind == "agent_reply" and e.params.get("subject") == "VPN is slow" for e in sent)
    assert (
        db.execute(
            "select count(*) from private.notifications where event_key = %s", (f"message:{rows[0][0]}",)
        ).fetchone()[0]
        == 0
    )


def test_queue_filters_work_with_all_assigned_with_and_without_javascript_and_failures_are_shown(
    browser: Browser,  # noqa: F811
    server_url: str,  # noqa: F811
    world: World,
) -> None:
    page = new_page(browser)
    sign_in(page, server_url, world.people["agent"])
    expect(page.get_by_role("heading", name="Queue")).to_be_visible()
    expect(page.get_by_label("Organization")).to_have_value("")  # "All assigned"
    results = page.locator("#results")
    with page.expect_response(lambda r: "/agent/queue" in r.url and r.status == 200):
        page.get_by_label("Urgent").check()
    expect(results.get_by_role("link", name="Printer on fire")).to_be_visible()
    expect(results.get_by_role("link", name="VPN is slow")).to_have_count(0)
    with page.expect_response(lambda r: "/agent/queue" in r.url and r.status == 200):
        page.get_by_label("Organization").select_option(label="Org a")
    with page.expect_response(lambda r: "/agent/queue" in r.url and r.status == 200):
        page.get_by_label("Organization").select_option(label="All assigned")
    with page.expect_response(lambda r: "/agent/queue" in r.url and r.status == 200):
        page.get_by_label("Sort by").select_option(label="Newest")
    expect(results.get_by_role("link", name="Printer on fire")).to_be_visible()
    expect(page.locator("#request-error")).to_be_hidden()
    expect(page.locator("#results")).to_have_count(1)  # the live region is updated in place, never nested
    assert "organization=" in page.url
    both_widths(page, "13-agent-queue-filtered-all-assigned")

    # A request that fails is shown on the page, not only in the console.
    page.route("**/agent/queue?*", lambda route: route.fulfill(status=500, body="boom"))
    page.get_by_label("Assigned to me").check()
    alert = page.locator("#request-error")
    expect(alert).to_be_visible()
    expect(alert).to_contain_text("That did not work")
    both_widths(page, "14-agent-queue-request-failed")
    page.unroute("**/agent/queue?*")

    # Without JavaScript: the Apply button submits the same form; "All assigned" is fine.
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 900})
    context.add_cookies(page.context.cookies())  # the same session (a TOTP code is single-use)
    plain = context.new_page()
    plain.set_default_timeout(10_000)
    plain.goto(f"{server_url}/agent/queue")
    plain.get_by_label("New", exact=True).uncheck()  # leaves Open and Pending
    plain.get_by_label("Urgent").check()
    with plain.expect_navigation():
        plain.get_by_role("button", name="Apply").click()
    expect(plain.get_by_role("heading", name="Queue")).to_be_visible()
    assert "organization=&" in plain.url
    expect(plain.get_by_text("No tickets match these filters.")).to_be_visible()
    plain.get_by_label("New", exact=True).check()
    with plain.expect_navigation():
        plain.get_by_role("button", name="Apply").click()
    expect(plain.locator("#results").get_by_role("link", name="Printer on fire")).to_be_visible()
    context.close()


def test_a_client_reply_reopens_a_waiting_ticket_and_a_closed_one_is_followed_up(
    browser: Browser,  # noqa: F811
    server_url: str,  # noqa: F811
    world: World,
    db: psycopg.Connection,
) -> None:
    ticket = world.tickets["a1"]
    db.execute("update public.tickets set status = 'pending' where id = %s", (ticket,))
    page = new_page(browser)
    sign_in(page, server_url, world.people["member_a"])
    page.goto(f"{server_url}/tickets/{ticket}")
    expect(page.locator("#ticket-status")).to_have_text("Pending")
    expect(page.get_by_text("Sending a reply reopens this ticket.")).to_be_visible()
    page.get_by_label("Message").fill("Here is the serial number: PR-4471.")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("status")).to_have_text("Your reply was sent.")
    expect(page.locator("#ticket-status")).to_have_text("Open")
    both_widths(page, "15-client-reply-reopens")

    # A hurried double click sends the reply once.
    page.get_by_label("Message").fill("Sorry, also the tray is stuck.")
    page.get_by_role("button", name="Send").dblclick()
    expect(page.get_by_role("status")).to_have_text("Your reply was sent.")
    assert (
        db.execute(
            "select count(*) from public.ticket_messages where body = 'Sorry, also the tray is stuck.'"
        ).fetchone()[0]
        == 1
    )

    db.execute("update public.tickets set status = 'closed' where id = %s", (ticket,))
    page.reload()
    expect(page.get_by_role("heading", name="This ticket is closed")).to_be_visible()
    expect(page.get_by_label("Message")).to_have_count(0)
    both_widths(page, "16-client-closed-ticket-follow-up")
    page.get_by_role("link", name="Open a follow-up ticket").click()
    expect(page.get_by_label("Subject")).to_have_value("Follow-up: Printer on fire")
    expect(page.locator("#follow-up-note")).to_contain_text("Printer on fire")
    page.get_by_label("Description").fill("It caught fire again this morning.")
    both_widths(page, "17-client-new-follow-up")
    page.get_by_role("button", name="Open ticket").click()
    expect(page.get_by_role("status")).to_have_text(
        "Your follow-up ticket was opened and linked to the closed one."
    )
    expect(page.get_by_role("link", name="Printer on fire")).to_be_visible()
    both_widths(page, "18-client-follow-up-opened")


def test_an_admin_form_refused_by_the_database_comes_back_in_words_with_its_values(
    browser: Browser,  # noqa: F811
    server_url: str,  # noqa: F811
    world: World,
    db: psycopg.Connection,
) -> None:
    admin = world.person("boss", "admin", totp=True)
    db.execute("update public.profiles set language = 'fr' where id = %s", (admin.id,))
    page = new_page(browser)
    sign_in(page, server_url, admin)
    page.goto(f"{server_url}/admin/organizations")
    page.locator("#org-name").fill("Brasserie Dupont")
    page.locator("#org-number").fill("0123.456.789")
    page.locator("#org-start").fill("2026-01-01")
    page.locator("form[action='/admin/organizations'] button[type=submit]").click()
    summary = page.locator("#form-errors")
    expect(summary).to_be_focused()
    expect(summary).to_be_in_viewport()
    expect(summary).to_contain_text("Numéro d'entreprise")
    expect(page.locator("#org-name")).to_have_value("Brasserie Dupont")
    expect(page.locator("#org-number")).to_have_value("0123.456.789")
    assert page.url == f"{server_url}/admin/organizations"
    content = page.content()
    assert "violates" not in content and "constraint" not in content
    both_widths(page, "19-admin-organization-refused-fr")
    page.locator("#org-number").fill("0403.170.701")
    page.locator("form[action='/admin/organizations'] button[type=submit]").click()
    expect(page.get_by_role("status")).to_have_text("L'organisation a été créée.")
    both_widths(page, "20-admin-organization-created-fr")
