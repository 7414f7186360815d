"""The public privacy policy, rendered from the register's generated Markdown in the reader's language, and
HEAD answered on pages like GET (no 405)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from portal_testkit import World, sign_in

from app.routes import privacy


@pytest.mark.parametrize(
    ("query", "accept", "lang", "title"),
    [
        ("", "en", "en", "<h1>Privacy policy</h1>"),
        ("", "fr-BE,fr;q=0.9", "fr", "<h1>Politique de confidentialité</h1>"),
        ("?lang=nl", "fr", "nl", "<h1>Privacybeleid</h1>"),
    ],
)
def test_the_privacy_policy_is_public_and_in_the_readers_language(
    portal: TestClient, query: str, accept: str, lang: str, title: str
) -> None:
    response = portal.get(f"/privacy{query}", headers={"Accept-Language": accept})
    assert response.status_code == 200
    assert f'<html lang="{lang}"' in response.text
    assert title in response.text
    assert "<!--" not in response.text.split("<main", 1)[1]  # the generator's comment is not shown


def test_a_signed_in_reader_gets_the_policy_in_the_profile_language(
    portal: TestClient, world: World, db
) -> None:
    member = world.people["member_a"]
    db.execute("update public.profiles set language = 'fr' where id = %s", (member.id,))
    sign_in(portal, member)
    response = portal.get("/privacy", headers={"Accept-Language": "nl"})
    assert "<h1>Politique de confidentialité</h1>" in response.text
    assert 'href="/my-data"' in response.text


def test_raw_html_in_the_policy_source_is_escaped_not_rendered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "privacy-policy.en.md").write_text(
        '# Title\n\n<script>alert(1)</script>\n\n<p style="color:red">x</p>\n', encoding="utf-8"
    )
    monkeypatch.setattr(privacy, "POLICY_DIR", tmp_path)
    privacy.policy_html.cache_clear()
    try:
        html = str(privacy.policy_html("en"))
    finally:
        privacy.policy_html.cache_clear()
    assert "<h1>Title</h1>" in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "style=" not in html.replace("style=&quot;", "")


@pytest.mark.parametrize("path", ["/privacy", "/auth/sign-in", "/auth/forgot"])
def test_head_on_a_page_answers_like_get_without_a_body(portal: TestClient, path: str) -> None:
    get = portal.get(path)
    head = portal.head(path)
    assert head.status_code == get.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"]
    assert "content-security-policy" in head.headers


def test_head_on_a_signed_in_page_redirects_like_get(portal: TestClient) -> None:
    response = portal.head("/tickets", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/auth/sign-in")
