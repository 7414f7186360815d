"""Brevo (Sendinblue SAS) as Pulumi dynamic providers over API v3 (https://api.brevo.com/v3, header `api-key`).

No Pulumi or Terraform provider exists for Brevo, and its Python SDK is not needed for six endpoints:

| resource              | API                                                                   |
|-----------------------|-----------------------------------------------------------------------|
| SenderDomain          | POST/GET/DELETE /senders/domains[/{name}]: exposes its DNS records    |
| DomainAuthentication  | PUT /senders/domains/{name}/authenticate once the records are in DNS  |
| Sender                | GET/POST/PUT/DELETE /senders[/{id}]                                   |
| TransactionalTemplate | GET/POST/PUT/DELETE /smtp/templates[/{id}]                            |
| Webhook               | GET/POST/PUT/DELETE /webhooks[/{id}]                                  |
| SmtpRelayAccount      | GET /account (read only): the SMTP relay login, host and port         |

Every create first looks for an identical object (same domain, sender e-mail, template name, webhook URL) and
adopts it, so a retried `pulumi up` never leaves duplicates behind.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    UpdateResult,
)

from infra.providers.base import (
    TokenProvider,
    adopt_or_create,
    diff_inputs,
    inputs_of,
    required,
    with_secret_outputs,
)
from infra.providers.http import VendorApi, VendorApiError

BREVO_API_URL = "https://api.brevo.com/v3"
DNS_RECORD_KINDS = ("brevo_code", "dkim_record", "dmarc_record")
TRANSACTIONAL_EVENTS = frozenset(
    {
        "sent",
        "request",
        "delivered",
        "hardBounce",
        "softBounce",
        "blocked",
        "spam",
        "invalid",
        "deferred",
        "click",
        "opened",
        "uniqueOpened",
        "unsubscribed",
    }
)


class BrevoProvider(TokenProvider):
    token_config_key: ClassVar[str] = "brevoApiKey"  # noqa: S105 (a config key name, not a secret)
    token_env_var: ClassVar[str] = "BREVO_API_KEY"  # noqa: S105 (a variable name, not a secret)
    kind: ClassVar[str] = "object"

    def __init__(self, api_url: str = BREVO_API_URL, backoff_seconds: float = 0.5) -> None:
        super().__init__(VendorApi("Brevo", api_url, "api-key", backoff_seconds=backoff_seconds))

    def call(self, method: str, path: str, *, resource: str, **kwargs: Any) -> Any:
        try:
            return super().call(method, path, resource=resource, **kwargs)
        except VendorApiError as exc:
            # Brevo answers 401 for an unknown, revoked or mistyped key (and for a machine outside the account's
            # authorised IPs, which its message then says): name the key ops have to check.
            if exc.status == 401:
                raise VendorApiError(
                    f"{exc}; check the Brevo API key: the stack secret brevoApiKey or BREVO_API_KEY must be a "
                    "valid API v3 key of this Brevo account (Brevo > SMTP & API > API keys; docs/ops.md, tokens)",
                    status=exc.status,
                ) from exc
            raise


class BrevoObjectProvider(BrevoProvider):
    """An object Brevo identifies by a numeric id (sender, template, webhook), exposed as output `ID_OUTPUT`."""

    INPUTS: ClassVar[tuple[str, ...]]
    ID_OUTPUT: ClassVar[str]  # e.g. "sender_id"

    def _outs_with_id(self, props: Mapping[str, Any], object_id: str | int) -> dict[str, Any]:
        """The managed inputs plus Brevo's id of the object."""
        return {**inputs_of(props, self.INPUTS), self.ID_OUTPUT: int(object_id)}

    def _adopt_or_create(
        self,
        collection: str,
        existing: Mapping[str, Any] | None,
        *,
        resource: str,
        update: Mapping[str, Any] | None,
        create: Mapping[str, Any],
    ) -> str:
        """The id of `existing` (PUT `update` first, unless None) or of a new object POSTed with `create`."""
        return adopt_or_create(
            self.call, collection, existing, resource=resource, update=update, create=create
        )


# ---------------------------------------------------------------------------------------------- SenderDomain


