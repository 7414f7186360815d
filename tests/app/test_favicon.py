"""The portal has an icon: /favicon.ico is served (browsers ask the site root for it) and every page links it."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_favicon_ico_is_served_as_an_icon_and_cached(portal: TestClient) -> None:
    response = portal.get("/favicon.ico")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/x-icon"
    assert response.content[:4] == b"\x00\x00\x01\x00"  # the ICO header
    assert "max-age" in response.headers["cache-control"]


def test_every_page_links_the_icon_and_the_svg_is_served(portal: TestClient) -> None:
    page = portal.get("/auth/sign-in").text
    assert '<link rel="icon" href="/favicon.ico"' in page
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page
    svg = portal.get("/static/favicon.svg")
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
