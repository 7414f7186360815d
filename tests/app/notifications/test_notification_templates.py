"""Every notification kind maps to a provisioned template in en, fr and nl, and we supply all its params."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.notifications.brevo_client import Accepted, Email
from app.notifications.sink import SinkClient, list_sent
from app.notifications.templates import (
    KIND_TEMPLATE,
    LANGUAGES,
    TemplateError,
    render_params,
    required_params,
    template_ids_from_env,
    ticket_ref,
)

RAW = {
    "ticket_id": "6f1c2b7e-0000-4000-8000-000000000001",
    "subject": "Printer",
    "first_name": "Ann",
    "agent_name": "Bob",
    "author_name": "Carla",
    "organization": "Acme BV",
    "status": "pending",
    "priority": "urgent",
    "due_at": "2026-11-26T15:30:00+00:00",
}


@pytest.mark.parametrize("kind", sorted(KIND_TEMPLATE))
def test_every_kind_has_a_provisioned_template_in_every_language_with_all_params(kind: str) -> None:
    for language in LANGUAGES:
        template = KIND_TEMPLATE[kind]
        assert (template, language) in required_params()
        params = render_params(template, language, RAW, "https://portal.nexk.be")
        assert required_params()[(template, language)] <= params.keys()


def test_labels_and_times_are_rendered_in_the_recipients_language() -> None:
    fr = render_params("sla_at_risk", "fr", RAW, "https://portal.nexk.be/")
    assert fr["priority"] == "urgente"
    assert "16:30" in fr["due_at"]  # Europe/Brussels (UTC+1 in November)
    assert fr["ticket_url"] == "https://portal.nexk.be/tickets/6f1c2b7e-0000-4000-8000-000000000001"
    assert fr["portal_domain"] == "portal.nexk.be"
    assert render_params("status_changed", "nl", RAW, "https://p.be")["status"] == "wacht op uw antwoord"
    assert ticket_ref(RAW["ticket_id"]) == "NX-6F1C2B7E"


def test_new_tickets_and_sla_breaches_have_their_own_agent_templates() -> None:
    assert KIND_TEMPLATE["ticket_created"] == "ticket_created"
    assert KIND_TEMPLATE["ticket_created_agent"] == "ticket_created_agent"
    assert KIND_TEMPLATE["sla_warning"] == "sla_at_risk"
    assert KIND_TEMPLATE["sla_breach"] == "sla_breach"
    agent = render_params("ticket_created_agent", "fr", RAW, "https://portal.nexk.be")
    assert (agent["organization"], agent["priority"], agent["subject"]) == ("Acme BV", "urgente", "Printer")
    assert "16:30" in render_params("sla_breach", "nl", RAW, "https://portal.nexk.be")["due_at"]


def test_a_missing_param_or_bad_template_ids_are_reported_by_name() -> None:
    with pytest.raises(TemplateError, match="agent_name"):
        render_params(
            "agent_reply", "en", {"ticket_id": RAW["ticket_id"], "first_name": "Ann"}, "https://p.be"
        )
    assert template_ids_from_env('{"mynexk.agent_reply.fr": 12}') == {"mynexk.agent_reply.fr": 12}
    with pytest.raises(TemplateError, match="BREVO_TEMPLATE_IDS"):
        template_ids_from_env("[1, 2]")


def test_the_mail_sink_stores_each_notification_once_and_lists_it(tmp_path: Path) -> None:
    sink = SinkClient(tmp_path)
    email = Email(
        notification_id=__import__("uuid").UUID(RAW["ticket_id"]),
        template="mynexk.agent_reply.en",
        template_id=None,
        to_email="ann@example.test",
        to_name="Ann",
        params={"ticket_ref": "NX-1"},
        kind="agent_reply",
    )
    first, second = sink.send(email), sink.send(email)
    assert isinstance(first, Accepted) and first == second
    assert sink.find_message(email.notification_id, email.to_email, None) == first.message_id
    [listed] = list_sent(tmp_path)
    assert (listed.to_email, listed.template) == ("ann@example.test", "mynexk.agent_reply.en")
