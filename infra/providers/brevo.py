"""Brevo (Sendinblue SAS) as Pulumi dynamic providers, through Brevo's official Python SDK (brevo-python 5.x).

| resource              | SDK operations (brevo-python: `client.<group>.<method>`)                                   |
|-----------------------|---------------------------------------------------------------------------------------------|
| SenderDomain          | domains.get_domain_configuration / create_domain / delete_domain: exposes its DNS records  |
| DomainAuthentication  | domains.authenticate_domain (HTTP 400 while the records are not in DNS), get_domain_config. |
| Sender                | senders.get_senders / create_sender / update_sender / delete_sender / validate_sender_by_otp |
| TransactionalTemplate | transactional_emails.get_smtp_templates / create / get / update / delete_smtp_template       |
| Webhook               | webhooks.get_webhooks / create_webhook / get_webhook / update_webhook / delete_webhook       |
| SmtpRelayAccount      | account.get_account (read only): the SMTP relay login, host and port                         |

The SDK client is opened per call through `infra.providers.transport.httpx_client()` (so the rehearsal's
simulator can be mounted) and never kept on the provider, which Pulumi pickles into the state.

Retries are ours, not the SDK's: a Fern client retries 429, 408, 409 and every 5xx on every method
(brevo/core/http_client.py `_should_retry`, `base_max_retries=2`), which for a POST that Brevo committed before
its gateway failed means a second template or webhook (names are not unique). So the SDK runs with
`max_retries=0` and `BrevoApi.call` retries reads, updates and deletes on 5xx and dropped connections; a create is
sent once, and after an ambiguous failure the provider looks the object up by its natural key (domain name,
sender e-mail, template name, webhook URL) and adopts it before trying again. A 429 is retried on every method
(Brevo did not process the request) after Brevo's `x-sib-ratelimit-reset` (seconds until the window resets,
developers.brevo.com/docs/limit-headers), which the SDK does not read.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, ClassVar

import brevo
import httpx
import pulumi
from brevo import Brevo as BrevoClient  # `brevo` inside BrevoProvider is its method
from brevo.core.api_error import ApiError
from brevo.core.parse_error import ParsingError
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    UpdateResult,
)

from infra.providers import transport
from infra.providers.base import (
    TokenProvider,
    diff_inputs,
    inputs_of,
    is_unknown,
    required,
    with_secret_outputs,
)
from infra.providers.http import MissingTokenError, VendorApiError

BREVO_API_URL = "https://api.brevo.com/v3"  # brevo/environment.py BrevoEnvironment.DEFAULT
DNS_RECORD_KINDS = ("brevo_code", "dkim_record", "dmarc_record")
# brevo/webhooks/raw_client.py create_webhook: "Possible values for **Transactional** type webhook".
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
TEMPLATE_PAGE_SIZE = 1000  # get_smtp_templates: "Results default to 50 per page (max 1000)"

# How the providers wait (429 resets, backoff). The rehearsal simulator swaps it for its virtual clock.
sleep: Callable[[float], None] = time.sleep


class AmbiguousWriteError(VendorApiError):
    """A create failed in a way that leaves open whether Brevo applied it (5xx, dropped connection)."""


def plain(value: Any) -> Any:
    """An SDK model (pydantic, wire field names) as plain dicts and lists."""
    if hasattr(value, "dict"):
        return value.dict()
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def _header(headers: Mapping[str, str] | None, name: str) -> str | None:
    for key, value in (headers or {}).items():
        if key.lower() == name:
            return value
    return None


def _api_message(body: Any) -> str:
    if isinstance(body, Mapping):
        for key in ("message", "code", "error"):
            if isinstance(body.get(key), str) and body[key]:
                return body[key]
    return str(body)[:500]


@dataclass
class BrevoApi:
    """Plain data (picklable): where Brevo is and how long to insist. `call()` opens the SDK client."""

    base_url: str = BREVO_API_URL
    max_attempts: int = 5
    backoff_seconds: float = 1.0
    max_backoff_seconds: float = 30.0
    # The longest the whole call waits for rate-limit windows to reset before giving up with a message.
    max_rate_limit_wait_seconds: float = 900.0
    timeout_seconds: float = 60.0

    def call(
        self,
        token: str | None,
        operation: str,
        send: Callable[[brevo.Brevo], Any],
        *,
        resource: str,
        idempotent: bool = True,
        missing_ok: bool = False,
    ) -> Any:
        """Run `send(client)` (one SDK call, `operation` such as "PUT /smtp/templates/12" names it in errors).

        Returns the answer as plain data, or None for a tolerated 404 (`missing_ok`). Raises VendorApiError
        naming `resource`, the operation and Brevo's message; AmbiguousWriteError for a non-idempotent call
        whose outcome is unknown.
        """
        if not token:
            raise MissingTokenError(f"Brevo {resource}: no API token configured (see docs/ops.md, tokens)")
        attempt, waited = 0, 0.0
        with transport.httpx_client(timeout=self.timeout_seconds) as http:
            client = brevo.Brevo(api_key=token, base_url=self.base_url, httpx_client=http, max_retries=0)
            while True:
                attempt += 1
                try:
                    return plain(send(client))
                except ApiError as exc:
                    status = exc.status_code or 0
                    if status == 404 and missing_ok:
                        return None
                    if status == 429:
                        delay = self._rate_limit_delay(exc.headers, attempt)
                        if waited + delay > self.max_rate_limit_wait_seconds:
                            raise VendorApiError(
                                f"Brevo {resource}: {operation} is rate limited (HTTP 429) and Brevo's window "
                                f"resets in {delay:.0f} s, beyond the {self.max_rate_limit_wait_seconds:.0f} s "
                                "this run waits; run `pulumi up` again after the reset",
                                status=429,
                            ) from exc
                        sleep(delay)
                        waited += delay
                        continue
                    if status >= 500:
                        if not idempotent:
                            raise AmbiguousWriteError(
                                f"Brevo {resource}: {operation} failed with HTTP {status} "
                                f"({_api_message(exc.body)}); Brevo may have applied it",
                                status=status,
                            ) from exc
                        if attempt < self.max_attempts:
                            sleep(self._backoff(attempt))
                            continue
                    raise self._error(resource, operation, status, exc.body) from exc
                except ParsingError as exc:
                    # A 2xx whose body does not match the SDK's model (brevo/core/parse_error.py).
                    raise VendorApiError(
                        f"Brevo {resource}: {operation} answered HTTP {exc.status_code} with a body brevo-python "
                        f"cannot read ({exc.cause}); check for a newer brevo-python 5.x",
                        status=exc.status_code,
                    ) from exc
                except httpx.TransportError as exc:
                    if not idempotent:
                        raise AmbiguousWriteError(
                            f"Brevo {resource}: {operation} lost its connection ({exc}); Brevo may have applied it"
                        ) from exc
                    if attempt < self.max_attempts:
                        sleep(self._backoff(attempt))
                        continue
                    raise VendorApiError(
                        f"Brevo {resource}: {operation} could not reach {self.base_url}: {exc}"
                    ) from exc

    def create(
        self,
        token: str | None,
        operation: str,
        send: Callable[[brevo.Brevo], Any],
        find: Callable[[], str | None],
        *,
        resource: str,
    ) -> str:
        """POST once; after an ambiguous failure adopt what `find()` finds (the object Brevo committed) or
        POST again. Returns the object's id."""
        for attempt in range(1, self.max_attempts + 1):
            try:
                created = self.call(token, operation, send, resource=resource, idempotent=False)
                return str(created["id"]) if isinstance(created, Mapping) else str(created)
            except AmbiguousWriteError:
                found = find()
                if found is not None:
                    return found
                if attempt == self.max_attempts:
                    raise
                sleep(self._backoff(attempt))
        raise AssertionError("unreachable")

    def _backoff(self, attempt: int) -> float:
        return min(self.backoff_seconds * 2 ** (attempt - 1), self.max_backoff_seconds)

    def _rate_limit_delay(self, headers: Mapping[str, str] | None, attempt: int) -> float:
        # developers.brevo.com/docs/limit-headers: x-sib-ratelimit-reset is the time remaining until the
        # window resets, in seconds; Retry-After as the HTTP fallback; else our backoff.
        for name in ("x-sib-ratelimit-reset", "retry-after"):
            value = _header(headers, name)
            if value is not None:
                try:
                    return max(0.0, float(value))
                except ValueError:
                    continue
        return self._backoff(attempt)

    @staticmethod
    def _error(resource: str, operation: str, status: int, body: Any) -> VendorApiError:
        message = f"Brevo {resource}: {operation} failed with HTTP {status}: {_api_message(body)}"
        if status == 401:
            # Brevo answers 401 for an unknown, revoked or mistyped key (and for a machine outside the
            # account's authorised IPs, which its message then says): name the key ops have to check.
            message += (
                "; check the Brevo API key: the stack secret brevoApiKey or BREVO_API_KEY must be a valid API v3 "
                "key of this Brevo account (Brevo > SMTP & API > API keys; docs/ops.md, tokens)"
            )
        return VendorApiError(message, status=status)


