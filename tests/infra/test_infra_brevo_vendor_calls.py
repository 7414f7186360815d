"""Every Brevo call in test-artifacts/vendor-calls.jsonl is an operation of Brevo's official SDK.

The operations are read from the installed brevo-python's raw clients (`infra/rehearsal/brevo_contract.py`),
not from a list we wrote: an invented endpoint, body field or query parameter fails here.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from infra_helpers import configure

from infra.providers.brevo import (
    DomainAuthenticationProvider,
    SenderDomainProvider,
    SenderProvider,
    SmtpRelayAccountProvider,
    TransactionalTemplateProvider,
    WebhookProvider,
)
from infra.rehearsal import vendor_calls
from infra.rehearsal.brevo_contract import BASE_URL, contract_violations, operation_for, sdk_operations
from infra.rehearsal.brevo_sim import BrevoSimulator

DOMAIN = "mail.nexk-it.com"


def brevo_lifecycle() -> None:
    """A first and second `up`, a drift refresh and a destroy of the Brevo side, through the providers."""
    sim = BrevoSimulator()
    with sim.installed():
        domain = configure(SenderDomainProvider()).create({"name": DOMAIN})
        auth = configure(DomainAuthenticationProvider())
        props = {"domain": DOMAIN, "records": domain.outs["dns_records"], "require_authenticated": False}
        first = auth.create(dict(props))
        sender = configure(SenderProvider())
        created = sender.create({"name": "myNexK", "email": f"no-reply@{DOMAIN}"})
        templates = configure(TransactionalTemplateProvider())
        template = templates.create(
            {
                "template_name": "mynexk.ticket_created.en",
                "subject": "received",
                "html_content": "<p>Your ticket was received.</p>",
                "sender_name": "myNexK",
                "sender_email": f"no-reply@{DOMAIN}",
                "tag": "ticket_created",
                "is_active": True,
            }
        )
        hooks = configure(WebhookProvider())
        hook = hooks.create(
            {
                "url": "https://my.nexk-it.com/api/webhooks/brevo",
                "type": "transactional",
                "events": ["delivered"],
                "description": "d",
                "auth_token": "tok",
            }
        )
        configure(SmtpRelayAccountProvider()).create({})
        sim.publish_dns(DOMAIN)
        auth.update(first.id, first.outs, dict(props))
        otp = {"name": "myNexK", "email": f"no-reply@{DOMAIN}", "otp": str(sim.otp_for(int(created.id)))}
        sender.update(created.id, created.outs, otp)
        templates.read(template.id, template.outs)
        hooks.read(hook.id, hook.outs)
        templates.delete(template.id, template.outs)
        hooks.delete(hook.id, hook.outs)
        sender.delete(created.id, created.outs)
        configure(SenderDomainProvider()).delete(DOMAIN, {"name": DOMAIN})


def test_every_recorded_brevo_call_is_an_operation_of_the_sdk() -> None:
    brevo_lifecycle()  # so the record holds a full lifecycle whatever ran before

    lines = vendor_calls.log_path().read_text(encoding="utf-8").splitlines()
    brevo_calls = [call for call in map(json.loads, lines) if call["vendor"] == "brevo"]

    assert len(brevo_calls) >= 15
    problems = [problem for call in brevo_calls for problem in contract_violations(call)]
    assert problems == []
    used = {
        operation_for(c["method"], urlsplit(c["url"]).path.removeprefix("/v3/")).name for c in brevo_calls
    }
    assert {"create_domain", "authenticate_domain", "create_sender", "validate_sender_by_otp"} <= used
    assert {"create_smtp_template", "update_smtp_template", "delete_smtp_template", "create_webhook"} <= used


def test_an_invented_endpoint_or_field_is_refused_by_the_simulator_and_flagged(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # These calls are wrong on purpose: they go to a record of their own, not the run's vendor-call record.
    monkeypatch.setenv("NEXK_VENDOR_CALLS", str(tmp_path / "planted.jsonl"))
    sim = BrevoSimulator()
    with httpx.Client(transport=sim) as client:
        invented = client.post(f"{BASE_URL}/senders/domains/{DOMAIN}/verify", headers={"api-key": "k"})
        extra = client.post(
            f"{BASE_URL}/senders", headers={"api-key": "k"}, json={"name": "n", "email": "a@b.be", "otp": 1}
        )

    assert invented.status_code == 404 and extra.status_code == 400
    assert "unknown body fields ['otp']" in extra.json()["message"]
    recorded = [{"method": m, "url": u, "body": b, "status": s} for m, u, b, s in sim.requests]
    assert contract_violations(recorded[0]) == [
        f"POST /v3/senders/domains/{DOMAIN}/verify is no operation of brevo-python"
    ]
    assert contract_violations(recorded[1]) == ["create_sender: body fields ['otp'] are not the SDK's"]


def test_the_contract_is_read_from_the_installed_sdk() -> None:
    operations = {(op.method, op.path): op for op in sdk_operations()}

    assert operations[("PUT", "senders/domains/{domain_name}/authenticate")].name == "authenticate_domain"
    assert operations[("PUT", "senders/{sender_id}/validate")].body == {"otp": True}
    assert operations[("POST", "smtp/templates")].body["templateName"] is True
    assert operations[("GET", "smtp/templates")].query[:3] == ("templateStatus", "limit", "offset")
