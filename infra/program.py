"""The whole stack: one component per subprocessor and the explicit wiring between them.

Brevo SMTP relay ............................ -> Supabase Auth SMTP settings
Supabase URL, publishable key, pooler URL ... -> Vercel environment variables (secrets sensitive)
nexk_notifier URL, Brevo send key, cron secret -> Vercel variables of the notifications cron and webhook
Brevo domain-authentication records ......... -> Vercel DNS records, or the `dnsRecords` output
portal domain ............................... -> Vercel ProjectDomain, Supabase site_url and redirects
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_random as random

from infra.brevo_mail import CRON_PATH, WEBHOOK_PATH, BrevoMail
from infra.dns_records import DnsPublication, publish_dns
from infra.settings import NAMESPACE, StackSettings
from infra.supabase_platform import SupabasePlatform
from infra.vercel_portal import EnvVar, VercelPortal


@dataclass
class Stack:
    settings: StackSettings
    supabase: SupabasePlatform
    portal: VercelPortal
    mail: BrevoMail
    dns: DnsPublication


def build(settings: StackSettings) -> Stack:
    config = pulumi.Config(NAMESPACE)
    # Generated secrets live only in the encrypted state; `pulumi up --replace <urn>` rotates them (docs/ops.md).
    db_password = pulumi.Output.secret(
        random.RandomPassword("supabase-db-password", length=40, special=False).result
    )
    webhook_token = pulumi.Output.secret(
        random.RandomPassword("brevo-webhook-token", length=48, special=False).result
    )
    notifier_password = pulumi.Output.secret(
        random.RandomPassword("notifier-db-password", length=40, special=False).result
    )
    cron_secret = pulumi.Output.secret(random.RandomPassword("cron-secret", length=48, special=False).result)

    mail = BrevoMail(
        "mail",
        settings,
        smtp_key=config.require_secret("brevoSmtpKey"),
        webhook_token=webhook_token,
    )
    supabase = SupabasePlatform(
        "database",
        settings,
        db_password=db_password,
        notifier_password=notifier_password,
        smtp=mail.smtp_relay,
    )
    portal = VercelPortal(
        "portal",
        settings,
        env={
            "SUPABASE_URL": EnvVar(supabase.api_url, sensitive=False, comment="Supabase API (Frankfurt)"),
            "SUPABASE_PUBLISHABLE_KEY": EnvVar(
                supabase.publishable_api_key,
                sensitive=False,
                comment="public by design; RLS protects the data",
            ),
            "DATABASE_URL": EnvVar(
                supabase.database_url, sensitive=True, comment="Supavisor transaction mode (port 6543)"
            ),
            "BREVO_WEBHOOK_TOKEN": EnvVar(
                webhook_token, sensitive=True, comment=f"bearer token Brevo sends to {WEBHOOK_PATH}"
            ),
            "BREVO_TEMPLATE_IDS": EnvVar(
                mail.template_ids.apply(lambda ids: json.dumps(ids, sort_keys=True)),
                sensitive=False,
                comment="template name -> Brevo template id",
            ),
            # The notifications worker (Vercel Cron) and the Brevo webhook; docs/notifications.md.
            "BREVO_API_KEY": EnvVar(
                config.require_secret("brevoTransactionalApiKey"),
                sensitive=True,
                comment="Brevo key restricted to transactional e-mail (sending only)",
            ),
            "NEXK_WORKER_DATABASE_URL": EnvVar(
                supabase.worker_database_url,
                sensitive=True,
                comment="role nexk_notifier (no BYPASSRLS), only for the cron and webhook routes",
            ),
            "CRON_SECRET": EnvVar(
                cron_secret, sensitive=True, comment=f"bearer token Vercel Cron sends to {CRON_PATH}"
            ),
            "NEXK_PORTAL_URL": EnvVar(
                f"https://{settings.portal.domain}", sensitive=False, comment="links in e-mails"
            ),
        },
    )
    dns = publish_dns(settings, portal, mail.dns_records)
    mail.authenticate_domain(published=dns.published, require=settings.dns.hosted_on == "vercel")

    # What ops and auditors read after `pulumi up` (`pulumi stack output`).
    pulumi.export("portalUrl", portal.url)
    pulumi.export("supabaseRegion", supabase.project.region)
    pulumi.export("supabaseProjectRef", supabase.project.ref)
    pulumi.export("vercelFunctionRegions", list(settings.portal.function_regions))
    pulumi.export("senderDomain", settings.brevo.sender_domain)
    pulumi.export(
        "senderDomainAuthenticated", mail.authentication.authenticated if mail.authentication else False
    )
    pulumi.export("dnsRecords", dns.exported)
    pulumi.export("dnsHostedOn", settings.dns.hosted_on)
    return Stack(settings=settings, supabase=supabase, portal=portal, mail=mail, dns=dns)
