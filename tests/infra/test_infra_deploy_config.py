"""The portal's Vercel deploy configuration and the e-mail templates versioned beside the program."""

from __future__ import annotations

import json
from pathlib import Path

from app.notifications.catalog import load_templates

ROOT = Path(__file__).resolve().parents[2]


def headers() -> dict[str, str]:
    config = json.loads((ROOT / "vercel.json").read_text())
    (rule,) = [h for h in config["headers"] if h["source"] == "/(.*)"]
    return {h["key"]: h["value"] for h in rule["headers"]}


def test_vercel_json_pins_functions_to_frankfurt_with_the_fastapi_preset() -> None:
    config = json.loads((ROOT / "vercel.json").read_text())
    assert config["regions"] == ["fra1"]
    assert config["framework"] == "fastapi"  # entry point app/index.py exposing `app`


def test_every_response_carries_the_security_headers() -> None:
    h = headers()
    csp = h["Content-Security-Policy"]

    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp
    assert h["X-Frame-Options"] == "DENY"
    assert h["X-Content-Type-Options"] == "nosniff"
    assert h["Strict-Transport-Security"].startswith("max-age=63072000")
    assert h["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_every_notification_exists_in_english_french_and_dutch_with_the_same_parameters() -> None:
    templates = load_templates()
    by_notification: dict[str, dict[str, frozenset[str]]] = {}
    for template in templates:
        by_notification.setdefault(template.notification, {})[template.language] = template.params

    assert set(by_notification) == {
        "ticket_created",
        "ticket_created_agent",
        "agent_reply",
        "client_reply",
        "status_changed",
        "ticket_resolved",
        "sla_at_risk",
        "sla_breach",
    }
    for languages in by_notification.values():
        assert set(languages) == {"en", "fr", "nl"}
        assert len(set(languages.values())) == 1
    assert all(t.html.startswith("<!doctype html>") and f'lang="{t.language}"' in t.html for t in templates)


def test_vercel_cron_calls_the_notifications_route_every_five_minutes_and_the_storage_sweep_hourly() -> None:
    from nexk.routes import CRONS

    config = json.loads((ROOT / "vercel.json").read_text())
    assert config["crons"] == [
        {"path": "/api/cron/notifications", "schedule": "*/5 * * * *"},
        {"path": "/api/cron/storage-sweep", "schedule": "17 * * * *"},
    ]
    assert config["crons"] == list(CRONS)


def test_the_portal_serves_every_path_that_vercel_cron_and_brevo_are_configured_to_call() -> None:
    from fastapi.testclient import TestClient

    from app.main import app
    from nexk.routes import BREVO_WEBHOOK_PATH, CRONS

    client = TestClient(app)  # no lifespan: an unauthenticated call is refused before any database work
    for cron in CRONS:
        assert client.get(cron["path"]).status_code == 401  # served, and it wants Vercel Cron's bearer
    assert client.post(BREVO_WEBHOOK_PATH, json=[]).status_code == 401
