"""The notification entry points: Brevo's webhook and Vercel Cron refuse callers without the shared secret,
and the local mail sink page is for admins in dev only."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from portal_testkit import World, sign_in

# checkov:skip=CKV_SECRET_6: a made-up webhook token for the in-process test app; no Brevo account uses it
TOKEN = "brevo-webhook-token-for-tests"
SECRET = "cron-secret-for-tests"
EVENT = {
    "event": "delivered",
    "message-id": "<unknown@example.test>",
    "X-Mailin-custom": "nexk-notification:x",
}


def test_brevo_webhook_rejects_a_missing_or_wrong_token(
    portal: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BREVO_WEBHOOK_TOKEN", TOKEN)
    assert portal.post("/api/webhooks/brevo", json=EVENT).status_code == 401
    wrong = portal.post("/api/webhooks/brevo", json=EVENT, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert "refused" in wrong.json()["detail"]


def test_brevo_webhook_refuses_everything_while_no_token_is_configured(
    portal: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BREVO_WEBHOOK_TOKEN", raising=False)
    assert (
        portal.post("/api/webhooks/brevo", json=EVENT, headers={"Authorization": "Bearer "}).status_code
        == 401
    )


def test_brevo_webhook_with_the_token_records_events_through_the_worker_connection(
    portal: TestClient, database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BREVO_WEBHOOK_TOKEN", TOKEN)
    monkeypatch.setenv("NEXK_WORKER_DATABASE_URL", database)
    response = portal.post("/api/webhooks/brevo", json=[EVENT], headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.text
    assert response.json() == {"matched": 0}


def test_brevo_webhook_without_the_worker_database_url_answers_503(
    portal: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BREVO_WEBHOOK_TOKEN", TOKEN)
    monkeypatch.delenv("NEXK_WORKER_DATABASE_URL", raising=False)
    response = portal.post("/api/webhooks/brevo", json=EVENT, headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 503


def test_cron_rejects_a_missing_or_wrong_secret(portal: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRON_SECRET", SECRET)
    assert portal.get("/api/cron/notifications").status_code == 401
    assert portal.get("/api/cron/notifications", headers={"Authorization": "Bearer wrong"}).status_code == 401
    monkeypatch.delenv("CRON_SECRET")
    assert (
        portal.get("/api/cron/notifications", headers={"Authorization": f"Bearer {SECRET}"}).status_code
        == 401
    )


def test_cron_with_the_secret_but_no_worker_configuration_answers_503(
    portal: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRON_SECRET", SECRET)
    for name in ("NEXK_WORKER_DATABASE_URL", "BREVO_API_KEY", "BREVO_TEMPLATE_IDS", "NEXK_PORTAL_URL"):
        monkeypatch.delenv(name, raising=False)
    response = portal.get("/api/cron/notifications", headers={"Authorization": f"Bearer {SECRET}"})
    assert response.status_code == 503
    assert "NEXK_WORKER_DATABASE_URL" in response.json()["detail"]


def test_mail_sink_page_is_for_admins_only(portal: TestClient, world: World) -> None:
    sign_in(portal, world.people["agent"])
    assert portal.get("/dev/mail").status_code == 403
    admin = world.person("boss", "admin", totp=True)
    portal.cookies.clear()
    sign_in(portal, admin)
    page = portal.get("/dev/mail")
    assert page.status_code == 200
    assert "Mail sink" in page.text