def dns_records(config: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Brevo's `dns_records` as a flat list, passing through the host names exactly as Brevo gives them.

    Brevo's host names are relative to the registered domain, not to the sender domain: "@" for the apex,
    "mail._domainkey" for a domain, "mail._domainkey.sub" for the sub-domain sub.example.com. Turning them
    into zone records is the program's job (infra/dns_records.py), which knows the zone.
    """
    records = []
    for kind in DNS_RECORD_KINDS:
        record = (config.get("dns_records") or {}).get(kind)
        if not record:
            continue
        records.append(
            {
                "kind": kind,
                "type": record.get("type", "TXT"),
                "host_name": (record.get("host_name") or "@").rstrip(".") or "@",
                "value": record.get("value", ""),
                "verified": bool(record.get("status", False)),
            }
        )
    return records


class SenderDomainProvider(BrevoProvider):
    kind = "sender domain"

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures = required(news, ("name",))
        name = news.get("name")
        if isinstance(name, str) and ("." not in name or name != name.lower()):
            failures.append(CheckFailure("name", f"name must be a lower-case domain name, got {name!r}"))
        return CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        return diff_inputs(olds, news, updatable=(), replace_on=("name",))

    def _get(self, name: str) -> dict[str, Any] | None:
        return self.call("GET", f"/senders/domains/{name}", resource=f"{self.kind} {name}", missing_ok=True)

    def _outs(self, name: str, config: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "name": name,
            "dns_records": dns_records(config),
            "verified": bool(config.get("verified", False)),
            "authenticated": bool(config.get("authenticated", False)),
        }

    def create(self, props: dict[str, Any]) -> CreateResult:
        name = props["name"]
        config = self._get(name)
        if config is None:
            self.call("POST", "/senders/domains", resource=f"{self.kind} {name}", json={"name": name})
            config = self._get(name)
        if config is None:
            raise VendorApiError(f"Brevo {self.kind} {name}: created but not readable back")
        return CreateResult(name, self._outs(name, config))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        config = self._get(id_)
        if config is None:
            return ReadResult("", {})
        return ReadResult(id_, self._outs(id_, config), {"name": id_})

    def delete(self, id_: str, _props: dict[str, Any]) -> None:
        self.call("DELETE", f"/senders/domains/{id_}", resource=f"{self.kind} {id_}", missing_ok=True)


class SenderDomain(Resource, module="brevo", name="SenderDomain"):
    dns_records: pulumi.Output[list[dict[str, Any]]]
    authenticated: pulumi.Output[bool]

    def __init__(
        self,
        resource_name: str,
        *,
        name: pulumi.Input[str],
        provider: SenderDomainProvider | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {"name": name, "dns_records": None, "authenticated": None, "verified": None}
        super().__init__(provider or SenderDomainProvider(), resource_name, props, opts)


# -------------------------------------------------------------------------------------- DomainAuthentication


class DomainAuthenticationProvider(BrevoProvider):
    """Ask Brevo to check the DNS records; with `require_authenticated`, fail until it confirms them."""

    kind = "domain authentication"
    INPUTS = ("domain", "records", "require_authenticated")

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        return CheckResult(news, required(news, ("domain",)))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        result = diff_inputs(
            olds, news, updatable=("records", "require_authenticated"), replace_on=("domain",)
        )
        if not olds.get("authenticated"):
            # Until Brevo confirms the records (published by a DNS owner outside Pulumi), each `up` asks again.
            result.changes = True
        return result

    def _authenticate(self, props: Mapping[str, Any]) -> dict[str, Any]:
        domain = props["domain"]
        resource = f"{self.kind} {domain}"
        self.call("PUT", f"/senders/domains/{domain}/authenticate", resource=resource)
        config = self.call("GET", f"/senders/domains/{domain}", resource=resource) or {}
        authenticated = bool(config.get("authenticated", False))
        if props.get("require_authenticated") and not authenticated:
            missing = [
                f"{r['type']} {r['host_name']} = {r['value']!r}"
                for r in dns_records(config)
                if not r["verified"]
            ]
            raise VendorApiError(
                f"Brevo {resource}: Brevo does not see the records yet: {'; '.join(missing) or 'unknown'}; "
                "DNS may still be propagating, run `pulumi up` again in a few minutes"
            )
        return {**inputs_of(props, self.INPUTS), "authenticated": authenticated}

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(f"{props['domain']}/authentication", self._authenticate(props))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(self._authenticate(news))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        domain = props["domain"]
        config = self.call(
            "GET", f"/senders/domains/{domain}", resource=f"{self.kind} {domain}", missing_ok=True
        )
        if config is None:
            return ReadResult("", {})
        outs = {**inputs_of(props, self.INPUTS), "authenticated": bool(config.get("authenticated", False))}
        return ReadResult(id_, outs, inputs_of(props, self.INPUTS))

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        """Authentication is a state of the domain; deleting the SenderDomain removes it."""


class DomainAuthentication(Resource, module="brevo", name="DomainAuthentication"):
    authenticated: pulumi.Output[bool]

    def __init__(
        self,
        resource_name: str,
        *,
        domain: pulumi.Input[str],
        records: pulumi.Input[list[Any]],
        require_authenticated: bool,
        provider: DomainAuthenticationProvider | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            "domain": domain,
            "records": records,
            "require_authenticated": require_authenticated,
            "authenticated": None,
        }
        super().__init__(provider or DomainAuthenticationProvider(), resource_name, props, opts)


# ---------------------------------------------------------------------------------------------------- Sender


class SenderProvider(BrevoObjectProvider):
    kind = "sender"
    INPUTS = ("name", "email")
    ID_OUTPUT = "sender_id"

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures = required(news, self.INPUTS)
        email = news.get("email")
        if isinstance(email, str) and "@" not in email:
            failures.append(CheckFailure("email", f"email must be an e-mail address, got {email!r}"))
        return CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        return diff_inputs(olds, news, updatable=("name",), replace_on=("email",))

    def _senders(self, email: str) -> list[dict[str, Any]]:
        domain = email.split("@", 1)[-1]
        result = (
            self.call("GET", "/senders", resource=f"{self.kind} {email}", params={"domain": domain}) or {}
        )
        return result.get("senders", [])

    def create(self, props: dict[str, Any]) -> CreateResult:
        email, name = props["email"], props["name"]
        existing = next(
            (sender for sender in self._senders(email) if sender.get("email", "").lower() == email.lower()),
            None,
        )
        sender_id = self._adopt_or_create(
            "/senders",
            existing,
            resource=f"{self.kind} {email}",
            # Brevo's sender has only a name to update; a PUT without a change is skipped.
            update={"name": name} if existing is not None and existing.get("name") != name else None,
            create={"name": name, "email": email},
        )
        return CreateResult(sender_id, self._outs_with_id(props, sender_id))

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        self.call(
            "PUT", f"/senders/{id_}", resource=f"{self.kind} {news['email']}", json={"name": news["name"]}
        )
        return UpdateResult(self._outs_with_id(news, id_))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        for sender in self._senders(props["email"]):
            if str(sender.get("id")) == id_:
                outs = {"name": sender.get("name"), "email": sender.get("email"), "sender_id": int(id_)}
                return ReadResult(id_, outs, inputs_of(outs, self.INPUTS))
        return ReadResult("", {})

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        self.call("DELETE", f"/senders/{id_}", resource=f"{self.kind} {props.get('email')}", missing_ok=True)


class Sender(Resource, module="brevo", name="Sender"):
    sender_id: pulumi.Output[int]

    def __init__(
        self,
        resource_name: str,
        *,
        name: pulumi.Input[str],
        email: pulumi.Input[str],
        provider: SenderProvider | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {"name": name, "email": email, "sender_id": None}
        super().__init__(provider or SenderProvider(), resource_name, props, opts)


# ------------------------------------------------------------------------------------- TransactionalTemplate


class TransactionalTemplateProvider(BrevoObjectProvider):
    kind = "transactional template"
    INPUTS = ("template_name", "subject", "html_content", "sender_name", "sender_email", "tag", "is_active")
    ID_OUTPUT = "template_id"

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        return CheckResult(news, required(news, ("template_name", "subject", "html_content", "sender_email")))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        updatable = tuple(key for key in self.INPUTS)
        return diff_inputs(olds, news, updatable=updatable)

    @staticmethod
    def body(props: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "templateName": props["template_name"],
            "subject": props["subject"],
            "htmlContent": props["html_content"],
            "sender": {"name": props.get("sender_name"), "email": props["sender_email"]},
            "tag": props.get("tag"),
            "isActive": bool(props.get("is_active", True)),
        }

    def _find(self, name: str) -> dict[str, Any] | None:
        offset = 0
        while True:
            page = (
                self.call(
                    "GET",
                    "/smtp/templates",
                    resource=f"{self.kind} {name}",
                    params={"limit": 1000, "offset": offset},
                )
                or {}
            )
            templates = page.get("templates") or []
            for template in templates:
                if template.get("name") == name:
                    return template
            offset += len(templates)
            if not templates or offset >= int(page.get("count", 0)):
                return None

    def create(self, props: dict[str, Any]) -> CreateResult:
        name = props["template_name"]
        template_id = self._adopt_or_create(
            "/smtp/templates",
            self._find(name),
            resource=f"{self.kind} {name}",
            update=self.body(props),
            create=self.body(props),
        )
        return CreateResult(template_id, self._outs_with_id(props, template_id))

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        name = news["template_name"]
        self.call("PUT", f"/smtp/templates/{id_}", resource=f"{self.kind} {name}", json=self.body(news))
        return UpdateResult(self._outs_with_id(news, id_))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        name = props.get("template_name")
        template = self.call("GET", f"/smtp/templates/{id_}", resource=f"{self.kind} {name}", missing_ok=True)
        if template is None:
            return ReadResult("", {})
        sender = template.get("sender") or {}
        outs = {
            "template_name": template.get("name"),
            "subject": template.get("subject"),
            "html_content": template.get("htmlContent"),
            "sender_name": sender.get("name"),
            "sender_email": sender.get("email"),
            "tag": template.get("tag"),
            "is_active": template.get("isActive"),
            "template_id": int(id_),
        }
        return ReadResult(id_, outs, inputs_of(outs, self.INPUTS))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        name = props.get("template_name")
        self.call("DELETE", f"/smtp/templates/{id_}", resource=f"{self.kind} {name}", missing_ok=True)


class TransactionalTemplate(Resource, module="brevo", name="TransactionalTemplate"):
    template_id: pulumi.Output[int]

    def __init__(
        self,
        resource_name: str,
        *,
        template_name: str,
        subject: str,
        html_content: str,
        sender_name: pulumi.Input[str],
        sender_email: pulumi.Input[str],
        tag: str,
        is_active: bool = True,
        provider: TransactionalTemplateProvider | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            "template_name": template_name,
            "subject": subject,
            "html_content": html_content,
            "sender_name": sender_name,
            "sender_email": sender_email,
            "tag": tag,
            "is_active": is_active,
            "template_id": None,
        }
        super().__init__(provider or TransactionalTemplateProvider(), resource_name, props, opts)


# --------------------------------------------------------------------------------------------------- Webhook


class WebhookProvider(BrevoObjectProvider):
    kind = "webhook"
    INPUTS = ("url", "type", "events", "description", "auth_token")
    ID_OUTPUT = "webhook_id"

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures = required(news, ("url", "type", "events"))
        url = news.get("url")
        if isinstance(url, str) and not url.startswith("https://"):
            failures.append(CheckFailure("url", f"url must be https://, got {url!r}"))
        if news.get("type") == "transactional":
            unknown = sorted(set(news.get("events") or []) - TRANSACTIONAL_EVENTS)
            if unknown:
                failures.append(CheckFailure("events", f"unknown transactional events {unknown}"))
        return CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        # Brevo cannot change a webhook's type in place.
        return diff_inputs(
            olds, news, updatable=("url", "events", "description", "auth_token"), replace_on=("type",)
        )

    @staticmethod
    def body(props: Mapping[str, Any], *, create: bool) -> dict[str, Any]:
        body: dict[str, Any] = {
            "url": props["url"],
            "events": list(props["events"]),
            "description": props.get("description") or "",
        }
        if props.get("auth_token"):
            body["auth"] = {"type": "bearer", "token": props["auth_token"]}
        if create:
            body |= {"type": props["type"], "channel": "email"}
        return body

    def create(self, props: dict[str, Any]) -> CreateResult:
        url, type_ = props["url"], props["type"]
        listing = self.call("GET", "/webhooks", resource=f"{self.kind} {url}", params={"type": type_}) or {}
        existing = next(
            (
                hook
                for hook in listing.get("webhooks", [])
                if hook.get("url") == url and hook.get("type", type_) == type_
            ),
            None,
        )
        hook_id = self._adopt_or_create(
            "/webhooks",
            existing,
            resource=f"{self.kind} {url}",
            update=self.body(props, create=False),
            create=self.body(props, create=True),
        )
        return CreateResult(hook_id, self._outs_with_id(props, hook_id))

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        self.call(
            "PUT",
            f"/webhooks/{id_}",
            resource=f"{self.kind} {news['url']}",
            json=self.body(news, create=False),
        )
        return UpdateResult(self._outs_with_id(news, id_))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        hook = self.call(
            "GET", f"/webhooks/{id_}", resource=f"{self.kind} {props.get('url')}", missing_ok=True
        )
        if hook is None:
            return ReadResult("", {})
        outs = {
            **inputs_of(props, self.INPUTS),
            "url": hook.get("url"),
            "type": hook.get("type"),
            "events": hook.get("events"),
            "description": hook.get("description"),
            "webhook_id": int(id_),
        }
        return ReadResult(id_, outs, inputs_of(outs, self.INPUTS))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        self.call("DELETE", f"/webhooks/{id_}", resource=f"{self.kind} {props.get('url')}", missing_ok=True)


class Webhook(Resource, module="brevo", name="Webhook"):
    webhook_id: pulumi.Output[int]

    def __init__(
        self,
        resource_name: str,
        *,
        url: pulumi.Input[str],
        events: list[str],
        auth_token: pulumi.Input[str],
        description: str,
        type: str = "transactional",
        provider: WebhookProvider | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            "url": url,
            "type": type,
            "events": events,
            "description": description,
            "auth_token": auth_token,
            "webhook_id": None,
        }
        opts = with_secret_outputs(opts, "auth_token")
        super().__init__(provider or WebhookProvider(), resource_name, props, opts)


# ------------------------------------------------------------------------------------------ SmtpRelayAccount

RELAY_OUTPUTS = ("login", "host", "port")
SMTP_RELAY_ACCOUNT_ID = "brevo-smtp-relay"


def relay_settings(account: Mapping[str, Any], resource: str) -> dict[str, Any]:
    """The SMTP relay's login, host and port from Brevo's `GET /account`, or an error that says what to do.

    Brevo answers `relay: {enabled, data: {userName, relay, port}}`; `userName` is the account's own SMTP login
    (the address Brevo > SMTP & API > SMTP shows), not the address of anyone at NexK.
    """
    relay = account.get("relay") or {}
    if not relay.get("enabled"):
        raise VendorApiError(
            f"Brevo {resource}: this Brevo account's transactional (SMTP) relay is disabled, so Supabase Auth "
            "could not send invitations or password resets; activate the transactional (SMTP) relay in Brevo, "
            "then pulumi up (Brevo > SMTP & API > SMTP shows the relay's login once it is active)"
        )
    data = relay.get("data") or {}
    missing = [key for key in ("userName", "relay", "port") if data.get(key) in (None, "")]
    if missing:
        raise VendorApiError(
            f"Brevo {resource}: GET /account reports the SMTP relay enabled but without "
            f"{', '.join('relay.data.' + key for key in missing)}; check in Brevo > SMTP & API > SMTP that the "
            "relay shows a login, server and port (Brevo support activates it otherwise), then pulumi up"
        )
    return {"login": str(data["userName"]), "host": str(data["relay"]), "port": int(data["port"])}


class SmtpRelayAccountProvider(BrevoProvider):
    """Read-only: the account's SMTP relay login, host and port, so nobody types them into a stack file.

    Nothing is created or changed at Brevo; create, read and update all GET /account, delete forgets.
    """

    kind = "SMTP relay account"

    def _relay(self) -> dict[str, Any]:
        account = self.call("GET", "/account", resource=self.kind) or {}
        return relay_settings(account, self.kind)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        # The relay has no input to compare: what can change is Brevo's answer. So each preview and up reads it
        # again and reports a change only when Brevo's login, host or port differ from the state; `up` then
        # updates (reads once more) and Supabase Auth's SMTP settings follow in the same run. Two alternatives
        # were weighed: "always changed" would make every preview show this resource and the auth settings as
        # changing (a dynamic provider has no preview of its update, so its outputs turn unknown), and "only on
        # `pulumi refresh`" would leave Supabase on a stale login until someone remembers to refresh.
        live = self._relay()
        changed = [key for key in RELAY_OUTPUTS if olds.get(key) != live[key]]
        return DiffResult(
            changes=bool(changed), replaces=[], stables=[key for key in RELAY_OUTPUTS if key not in changed]
        )

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(SMTP_RELAY_ACCOUNT_ID, self._relay())

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(self._relay())

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_ or SMTP_RELAY_ACCOUNT_ID, self._relay(), {})

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        """Nothing was created at Brevo: removing the resource only forgets what it read."""


class SmtpRelayAccount(Resource, module="brevo", name="SmtpRelayAccount"):
    """Brevo's SMTP relay for this account, as Brevo reports it: `login` (the SMTP user), `host`, `port`."""

    login: pulumi.Output[str]
    host: pulumi.Output[str]
    port: pulumi.Output[int]

    def __init__(
        self,
        resource_name: str,
        *,
        provider: SmtpRelayAccountProvider | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {"login": None, "host": None, "port": None}
        super().__init__(provider or SmtpRelayAccountProvider(), resource_name, props, opts)