def _templates_page(client: BrevoClient, offset: int) -> Any:
    return client.transactional_emails.get_smtp_templates(limit=TEMPLATE_PAGE_SIZE, offset=offset)


class BrevoProvider(TokenProvider[BrevoApi]):
    token_config_key: ClassVar[str] = "brevoApiKey"  # noqa: S105 (a config key name, not a secret)
    token_env_var: ClassVar[str] = "BREVO_API_KEY"  # noqa: S105 (a variable name, not a secret)
    kind: ClassVar[str] = "object"

    def __init__(self, api_url: str = BREVO_API_URL) -> None:
        super().__init__(BrevoApi(base_url=api_url))

    def brevo(
        self,
        operation: str,
        send: Callable[[BrevoClient], Any],
        *,
        resource: str,
        missing_ok: bool = False,
    ) -> Any:
        """One idempotent SDK call (GET, PUT, DELETE), retried on 429/5xx/dropped connections."""
        return self.api.call(self._token, operation, send, resource=resource, missing_ok=missing_ok)

    def brevo_create(
        self,
        operation: str,
        send: Callable[[BrevoClient], Any],
        find: Callable[[], str | None],
        *,
        resource: str,
    ) -> str:
        return self.api.create(self._token, operation, send, find, resource=resource)


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
        return self.brevo(
            f"GET /senders/domains/{name}",
            lambda client: client.domains.get_domain_configuration(name),
            resource=f"{self.kind} {name}",
            missing_ok=True,
        )

    def _outs(self, name: str, config: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "name": name,
            "dns_records": dns_records(config),
            "verified": bool(config.get("verified", False)),
            "authenticated": bool(config.get("authenticated", False)),
        }

    def create(self, props: dict[str, Any]) -> CreateResult:
        name = props["name"]
        resource = f"{self.kind} {name}"
        config = self._get(name)
        if config is None:
            self.brevo_create(
                "POST /senders/domains",
                lambda client: client.domains.create_domain(name=name),
                lambda: name if self._get(name) is not None else None,
                resource=resource,
            )
            config = self._get(name)
        if config is None:
            raise VendorApiError(f"Brevo {resource}: created but not readable back")
        return CreateResult(name, self._outs(name, config))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        config = self._get(id_)
        if config is None:
            return ReadResult("", {})
        return ReadResult(id_, self._outs(id_, config), {"name": id_})

    def delete(self, id_: str, _props: dict[str, Any]) -> None:
        self.brevo(
            f"DELETE /senders/domains/{id_}",
            lambda client: client.domains.delete_domain(id_),
            resource=f"{self.kind} {id_}",
            missing_ok=True,
        )


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


