"""The DNS records the stack needs: Brevo's domain authentication (brevo-code, DKIM, DMARC) and the portal host.

When the zone lives on Vercel DNS (`dns.hostedOn: vercel`) the mail records become `vercel.DnsRecord`s (Vercel
configures the portal host itself once the ProjectDomain exists). Otherwise nothing is written: the records
are exported as the stack output `dnsRecords` for the zone's owner to apply.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import pulumi
import pulumiverse_vercel as vercel

from infra.providers.brevo import DNS_RECORD_KINDS
from infra.settings import StackSettings
from infra.vercel_portal import VercelPortal

MAIL_RECORD_TTL = 3600


def zone_name(host_name: str, zone: str) -> str:
    """A Brevo host name ("@", "mail._domainkey.sub") as a fully qualified name in `zone`.

    Brevo writes host names relative to the registered domain, which `dns.zone` is (see settings).
    """
    host = host_name.rstrip(".")
    if host in ("", "@"):
        return zone
    return host if host == zone or host.endswith("." + zone) else f"{host}.{zone}"


def relative_name(fqdn: str, zone: str) -> str:
    """The record name Vercel DNS expects: relative to the zone, "" for the apex."""
    return "" if fqdn == zone else fqdn.removesuffix("." + zone)


def _record_field(records: list[dict[str, Any]], purpose: str, field: str) -> Any:
    """`field` of the record published for `purpose` (e.g. "brevo dkim")."""
    return next(record[field] for record in records if record["purpose"] == purpose)


def mail_records(brevo_records: Sequence[Mapping[str, Any]], zone: str) -> list[dict[str, Any]]:
    return [
        {
            "purpose": f"brevo {record['kind']}",
            "type": record["type"],
            "name": zone_name(record["host_name"], zone),
            "value": record["value"],
        }
        for record in brevo_records
    ]


@dataclass
class DnsPublication:
    published: list[pulumi.Resource]  # records Pulumi wrote (empty for an external zone)
    exported: pulumi.Output[list[dict[str, Any]]]  # every record, for the stack output and the DNS owner


def publish_dns(
    settings: StackSettings, portal: VercelPortal, brevo_records: pulumi.Output[list[dict[str, Any]]]
) -> DnsPublication:
    zone = settings.dns.zone
    domain = settings.portal.domain
    records = brevo_records.apply(lambda rs: mail_records(rs or [], zone))
    config = vercel.get_domain_config_output(domain=domain, project_id_or_name=portal.project.id)

    def portal_record(cfg: Any) -> dict[str, Any]:
        # An apex host cannot be a CNAME; Vercel recommends A records there.
        if domain == zone:
            return {
                "purpose": "portal",
                "type": "A",
                "name": domain,
                "value": (cfg.recommended_ipv4s or [""])[0],
            }
        return {"purpose": "portal", "type": "CNAME", "name": domain, "value": cfg.recommended_cname}

    exported = pulumi.Output.all(config.apply(portal_record), records).apply(lambda both: [both[0], *both[1]])

    published: list[pulumi.Resource] = []
    if settings.dns.hosted_on == "vercel":
        for kind in DNS_RECORD_KINDS:
            purpose = f"brevo {kind}"

            published.append(
                vercel.DnsRecord(
                    f"mail-{kind.replace('_', '-')}",
                    domain=zone,
                    name=records.apply(partial(_record_field, purpose=purpose, field="name")).apply(
                        lambda name: relative_name(name, zone)
                    ),
                    type=records.apply(partial(_record_field, purpose=purpose, field="type")),
                    value=records.apply(partial(_record_field, purpose=purpose, field="value")),
                    ttl=MAIL_RECORD_TTL,
                    comment=f"Brevo {kind} for {settings.brevo.sender_domain}",
                    opts=pulumi.ResourceOptions(parent=portal),
                )
            )
    return DnsPublication(published=published, exported=exported)
