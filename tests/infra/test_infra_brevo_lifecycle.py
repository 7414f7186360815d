"""The Brevo side of a stack's first deployment, step by step, as the engine drives the providers.

Resources in the program's order (infra/brevo_mail.py): sender domain, sender, a template, the webhook, the SMTP
relay account, then domain authentication after the DNS records. `up` = for each resource, create when it has no
state, else diff(old outputs, inputs) and update when it reports changes.
"""

from __future__ import annotations

from typing import Any

from infra_helpers import configure

from infra.providers.brevo import (
    DomainAuthenticationProvider,
    SenderDomainProvider,
    SenderProvider,
    SmtpRelayAccountProvider,
    TransactionalTemplateProvider,
    WebhookProvider,
)
from infra.rehearsal.brevo_sim import BrevoSimulator

DOMAIN = "mail-dev.nexk-it.com"
EMAIL = f"no-reply@{DOMAIN}"


def desired(otp: str | None) -> list[tuple[str, Any, dict[str, Any]]]:
    return [
        ("sender-domain", SenderDomainProvider(), {"name": DOMAIN}),
        ("sender", SenderProvider(), {"name": "myNexK dev", "email": EMAIL, "otp": otp}),
        (
            "template-ticket-created-en",
            TransactionalTemplateProvider(),
            {
                "template_name": "mynexk.ticket_created.en",
                "subject": "received",
                "html_content": "<p>Your ticket was received.</p>",
                "sender_name": "myNexK dev",
                "sender_email": EMAIL,
                "tag": "ticket_created",
                "is_active": True,
            },
        ),
        (
            "delivery-webhook",
            WebhookProvider(),
            {
                "url": "https://my-dev.nexk-it.com/api/webhooks/brevo",
                "type": "transactional",
                "events": ["delivered", "hardBounce"],
                "description": "myNexK dev",
                "auth_token": "tok",
            },
        ),
        ("smtp-relay-account", SmtpRelayAccountProvider(), {}),
        (
            "sender-domain-authentication",
            DomainAuthenticationProvider(),
            {"domain": DOMAIN, "records": [], "require_authenticated": False},
        ),
    ]


def up(state: dict[str, tuple[str, dict[str, Any]]], otp: str | None = None) -> list[str]:
    """One `pulumi up`; returns what happened to each resource."""
    steps = []
    for name, provider, inputs in desired(otp):
        configure(provider)
        if name not in state:
            result = provider.create(dict(inputs))
            state[name] = (result.id, result.outs)
            steps.append(f"create {name}")
            continue
        id_, outs = state[name]
        if provider.diff(id_, outs, dict(inputs)).changes:
            state[name] = (id_, provider.update(id_, outs, dict(inputs)).outs)
            steps.append(f"update {name}")
    return steps


def test_first_deployment_takes_two_ups_around_dns_publication_and_the_senders_code() -> None:
    sim = BrevoSimulator()
    state: dict[str, tuple[str, dict[str, Any]]] = {}
    with sim.installed():
        first = up(state)

        assert first == [f"create {name}" for name, _provider, _inputs in desired(None)]
        assert state["sender-domain-authentication"][1]["authenticated"] is False
        assert len(state["sender-domain-authentication"][1]["pending_records"]) == 3
        assert state["sender"][1]["active"] is False

        sim.publish_dns(DOMAIN)  # ops publish the records of `pulumi stack output dnsRecords`
        code = str(sim.otp_for(state["sender"][1]["sender_id"]))  # ops read the code in the sender's mailbox
        sim.requests.clear()
        second = up(state, otp=code)

        assert second == ["update sender", "update sender-domain-authentication"]
        assert state["sender"][1]["active"] is True
        assert state["sender-domain-authentication"][1]["authenticated"] is True
        assert [(m, u.split("/v3")[1]) for m, u, _b, _s in sim.requests if m != "GET"] == [
            ("PUT", f"/senders/{state['sender'][0]}/validate"),
            ("PUT", f"/senders/domains/{DOMAIN}/authenticate"),
        ]

        sim.requests.clear()
        assert up(state, otp=code) == []  # no perpetual diff
        assert [m for m, _u, _b, _s in sim.requests] == ["GET"]  # only the relay account is read again
        assert len(sim.templates) == len(sim.webhooks) == len(sim.senders) == 1
