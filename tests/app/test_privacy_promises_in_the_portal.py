"""The promises of the published privacy policy that the portal itself keeps: the page it serves names the
controller, the laws and the supervisory authority in every language, and every right of the register can be
exercised from the portal (the self-service download, or a request the DSR queue records with its due date).

These are the behavioural evidence of the claims `scope_and_law`, `controller`, `complaint` and `rights` in
compliance/claims.yaml: the page is what a reader gets from the running app, not what the register says.
"""

from __future__ import annotations

import html
import io
import json
import re
import zipfile

import psycopg
import pytest
from fastapi.testclient import TestClient
from portal_testkit import World, csrf_of, sign_in

from compliance.register import load

LANGUAGES = ("en", "fr", "nl")


def served_policy(portal: TestClient, language: str) -> str:
    """The text of the privacy page the portal serves in `language`, tags removed, whitespace collapsed."""
    response = portal.get(f"/privacy?lang={language}")
    assert response.status_code == 200
    assert f'<html lang="{language}"' in response.text
    main = response.text.split("<main", 1)[1]
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", main)))


@pytest.mark.parametrize(("language", "country"), [("en", "Belgium"), ("fr", "Belgique"), ("nl", "België")])
def test_every_language_of_the_served_policy_names_the_controller_with_number_address_and_email(
    portal: TestClient, language: str, country: str
) -> None:
    text = served_policy(portal, language)
    assert "NexK IT Solutions — Konan Gérald" in text
    assert "BE 1037.508.040" in text
    assert f"Lotelingstraat 38, 2812 Muizen, {country}" in text
    assert "hello@nexk-it.com" in text


@pytest.mark.parametrize(
    ("language", "authority", "address", "website"),
    [
        (
            "en",
            "Data Protection Authority (APD/GBA)",
            "Rue de la Presse 35, 1000 Brussels",
            "www.dataprotectionauthority.be",
        ),
        (
            "fr",
            "Autorité de protection des données (APD)",
            "rue de la Presse 35, 1000 Bruxelles",
            "www.autoriteprotectiondonnees.be",
        ),
        (
            "nl",
            "Gegevensbeschermingsautoriteit (GBA)",
            "Drukpersstraat 35, 1000 Brussel",
            "www.gegevensbeschermingsautoriteit.be",
        ),
    ],
)
def test_every_language_of_the_served_policy_names_the_complaint_authority_with_address_email_and_website(
    portal: TestClient, language: str, authority: str, address: str, website: str
) -> None:
    text = served_policy(portal, language)
    assert f"{authority} — {address}, contact@apd-gba.be, {website}" in text


@pytest.mark.parametrize(
    ("language", "regulation", "belgian_law"),
    [
        ("en", "Regulation (EU) 2016/679", "Belgian law of 30 July 2018"),
        ("fr", "règlement (UE) 2016/679", "loi belge du 30 juillet 2018"),
        ("nl", "Verordening (EU) 2016/679", "Belgische wet van 30 juli 2018"),
    ],
)
def test_every_language_of_the_served_policy_names_the_portal_and_the_laws_it_follows(
    portal: TestClient, language: str, regulation: str, belgian_law: str
) -> None:
    text = served_policy(portal, language)
    assert "myNexK" in text and "(my.nexk-it.com)" in text
    assert regulation in text and belgian_law in text


@pytest.mark.parametrize("right", [r.key for r in load().rights.rights])
def test_every_right_of_the_register_can_be_exercised_from_the_portal(
    portal: TestClient, world: World, db: psycopg.Connection, right: str
) -> None:
    """Access and portability: the person downloads their data as a zip of JSON (machine-readable) at once.
    Every other right: the person files the request in the portal and the DSR queue holds it, due at the
    earlier of one month and 30 days."""
    member = world.people["member_a"]
    sign_in(portal, member)
    dsr_type = next(r.dsr_type for r in load().rights.rights if r.key == right)
    if right in ("access", "portability"):
        response = portal.get("/my-data/export")
        assert response.status_code == 200
        data = json.loads(zipfile.ZipFile(io.BytesIO(response.content)).read("export.json"))
        assert data["subject_id"] == str(member.id)
        assert {t["subject"] for t in data["tickets"]} == {"Printer on fire"}
        return
    response = portal.post(
        "/my-data/requests",
        data={"type": dsr_type, "details": f"About my {right}.", "csrf_token": csrf_of(portal)},
        follow_redirects=False,
    )
    assert response.status_code == 303
    row = db.execute(
        "select subject_id, type, status, due_at = least(received_at + interval '1 month',"
        " received_at + interval '30 days') from public.dsr_requests"
    ).fetchone()
    assert row == (member.id, dsr_type, "received", True)