def records_to_publish(config: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The records Brevo does not see yet (all of them when Brevo flags none: it checks them together)."""
    records = dns_records(config)
    return [record for record in records if not record["verified"]] or records


def describe_records(records: Sequence[Mapping[str, Any]]) -> str:
    return "; ".join(f"{r['type']} {r['host_name']} = {r['value']!r}" for r in records) or "none listed"


class DomainAuthenticationProvider(BrevoProvider):
    """Ask Brevo to check the domain's DNS records; with `require_authenticated`, fail until it confirms them.

    Brevo answers `PUT /senders/domains/{domain}/authenticate` with HTTP 400 ("DNS records not properly
    configured", brevo/types/bad_request_error_body_code.py) while the records are not published: that is the
    normal state after the first `up` of a stack whose DNS is external, so without `require_authenticated` it
    is reported (`authenticated: false`, `pending_records`), not raised, and every later `up` asks again.
    """

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

    def _config(self, domain: str) -> dict[str, Any]:
        return self.brevo(
            f"GET /senders/domains/{domain}",
            lambda client: client.domains.get_domain_configuration(domain),
            resource=f"{self.kind} {domain}",
        )

    def _authenticate(self, props: Mapping[str, Any]) -> dict[str, Any]:
        domain = props["domain"]
        resource = f"{self.kind} {domain}"
        config = self._config(domain)
        refusal = ""
        if not config.get("authenticated"):
            try:
                self.brevo(
                    f"PUT /senders/domains/{domain}/authenticate",
                    lambda client: client.domains.authenticate_domain(domain),
                    resource=resource,
                )
            except VendorApiError as exc:
                if exc.status != 400:
                    raise
                refusal = str(exc).split(": ", 2)[-1]  # Brevo's own message
            config = self._config(domain)
        authenticated = bool(config.get("authenticated", False))
        pending = [] if authenticated else records_to_publish(config)
        if props.get("require_authenticated") and not authenticated:
            raise VendorApiError(
                f"Brevo {resource}: Brevo cannot authenticate the domain yet ({refusal or 'not authenticated'}). "
                f"Publish these DNS records in the zone of {domain} (host names relative to the registered "
                f"domain, as Brevo gives them; `pulumi stack output dnsRecords` has them fully qualified): "
                f"{describe_records(pending)}. If they are already published, DNS may still be propagating: run "
                "`pulumi up` again in a few minutes",
                status=400,
            )
        return {
            **inputs_of(props, self.INPUTS),
            "authenticated": authenticated,
            "pending_records": pending,
        }

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(f"{props['domain']}/authentication", self._authenticate(props))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(self._authenticate(news))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        domain = props["domain"]
        config = self.brevo(
            f"GET /senders/domains/{domain}",
            lambda client: client.domains.get_domain_configuration(domain),
            resource=f"{self.kind} {domain}",
            missing_ok=True,
        )
        if config is None:
            return ReadResult("", {})
        authenticated = bool(config.get("authenticated", False))
        outs = {
            **inputs_of(props, self.INPUTS),
            "authenticated": authenticated,
            "pending_records": [] if authenticated else records_to_publish(config),
        }
        return ReadResult(id_, outs, inputs_of(props, self.INPUTS))

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        """Authentication is a state of the domain; deleting the SenderDomain removes it."""


class DomainAuthentication(Resource, module="brevo", name="DomainAuthentication"):
    authenticated: pulumi.Output[bool]
    pending_records: pulumi.Output[list[dict[str, Any]]]

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
            "pending_records": None,
        }
        super().__init__(provider or DomainAuthenticationProvider(), resource_name, props, opts)


# ---------------------------------------------------------------------------------------------------- Sender


class SenderProvider(BrevoProvider):
    """The From address. Brevo e-mails a 6-digit code to a new sender's address and keeps the sender inactive
    (`active: false` in GET /senders) until the code is given to `PUT /senders/{id}/validate`
    (developers.brevo.com/reference/create-sender: "Verification email sent to specified sender address",
    "Sender must be verified before use"; /reference/validate-sender-by-otp). Nothing in Brevo's material says an
    authenticated domain validates its senders, so the provider does what is documented: with the optional
    input `otp` (stack secret brevoSenderOtp) it validates the sender; either way it reports `active`, and until
    the sender is active every `up` looks again (ops may also type the code in Brevo's web interface).
    """

    kind = "sender"
    INPUTS = ("name", "email", "otp")
    ID_OUTPUT = "sender_id"

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures = required(news, ("name", "email"))
        email = news.get("email")
        if isinstance(email, str) and "@" not in email:
            failures.append(CheckFailure("email", f"email must be an e-mail address, got {email!r}"))
        otp = news.get("otp")
        if otp not in (None, "") and not is_unknown(otp) and not (str(otp).isdigit() and len(str(otp)) == 6):
            failures.append(CheckFailure("otp", "otp must be the 6-digit code Brevo e-mailed to the sender"))
        return CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        result = diff_inputs(olds, news, updatable=("name", "otp"), replace_on=("email",))
        if not olds.get("active"):
            # Until Brevo reports the sender active (code given here or in Brevo's web interface), look again.
            result.changes = True
        return result

    def _senders(self, email: str) -> list[dict[str, Any]]:
        domain = email.split("@", 1)[-1]
        answer = self.brevo(
            f"GET /senders?domain={domain}",
            lambda client: client.senders.get_senders(domain=domain),
            resource=f"{self.kind} {email}",
        )
        return (answer or {}).get("senders") or []

    def _find(self, email: str) -> dict[str, Any] | None:
        return next((s for s in self._senders(email) if s.get("email", "").lower() == email.lower()), None)

    def _activate(self, sender_id: str, props: Mapping[str, Any]) -> dict[str, Any]:
        email = props["email"]
        sender = next((s for s in self._senders(email) if str(s.get("id")) == sender_id), None) or {}
        active = bool(sender.get("active", False))
        otp = props.get("otp")
        if not active and otp:
            try:
                self.brevo(
                    f"PUT /senders/{sender_id}/validate",
                    lambda client: client.senders.validate_sender_by_otp(int(sender_id), otp=int(otp)),
                    resource=f"{self.kind} {email}",
                )
            except VendorApiError as exc:
                if exc.status != 400:
                    raise
                raise VendorApiError(
                    f"{exc}. The code in brevoSenderOtp is wrong or expired: ask Brevo for a new one (Brevo > "
                    f"Senders, Domains & Dedicated IPs > Senders > {email} > Verify), then "
                    "`pulumi config set --secret brevoSenderOtp <code>` and `pulumi up` "
                    "(docs/ops.md, Brevo first deployment)",
                    status=400,
                ) from exc
            active = True
        return {**inputs_of(props, self.INPUTS), self.ID_OUTPUT: int(sender_id), "active": active}

    def create(self, props: dict[str, Any]) -> CreateResult:
        email, name = props["email"], props["name"]
        resource = f"{self.kind} {email}"
        existing = self._find(email)
        if existing is None:
            sender_id = self.brevo_create(
                "POST /senders",
                lambda client: client.senders.create_sender(name=name, email=email),
                lambda: str(found["id"]) if (found := self._find(email)) else None,
                resource=resource,
            )
        else:
            sender_id = str(existing["id"])
            if existing.get("name") != name:
                self._rename(sender_id, name, resource)
        return CreateResult(sender_id, self._activate(sender_id, props))

    def _rename(self, sender_id: str, name: str, resource: str) -> None:
        self.brevo(
            f"PUT /senders/{sender_id}",
            lambda client: client.senders.update_sender(int(sender_id), name=name),
            resource=resource,
        )

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        if olds.get("name") != news["name"]:
            self._rename(id_, news["name"], f"{self.kind} {news['email']}")
        return UpdateResult(self._activate(id_, news))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        for sender in self._senders(props["email"]):
            if str(sender.get("id")) == id_:
                outs = {
                    "name": sender.get("name"),
                    "email": sender.get("email"),
                    "otp": props.get("otp"),
                    self.ID_OUTPUT: int(id_),
                    "active": bool(sender.get("active", False)),
                }
                return ReadResult(id_, outs, inputs_of(outs, self.INPUTS))
        return ReadResult("", {})

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        self.brevo(
            f"DELETE /senders/{id_}",
            lambda client: client.senders.delete_sender(int(id_)),
            resource=f"{self.kind} {props.get('email')}",
            missing_ok=True,
        )


class Sender(Resource, module="brevo", name="Sender"):
    sender_id: pulumi.Output[int]
    active: pulumi.Output[bool]

    def __init__(
        self,
        resource_name: str,
        *,
        name: pulumi.Input[str],
        email: pulumi.Input[str],
        otp: pulumi.Input[str] | None = None,
        provider: SenderProvider | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {"name": name, "email": email, "otp": otp, "sender_id": None, "active": None}
        opts = with_secret_outputs(opts, "otp")
        super().__init__(provider or SenderProvider(), resource_name, props, opts)


# ------------------------------------------------------------------------------------- TransactionalTemplate


class TransactionalTemplateProvider(BrevoProvider):
    kind = "transactional template"
    INPUTS = ("template_name", "subject", "html_content", "sender_name", "sender_email", "tag", "is_active")
    ID_OUTPUT = "template_id"

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures = required(news, ("template_name", "subject", "html_content", "sender_email"))
        html = news.get("html_content")
        if isinstance(html, str) and html and len(html) <= 10:
            # brevo/transactional_emails/raw_client.py create_smtp_template: "more than 10 characters".
            failures.append(CheckFailure("html_content", "html_content must have more than 10 characters"))
        return CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        return diff_inputs(olds, news, updatable=self.INPUTS)

    @staticmethod
    def fields(props: Mapping[str, Any]) -> dict[str, Any]:
        """The SDK's keyword arguments (create_smtp_template / update_smtp_template); no None is sent."""
        sender = {"email": props["sender_email"]}
        if props.get("sender_name"):
            sender["name"] = props["sender_name"]
        fields = {
            "template_name": props["template_name"],
            "subject": props["subject"],
            "html_content": props["html_content"],
            "sender": sender,
            # Brevo creates templates inactive unless told otherwise (create_smtp_template docstring).
            "is_active": bool(props.get("is_active", True)),
        }
        if props.get("tag"):
            fields["tag"] = props["tag"]
        return fields

    def _find(self, name: str) -> str | None:
        """The id of the template named `name` (names are not unique at Brevo: the oldest wins)."""
        offset, matches = 0, []
        while True:
            page = (
                self.brevo(
                    f"GET /smtp/templates?limit={TEMPLATE_PAGE_SIZE}&offset={offset}",
                    partial(_templates_page, offset=offset),
                    resource=f"{self.kind} {name}",
                )
                or {}
            )
            templates = page.get("templates") or []
            matches += [int(t["id"]) for t in templates if t.get("name") == name]
            offset += len(templates)
            if not templates or offset >= int(page.get("count") or 0):
                return str(min(matches)) if matches else None

    def _put(self, id_: str, fields: Mapping[str, Any], resource: str, *, missing_ok: bool = False) -> Any:
        return self.brevo(
            f"PUT /smtp/templates/{id_}",
            lambda client: client.transactional_emails.update_smtp_template(int(id_), **fields),
            resource=resource,
            missing_ok=missing_ok,
        )

    def create(self, props: dict[str, Any]) -> CreateResult:
        name = props["template_name"]
        resource = f"{self.kind} {name}"
        fields = self.fields(props)
        template_id = self._find(name)
        if template_id is not None:
            self._put(template_id, fields, resource)
        else:
            template_id = self.brevo_create(
                "POST /smtp/templates",
                lambda client: client.transactional_emails.create_smtp_template(**fields),
                lambda: self._find(name),
                resource=resource,
            )
        return CreateResult(template_id, {**inputs_of(props, self.INPUTS), self.ID_OUTPUT: int(template_id)})

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        self._put(id_, self.fields(news), f"{self.kind} {news['template_name']}")
        return UpdateResult({**inputs_of(news, self.INPUTS), self.ID_OUTPUT: int(id_)})

    def _get(self, id_: str, name: Any) -> dict[str, Any] | None:
        return self.brevo(
            f"GET /smtp/templates/{id_}",
            lambda client: client.transactional_emails.get_smtp_template(int(id_)),
            resource=f"{self.kind} {name}",
            missing_ok=True,
        )

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        template = self._get(id_, props.get("template_name"))
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
            self.ID_OUTPUT: int(id_),
        }
        return ReadResult(id_, outs, inputs_of(outs, self.INPUTS))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        """Deactivate, then delete: Brevo refuses to delete an active template with HTTP 405
        (brevo/transactional_emails/raw_client.py delete_smtp_template)."""
        resource = f"{self.kind} {props.get('template_name')}"
        template = self._get(id_, props.get("template_name"))
        if template is None:
            return
        if template.get("isActive"):
            self._put(id_, {"is_active": False}, resource, missing_ok=True)
        self.brevo(
            f"DELETE /smtp/templates/{id_}",
            lambda client: client.transactional_emails.delete_smtp_template(int(id_)),
            resource=resource,
            missing_ok=True,
        )


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


class WebhookProvider(BrevoProvider):
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
        # update_webhook has no `type` (brevo/webhooks/raw_client.py): a type change replaces the webhook.
        return diff_inputs(
            olds, news, updatable=("url", "events", "description", "auth_token"), replace_on=("type",)
        )

    @staticmethod
    def fields(props: Mapping[str, Any], *, create: bool) -> dict[str, Any]:
        """The SDK's keyword arguments for create_webhook / update_webhook."""
        fields: dict[str, Any] = {
            "url": props["url"],
            "events": list(props["events"]),
            "description": props.get("description") or "",
        }
        if props.get("auth_token"):
            fields["auth"] = {"type": "bearer", "token": props["auth_token"]}
        if create:
            fields |= {"type": props["type"], "channel": "email"}
        return fields

    def _find(self, url: str, type_: str) -> str | None:
        listing = self.brevo(
            f"GET /webhooks?type={type_}",
            lambda client: client.webhooks.get_webhooks(type=type_),
            resource=f"{self.kind} {url}",
        )
        ids = [int(h["id"]) for h in (listing or {}).get("webhooks") or [] if h.get("url") == url]
        return str(min(ids)) if ids else None

    def _put(self, id_: str, props: Mapping[str, Any]) -> None:
        fields = self.fields(props, create=False)
        self.brevo(
            f"PUT /webhooks/{id_}",
            lambda client: client.webhooks.update_webhook(int(id_), **fields),
            resource=f"{self.kind} {props['url']}",
        )

    def create(self, props: dict[str, Any]) -> CreateResult:
        url, type_ = props["url"], props["type"]
        hook_id = self._find(url, type_)
        if hook_id is not None:
            self._put(hook_id, props)
        else:
            fields = self.fields(props, create=True)
            hook_id = self.brevo_create(
                "POST /webhooks",
                lambda client: client.webhooks.create_webhook(**fields),
                lambda: self._find(url, type_),
                resource=f"{self.kind} {url}",
            )
        return CreateResult(hook_id, {**inputs_of(props, self.INPUTS), self.ID_OUTPUT: int(hook_id)})

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        self._put(id_, news)
        return UpdateResult({**inputs_of(news, self.INPUTS), self.ID_OUTPUT: int(id_)})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        hook = self.brevo(
            f"GET /webhooks/{id_}",
            lambda client: client.webhooks.get_webhook(int(id_)),
            resource=f"{self.kind} {props.get('url')}",
            missing_ok=True,
        )
        if hook is None:
            return ReadResult("", {})
        events = hook.get("events") or []
        if sorted(events) == sorted(props.get("events") or []):
            events = list(props["events"])  # the same set in Brevo's order is no change
        outs = {
            # The bearer token is write-only for us (brevo/types/get_webhook.py `auth` is an untyped dict).
            "auth_token": props.get("auth_token"),
            "url": hook.get("url"),
            "type": hook.get("type"),
            "events": events,
            "description": hook.get("description"),
            self.ID_OUTPUT: int(id_),
        }
        return ReadResult(id_, outs, inputs_of(outs, self.INPUTS))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        self.brevo(
            f"DELETE /webhooks/{id_}",
            lambda client: client.webhooks.delete_webhook(int(id_)),
            resource=f"{self.kind} {props.get('url')}",
            missing_ok=True,
        )


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
        account = (
            self.brevo("GET /account", lambda client: client.account.get_account(), resource=self.kind) or {}
        )
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
