"""End to end in Debian's Chromium (Playwright, no browser download) against a real uvicorn server on loopback.

The story: a client signs in and opens a ticket with an attachment; an agent signs in with TOTP, finds it in
the queue, replies and adds an internal note; the client sees the reply but not the note, and gets 404 for
another organization's ticket by URL. A screenshot of each screen goes to test-artifacts/screenshots/.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest
import uvicorn
from playwright.sync_api import Browser, Page, expect, sync_playwright
from portal_testkit import PASSWORD, Person, World

from app.main import create_app
from app.settings import Settings

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 128


@pytest.fixture
def server_url(portal_settings: Settings, world: World) -> Iterator[str]:
    """uvicorn in a thread on a socket that is already listening, so the browser never races the start-up."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(portal_settings), log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


@pytest.fixture
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield chromium
        chromium.close()


def shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def sign_in(page: Page, base: str, person: Person, screenshot: str | None = None) -> None:
    page.goto(f"{base}/auth/sign-in")
    page.get_by_label("E-mail address").fill(person.email)
    page.get_by_label("Password").fill(PASSWORD)
    if screenshot:
        shot(page, screenshot)
    page.get_by_role("button", name="Sign in").click()
    if person.totp_secret:
        expect(page.get_by_role("heading", name="Two-step verification")).to_be_visible()
        shot(page, "03-agent-totp")
        page.get_by_label("Code").fill(pyotp.TOTP(person.totp_secret).now())
        page.get_by_role("button", name="Verify").click()


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in to myNexK")).to_be_visible()


def test_client_and_agent_work_a_ticket_and_internal_notes_stay_internal(
    browser: Browser, server_url: str, world: World, tmp_path: Path
) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(10_000)
    member, agent = world.people["member_a"], world.people["agent"]

    # The client signs in and opens a ticket with an attachment.
    sign_in(page, server_url, member, screenshot="01-sign-in")
    expect(page.get_by_role("heading", name="Tickets")).to_be_visible()
    expect(page.get_by_role("link", name="Printer on fire")).to_be_visible()
    expect(page.get_by_text("Secret project of B")).to_have_count(0)
    shot(page, "02-client-ticket-list")
    page.get_by_role("link", name="New ticket").first.click()
    page.get_by_label("Subject").fill("Scanner jams on every page")
    page.get_by_label("Description").fill("Since Monday the scanner on floor 2 jams.")
    page.get_by_label("Priority").select_option("high")
    photo = tmp_path / "jam.png"
    photo.write_bytes(PNG)
    page.get_by_label("Attachments").set_input_files(str(photo))
    shot(page, "02b-client-new-ticket")
    page.get_by_role("button", name="Open ticket").click()
    expect(page.get_by_role("heading", name="Scanner jams on every page")).to_be_visible()
    expect(page.get_by_role("link", name="jam.png")).to_be_visible()
    ticket_url = page.url
    sign_out(page)

    # The agent signs in with TOTP, finds it in the queue, replies and adds an internal note.
    sign_in(page, server_url, agent)
    expect(page.get_by_role("heading", name="Queue")).to_be_visible()
    shot(page, "04-agent-queue")
    page.get_by_role("link", name="Scanner jams on every page").click()
    page.get_by_label("Reply to the client").fill("We are sending a technician this afternoon.")
    page.get_by_role("button", name="Send reply to the client").click()
    expect(page.get_by_text("We are sending a technician this afternoon.")).to_be_visible()
    page.get_by_label("Note for NexK staff").fill("Internal: the scanner is out of warranty, bill the visit.")
    page.get_by_role("button", name="Add internal note").click()
    expect(page.get_by_text("Internal: the scanner is out of warranty, bill the visit.")).to_be_visible()
    shot(page, "05-agent-ticket-with-note")
    sign_out(page)

    # The client sees the reply, not the note, and another organization's ticket is a 404.
    sign_in(page, server_url, member)
    page.goto(ticket_url)
    expect(page.get_by_text("We are sending a technician this afternoon.")).to_be_visible()
    expect(page.get_by_text("out of warranty")).to_have_count(0)
    shot(page, "06-client-sees-reply-not-note")
    response = page.goto(f"{server_url}/tickets/{world.tickets['b1']}")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    shot(page, "07-client-other-org-404")
    page.get_by_role("link", name="Back to the portal").click()
    expect(page.get_by_role("heading", name="Tickets")).to_be_visible()
    page.get_by_role("link", name="Profile").click()
    expect(page.get_by_role("heading", name="Your profile")).to_be_visible()
    shot(page, "08-client-profile")


def test_pages_are_keyboard_reachable_and_follow_the_dark_theme(
    browser: Browser, server_url: str, world: World
) -> None:
    page = browser.new_page(color_scheme="dark", viewport={"width": 390, "height": 844})
    page.set_default_timeout(10_000)
    page.goto(f"{server_url}/auth/sign-in")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(13, 17, 23)"
    sign_in(page, server_url, world.people["admin_a"])
    expect(page.get_by_role("link", name="VPN is slow")).to_be_visible()
    shot(page, "09-mobile-dark-ticket-list")
