"""BrevoMail: everything the portal sends e-mail with, at Brevo (Sendinblue SAS, France).

Sender domain (whose DNS records the program publishes or exports), the sender, one transactional template per
notification and language, and the webhook that reports delivery events to the portal. It also exposes the
SMTP relay that Supabase Auth sends its invitation and MFA e-mails through: its login, host and port as Brevo
reports them for the account (SmtpRelayAccount), its password the SMTP key from stack config.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi

from app.notifications.catalog import load_templates
from infra.providers.brevo import (
    DomainAuthentication,
    Sender,
    SenderDomain,
    SmtpRelayAccount,
    TransactionalTemplate,
    Webhook,
)
from infra.settings import StackSettings
from nexk.routes import BREVO_WEBHOOK_PATH


@dataclass(frozen=True)
class SmtpRelay:
    """Brevo's SMTP relay as Supabase Auth needs it.

    Host, port and user are what Brevo reports for the account (GET /v3/account); the password is the SMTP key,
    a config secret no API can create.
    """

    host: pulumi.Output[str]
    port: pulumi.Output[int]
    user: pulumi.Output[str]
    password: pulumi.Output[str]
    sender_email: str
    sender_name: str


def sender_next_step(active: bool, email: str) -> str:
    """What ops must still do by hand for the sender (the `senderNextStep` stack output)."""
    if active:
        return "none: Brevo reports the sender active"
    return (
        f"Brevo e-mailed a 6-digit code to {email} when the sender was created; read it in that mailbox, then "
        "`pulumi config set --secret brevoSenderOtp <code>` and `pulumi up` (or type it in Brevo > Senders, "
        "Domains & Dedicated IPs > Senders > Verify). Expired or lost: ask Brevo there for a new code "
        "(docs/ops.md, Brevo first deployment)"
    )


class BrevoMail(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        settings: StackSettings,
        *,
        smtp_key: pulumi.Output[str],
        webhook_token: pulumi.Output[str],
        sender_otp: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("nexk:mail:BrevoMail", name, None, opts)
        brevo = settings.brevo
        child = pulumi.ResourceOptions(parent=self)

        self.domain = SenderDomain("sender-domain", name=brevo.sender_domain, opts=child)
        self.dns_records: pulumi.Output[list[dict]] = self.domain.dns_records
        # Brevo e-mails a 6-digit code to a new sender's address and keeps the sender inactive until it is given
        # back (PUT /senders/{id}/validate): `sender_otp` is that code once ops have it
        # (docs/ops.md, Brevo first deployment).
        self.sender = Sender(
            "sender",
            name=brevo.sender_name,
            email=brevo.sender_email,
            otp=sender_otp,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.domain]),
        )
        self.templates: dict[str, TransactionalTemplate] = {}
        for template in load_templates():
            self.templates[template.template_name] = TransactionalTemplate(
                f"template-{template.notification.replace('_', '-')}-{template.language}",
                template_name=template.template_name,
                subject=template.subject,
                html_content=template.html,
                sender_name=brevo.sender_name,
                sender_email=brevo.sender_email,
                tag=template.notification,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.sender]),
            )
        self.webhook = Webhook(
            "delivery-webhook",
            url=f"https://{settings.portal.domain}{BREVO_WEBHOOK_PATH}",
            events=list(brevo.webhook_events),
            auth_token=webhook_token,
            description=f"myNexK {settings.stack}: transactional delivery events",
            opts=child,
        )
        # Brevo's own SMTP login for this account, never an address typed into a stack file: it is read again at
        # every preview and up, so Supabase Auth follows if Brevo changes it.
        self.relay_account = SmtpRelayAccount("smtp-relay-account", opts=child)
        self.smtp_relay = SmtpRelay(
            host=self.relay_account.host,
            port=self.relay_account.port,
            user=self.relay_account.login,
            password=pulumi.Output.secret(smtp_key),
            sender_email=brevo.sender_email,
            sender_name=brevo.sender_name,
        )
        self.template_ids: pulumi.Output[dict[str, int]] = pulumi.Output.all(
            **{name: t.template_id for name, t in self.templates.items()}
        )
        self.authentication: DomainAuthentication | None = None
        self.sender_next_step: pulumi.Output[str] = self.sender.active.apply(
            lambda active: sender_next_step(bool(active), brevo.sender_email)
        )

    def authenticate_domain(self, *, published: Sequence[pulumi.Resource], require: bool) -> None:
        """Ask Brevo to verify the domain once its DNS records are `published` (Vercel DNS records).

        With an external DNS owner nothing is published by Pulumi, so `require` is false: each `pulumi up`
        asks again and reports the status until the owner has added the exported records.
        """
        self.authentication = DomainAuthentication(
            "sender-domain-authentication",
            domain=self.domain.id,
            records=self.dns_records,
            require_authenticated=require,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.domain, *published]),
        )
        self.register_outputs(
            {
                "senderDomain": self.domain.id,
                "dnsRecords": self.dns_records,
                "authenticated": self.authentication.authenticated,
                "pendingDnsRecords": self.authentication.pending_records,
                "senderActive": self.sender.active,
                "templateIds": self.template_ids,
            }
        )
