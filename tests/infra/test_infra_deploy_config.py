"""The portal's Vercel deploy configuration and the e-mail templates versioned beside the program."""

from __future__ import annotations

import json
from pathlib import Path

from infra.notifications import load_templates

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
    from app.notifications.cron import CRON_PATH
    from infra.brevo_mail import CRON_PATH as INFRA_CRON_PATH
    from infra.supabase_platform import STORAGE_SWEEP_PATH

    config = json.loads((ROOT / "vercel.json").read_text())
    assert config["crons"] == [
        {"path": CRON_PATH, "schedule": "*/5 * * * *"},
        {"path": STORAGE_SWEEP_PATH, "schedule": "17 * * * *"},
    ]
    assert INFRA_CRON_PATH == CRON_PATH
    assert STORAGE_SWEEP_PATH == "/api/cron/storage-sweep"


def test_the_storage_sweepers_cron_route_and_claim_are_the_ones_the_portal_serves_and_checks() -> None:
    from app.routes.cron import STORAGE_SWEEP_PATH as APP_STORAGE_SWEEP_PATH
    from app.storage_sweep import SWEEPER_SYSTEM
    from infra.supabase_platform import STORAGE_SWEEP_PATH, STORAGE_SWEEPER_APP_METADATA

    assert APP_STORAGE_SWEEP_PATH == STORAGE_SWEEP_PATH
    assert STORAGE_SWEEPER_APP_METADATA == {"nexk_system": SWEEPER_SYSTEM}
