"""A stateful in-process Brevo API v3 (https://api.brevo.com/v3/) for the infra tests and `nexk infra rehearse`.

It is an `httpx.BaseTransport`, mounted into the Brevo SDK's httpx client by
`infra.providers.transport.routed_to(httpx_routes=sim.routes())`, so the providers run their real code path
(brevo-python 5.x, `brevo.Brevo(httpx_client=transport.httpx_client())`) against it. Every request is checked
against the installed SDK's operations (`infra/rehearsal/brevo_contract.py`: unknown endpoint -> 404, a body
field the SDK does not send or a missing required one -> 400) and recorded with
`vendor_calls.record("brevo", ...)` under its full vendor URL (a webhook's bearer token as "[redacted]"; a
dropped connection as status 0, no answer).

Public API (what the rehearsal uses):

    sim = BrevoSimulator()                       # empty account, SMTP relay enabled, virtual clock at 0
    with sim.installed():                        # routes https://api.brevo.com/v3/ here and makes the
        ...                                      # providers' waits advance sim.clock instead of sleeping
    sim.routes()                                 # {"https://api.brevo.com/v3/": sim}, for routed_to()
    with sim.virtual_waits(): ...                # only the waits, when the caller routes itself
    sim.publish_dns("mail.nexk-it.com")          # ops publish the domain's records: Brevo now sees them
    sim.otp_for(sender_id)                       # the 6-digit code Brevo e-mailed to the sender's address
    sim.fail_next("POST", "smtp/templates", "5xx_after_commit")   # fault kinds: see FAULTS
    sim.rate_limit_burst(3, reset_seconds=30)    # the next 3 requests get 429 + x-sib-ratelimit-* headers
    # changes made in Brevo's web UI, outside Pulumi (seen by `pulumi refresh` as drift):
    sim.edit_template_in_ui(template_id, subject="...", is_active=False)
    sim.delete_webhook_in_ui(webhook_id); sim.rename_sender_in_ui(sender_id, "...")
    sim.validate_sender_in_ui(sender_id)         # ops typed the OTP in Brevo > Senders instead
    sim.domains / sim.senders / sim.templates / sim.webhooks   # the account's objects, to assert on
    sim.clock.now                                # virtual seconds waited so far

Each documented behaviour names where Brevo documents it: the SDK file (brevo-python 5.1.0, generated from
Brevo's API definition) and/or the developers.brevo.com reference page.
"""

from __future__ import annotations

import contextlib
import copy
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

import httpx

from infra.rehearsal import vendor_calls
from infra.rehearsal.brevo_contract import BASE_URL, SdkOperation, operation_for

PREFIX = BASE_URL + "/"
# Injectable faults: the request fails after (…_after_commit) or before Brevo applied it.
FAULTS = ("5xx", "5xx_after_commit", "drop", "drop_after_commit")


@dataclass
class VirtualClock:
    """Seconds that passed in the simulated world; waits advance it instead of sleeping."""

    now: float = 0.0

    def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)


@dataclass
class _Fault:
    method: str
    path: str  # an SDK path template, e.g. "smtp/templates" or "smtp/templates/{template_id}"
    kind: str
    count: int


@dataclass
class _RateLimit:
    """A fixed window like Brevo's (developers.brevo.com/docs/api-limits: requests per second/hour)."""

    limit: int = 10
    burst: int = 0  # requests still to be refused
    reset_at: float = 0.0


class BrevoError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _redacted(body: Any) -> Any:
    """The body for the shared record: a webhook's bearer token is shown as sent, never its value."""
    if isinstance(body, dict) and isinstance(body.get("auth"), dict) and body["auth"].get("token"):
        return {**body, "auth": {**body["auth"], "token": "[redacted]"}}
    return body


def _timestamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


@dataclass
class BrevoSimulator(httpx.BaseTransport):
    relay_enabled: bool = True
    api_key: str | None = None  # when set, any other key is refused with 401 (None: any key is accepted)
    clock: VirtualClock = field(default_factory=VirtualClock)
    domains: dict[str, dict[str, Any]] = field(default_factory=dict)
    senders: dict[int, dict[str, Any]] = field(default_factory=dict)
    templates: dict[int, dict[str, Any]] = field(default_factory=dict)
    webhooks: dict[int, dict[str, Any]] = field(default_factory=dict)
    requests: list[tuple[str, str, Any, int]] = field(default_factory=list)  # (method, url, body, status)

    def __post_init__(self) -> None:
        self._ids = iter(range(1, 1_000_000))
        self._published: set[str] = set()
        self._otps: dict[int, int] = {}
        self._faults: list[_Fault] = []
        self._rate = _RateLimit()
        self._random = random.Random(11)  # noqa: S311 (fixture data, not security)

    # ------------------------------------------------------------------------------------------ public API

    def routes(self) -> dict[str, httpx.BaseTransport]:
        return {PREFIX: self}

    @contextlib.contextmanager
    def virtual_waits(self) -> Iterator[VirtualClock]:
        """While the block runs, the Brevo providers' waits (429 resets, backoff) advance `self.clock`."""
        from infra.providers import brevo as brevo_providers

        saved = brevo_providers.sleep
        brevo_providers.sleep = self.clock.sleep
        try:
            yield self.clock
        finally:
            brevo_providers.sleep = saved

    @contextlib.contextmanager
    def installed(self) -> Iterator[BrevoSimulator]:
        """Route Brevo here (`routed_to`, nestable with other vendors' routes) with virtual waits."""
        from infra.providers.transport import routed_to

        with routed_to(httpx_routes=self.routes()), self.virtual_waits():
            yield self

    def publish_dns(self, domain: str) -> None:
        """Ops (or Vercel DNS) published the domain's records: Brevo's next check sees them."""
        self._published.add(domain)

    def otp_for(self, sender_id: int) -> int:
        """The code Brevo e-mailed to the sender's address when it was created (what ops read in that inbox)."""
        return self._otps[sender_id]

    def fail_next(self, method: str, path: str, kind: str, count: int = 1) -> None:
        if kind not in FAULTS:
            raise ValueError(f"unknown fault {kind!r}: one of {FAULTS}")
        self._faults.append(_Fault(method.upper(), path.strip("/"), kind, count))

    def rate_limit_burst(self, count: int, *, reset_seconds: float, limit: int = 10) -> None:
        """The next `count` requests are refused with 429 until `reset_seconds` of virtual time have passed."""
        self._rate = _RateLimit(limit=limit, burst=count, reset_at=self.clock.now + reset_seconds)

    def edit_template_in_ui(self, template_id: int, **changes: Any) -> None:
        names = {"subject": "subject", "html_content": "htmlContent", "is_active": "isActive", "tag": "tag"}
        for key, value in changes.items():
            self.templates[template_id][names[key]] = value

    def delete_webhook_in_ui(self, webhook_id: int) -> None:
        del self.webhooks[webhook_id]

    def rename_sender_in_ui(self, sender_id: int, name: str) -> None:
        self.senders[sender_id]["name"] = name

    def validate_sender_in_ui(self, sender_id: int) -> None:
        self.senders[sender_id]["active"] = True

    # ------------------------------------------------------------------------------------------- transport

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        body = vendor_calls.decode_body(request.content)
        path = request.url.path.removeprefix("/v3").strip("/")
        query = dict(parse_qsl(request.url.query.decode()))
        operation = operation_for(request.method, path)
        fault = self._take_fault(request.method, operation)
        if fault and fault.kind == "drop":
            self._record(request.method, url, body, 0)
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            )
        limited = self._rate_limited()
        if limited is not None:
            return self._respond(request.method, url, body, limited)
        try:
            key = request.headers.get("api-key")
            if not key or (self.api_key is not None and key != self.api_key):
                # developers.brevo.com/reference (Authentication): the `api-key` header is required; the SDK
                # raises UnauthorizedError (brevo/errors/unauthorized_error.py) on 401.
                raise BrevoError(401, "unauthorized", "Key not found")
            if operation is None:
                raise BrevoError(404, "document_not_found", f"no such endpoint {request.method} /v3/{path}")
            self._validate(operation, body, query)
            if fault and fault.kind == "5xx":
                # Before commit: the gateway failed and Brevo never applied the request.
                raise BrevoError(502, "internal_error", "Bad gateway")
            status, answer = self._dispatch(operation, path, body, query)
        except BrevoError as error:
            status, answer = error.status, {"code": error.code, "message": error.message}
        if fault and fault.kind == "drop_after_commit":
            self._record(request.method, url, body, 0)
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            )
        if fault and fault.kind == "5xx_after_commit" and status < 300:
            # 5xx_after_commit: the object exists although the client sees a gateway error.
            status, answer = 502, {"code": "internal_error", "message": "Bad gateway"}
        return self._respond(request.method, url, body, (status, answer, {}))

    def _take_fault(self, method: str, operation: SdkOperation | None) -> _Fault | None:
        for fault in self._faults:
            if operation is not None and fault.method == method and fault.path == operation.path:
                fault.count -= 1
                if fault.count <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    def _rate_limited(self) -> tuple[int, Any, dict[str, str]] | None:
        # developers.brevo.com/docs/limit-headers: rate-limited endpoints answer 429 with
        # x-sib-ratelimit-limit, x-sib-ratelimit-remaining and x-sib-ratelimit-reset (seconds until the reset).
        rate = self._rate
        if rate.burst <= 0:
            return None
        remaining_seconds = rate.reset_at - self.clock.now
        if remaining_seconds <= 0:
            rate.burst = 0
            return None
        rate.burst -= 1
        headers = {
            "x-sib-ratelimit-limit": str(rate.limit),
            "x-sib-ratelimit-remaining": "0",
            "x-sib-ratelimit-reset": str(max(1, round(remaining_seconds))),
        }
        return 429, {"code": "too_many_requests", "message": "Too many requests"}, headers

    def _respond(
        self, method: str, url: str, body: Any, result: tuple[int, Any, dict[str, str]]
    ) -> httpx.Response:
        status, answer, headers = result
        self._record(method, url, body, status)
        if answer is None:
            return httpx.Response(status, headers=headers)
        return httpx.Response(status, json=answer, headers=headers)

    def _record(self, method: str, url: str, body: Any, status: int) -> None:
        self.requests.append((method, url, body, status))
        vendor_calls.record("brevo", method, url, _redacted(body), status)

    @staticmethod
    def _validate(operation: SdkOperation, body: Any, query: dict[str, str]) -> None:
        """Refuse what the SDK would never send: unknown body fields or query parameters, missing required ones."""
        unknown_query = sorted(set(query) - set(operation.query))
        if unknown_query:
            raise BrevoError(400, "invalid_parameter", f"unknown query parameters {unknown_query}")
        if operation.body:
            if not isinstance(body, dict):
                raise BrevoError(400, "missing_parameter", "a JSON object body is required")
            unknown = sorted(set(body) - set(operation.body))
            missing = sorted(key for key, required in operation.body.items() if required and key not in body)
            if unknown:
                raise BrevoError(400, "invalid_parameter", f"unknown body fields {unknown}")
            if missing:
                raise BrevoError(400, "missing_parameter", f"missing required body fields {missing}")
        elif body not in (None, {}):
            raise BrevoError(400, "invalid_parameter", f"{operation.name} takes no body")

    def _dispatch(
        self, operation: SdkOperation, path: str, body: Any, query: dict[str, str]
    ) -> tuple[int, Any]:
        handler = getattr(self, f"_{operation.name}", None)
        if handler is None:
            raise BrevoError(404, "document_not_found", f"{operation.name} is not simulated")
        segments = path.split("/")
        template = operation.path.split("/")
        params = {t[1:-1]: s for t, s in zip(template, segments, strict=True) if t.startswith("{")}
        return handler(body=body or {}, query=query, **params)

    def _new_id(self) -> int:
        return next(self._ids)

    # -------------------------------------------------------------------------------------------- account

    def _get_account(self, **_: Any) -> tuple[int, Any]:
        # brevo/account/types/get_account_response*.py: relay {enabled, data {userName, relay, port}}.
        return 200, {
            "email": "it@nexk-it.com",
            "firstName": "NexK",
            "lastName": "IT",
            "companyName": "NexK IT Solutions",
            "address": {"street": "Rue Neuve 1", "city": "Brussels", "zipCode": "1000", "country": "Belgium"},
            "plan": [{"type": "free", "creditsType": "sendLimit", "credits": 300}],
            "relay": {
                "enabled": self.relay_enabled,
                "data": {
                    "userName": "8a1b2c001@smtp-brevo.com",
                    "relay": "smtp-relay.brevo.com",
                    "port": 587,
                },
            },
        }

    # -------------------------------------------------------------------------------------------- domains

    def _domain(self, name: str) -> dict[str, Any]:
        domain = self.domains.get(name)
        if domain is None:
            # brevo/domains/raw_client.py get_domain_configuration/delete_domain/authenticate_domain: 404.
            raise BrevoError(404, "document_not_found", "Domain does not exist")
        return domain

    def _records(self, name: str) -> dict[str, dict[str, Any]]:
        # Host names relative to the registered domain, as developers.brevo.com/docs/domain-authentication-and-
        # verification shows them ("mail._domainkey." ...); `status` is whether Brevo sees the record.
        sub = name.split(".", 1)[0] if name.count(".") >= 2 else ""
        suffix = f".{sub}" if sub else ""
        seen = name in self._published
        domain = self.domains[name]
        return {
            "brevo_code": {
                "type": "TXT",
                "value": f"brevo-code:{domain['code']}",
                "host_name": sub or "@",
                "status": seen,
            },
            "dkim_record": {
                "type": "TXT",
                "value": f"k=rsa;p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQ{domain['code']}",
                "host_name": f"mail._domainkey{suffix}",
                "status": seen,
            },
            "dmarc_record": {
                "type": "TXT",
                "value": "v=DMARC1; p=none; rua=mailto:rua@dmarc.brevo.com",
                "host_name": f"_dmarc{suffix}",
                "status": seen,
            },
        }

    def _get_domains(self, **_: Any) -> tuple[int, Any]:
        items = [
            {
                "id": str(domain["id"]),
                "domain_name": name,
                "authenticated": domain["authenticated"],
                "verified": domain["verified"],
                "ip": None,
                "provider": "unknown",
                "creator": {"id": "1", "email": "it@nexk-it.com", "creationDate": domain["created_at"]},
            }
            for name, domain in self.domains.items()
        ]
        return 200, {"domains": items, "count": len(items), "current_page": 1, "total_pages": 1}

    def _create_domain(self, body: dict[str, Any], **_: Any) -> tuple[int, Any]:
        name = str(body["name"]).lower()
        if name in self.domains:
            # brevo/types/bad_request_error_body_code.py: "Domain already exists in your account" (400).
            raise BrevoError(400, "duplicate_parameter", "Domain already exists in your account")
        self.domains[name] = {
            "id": self._new_id(),
            "code": f"{self._random.getrandbits(64):016x}",
            "authenticated": False,
            "verified": False,
            "created_at": _timestamp(),
        }
        # brevo/domains/types/create_domain_response.py: id, domain_name, message, dns_records.
        return 201, {
            "id": self.domains[name]["id"],
            "domain_name": name,
            "domain_provider": "unknown",
            "message": "Domain added. Add the DNS records below, then authenticate the domain.",
            "dns_records": self._records(name),
        }

    def _get_domain_configuration(self, domain_name: str, **_: Any) -> tuple[int, Any]:
        domain = self._domain(domain_name)
        # brevo/domains/types/get_domain_configuration_response.py
        return 200, {
            "domain": domain_name,
            "verified": domain["verified"],
            "authenticated": domain["authenticated"],
            "dns_records": self._records(domain_name),
        }

    def _delete_domain(self, domain_name: str, **_: Any) -> tuple[int, Any]:
        self._domain(domain_name)
        del self.domains[domain_name]
        return 204, None

    def _authenticate_domain(self, domain_name: str, **_: Any) -> tuple[int, Any]:
        domain = self._domain(domain_name)
        if domain_name not in self._published:
            # brevo/domains/raw_client.py authenticate_domain raises BadRequestError (400);
            # brevo/types/bad_request_error_body_code.py lists "DNS records not properly configured".
            raise BrevoError(400, "invalid_parameter", "DNS records not properly configured")
        domain["authenticated"] = domain["verified"] = True
        # brevo/domains/types/authenticate_domain_response.py: domain_name, message.
        return 200, {"domain_name": domain_name, "message": "Domain has been authenticated successfully."}

    # -------------------------------------------------------------------------------------------- senders

    def _sender(self, sender_id: str) -> dict[str, Any]:
        sender = self.senders.get(int(sender_id)) if sender_id.isdigit() else None
        if sender is None:
            # brevo/senders/raw_client.py update_sender/delete_sender/validate_sender_by_otp: NotFoundError.
            raise BrevoError(404, "document_not_found", "Sender ID does not exist")
        return sender

    def _get_senders(self, query: dict[str, str], **_: Any) -> tuple[int, Any]:
        # brevo/senders/types/get_senders_response_senders_item.py: id, name, email, active, ips.
        domain = query.get("domain")
        senders = [
            {"id": sender_id, **copy.deepcopy(sender)}
            for sender_id, sender in self.senders.items()
            if domain is None or sender["email"].split("@", 1)[1] == domain
        ]
        return 200, {"senders": senders}

    def _create_sender(self, body: dict[str, Any], **_: Any) -> tuple[int, Any]:
        email = str(body["email"]).lower()
        if any(sender["email"] == email for sender in self.senders.values()):
            # Assumed: Brevo refuses a second sender with the same address (400, duplicate_parameter); the
            # reference page lists 400 for create-sender without naming this case.
            raise BrevoError(400, "duplicate_parameter", "Sender already exists")
        sender_id = self._new_id()
        # developers.brevo.com/reference/create-sender: "A verification email will be sent to this address";
        # "Sender must be verified before use". The 6-digit code goes to PUT /senders/{id}/validate.
        self.senders[sender_id] = {"name": body["name"], "email": email, "active": False, "ips": []}
        self._otps[sender_id] = self._random.randint(100000, 999999)
        domain = self.domains.get(email.split("@", 1)[1], {})
        # brevo/senders/types/create_sender_response.py: id, spfError, dkimError.
        return 201, {"id": sender_id, "spfError": False, "dkimError": not domain.get("authenticated", False)}

    def _update_sender(self, sender_id: str, body: dict[str, Any], **_: Any) -> tuple[int, Any]:
        sender = self._sender(sender_id)
        if "name" in body:
            sender["name"] = body["name"]
        if "email" in body and body["email"].lower() != sender["email"]:
            sender["email"], sender["active"] = body["email"].lower(), False
        return 204, None

    def _delete_sender(self, sender_id: str, **_: Any) -> tuple[int, Any]:
        self._sender(sender_id)
        del self.senders[int(sender_id)]
        return 204, None

    def _validate_sender_by_otp(self, sender_id: str, body: dict[str, Any], **_: Any) -> tuple[int, Any]:
        sender = self._sender(sender_id)
        if body.get("otp") != self._otps.get(int(sender_id)):
            # brevo/types/bad_request_error_body_code.py: "Invalid OTP code provided" (400).
            raise BrevoError(400, "invalid_parameter", "Invalid OTP code provided")
        sender["active"] = True
        # developers.brevo.com/reference/validate-sender-by-otp: 204 "Sender verified successfully".
        return 204, None

    # ------------------------------------------------------------------------------------------ templates

    def _template(self, template_id: str) -> dict[str, Any]:
        template = self.templates.get(int(template_id)) if template_id.isdigit() else None
        if template is None:
            # brevo/transactional_emails/raw_client.py get/update/delete_smtp_template: NotFoundError.
            raise BrevoError(404, "document_not_found", "Template ID does not exist")
        return template

    def _get_smtp_templates(self, query: dict[str, str], **_: Any) -> tuple[int, Any]:
        # brevo/transactional_emails/raw_client.py get_smtp_templates: "Results default to 50 per page (max
        # 1000) and are sorted in descending creation order unless overridden"; templateStatus filters.
        limit, offset = int(query.get("limit", 50)), int(query.get("offset", 0))
        if not 0 <= limit <= 1000:
            raise BrevoError(400, "out_of_range", "limit must be between 0 and 1000")
        items = [{"id": template_id, **copy.deepcopy(t)} for template_id, t in self.templates.items()]
        if "templateStatus" in query:
            wanted = query["templateStatus"] == "true"
            items = [item for item in items if item["isActive"] is wanted]
        items.sort(key=lambda item: item["id"], reverse=query.get("sort", "desc") == "desc")
        return 200, {"count": len(items), "templates": items[offset : offset + limit]}

    def _create_smtp_template(self, body: dict[str, Any], **_: Any) -> tuple[int, Any]:
        html = body.get("htmlContent")
        if not html and not body.get("htmlUrl"):
            raise BrevoError(400, "missing_parameter", "htmlContent or htmlUrl is required")
        if html is not None and len(html) <= 10:
            # create_smtp_template: "htmlContent (minimum 10 characters)" / "must have more than 10 characters".
            raise BrevoError(400, "invalid_parameter", "htmlContent must have more than 10 characters")
        sender = body["sender"]
        if not isinstance(sender, dict) or ("email" in sender) == ("id" in sender):
            # CreateSmtpTemplateRequestSender: "Only one of either Sender's email or Sender's ID".
            raise BrevoError(400, "invalid_parameter", "sender needs exactly one of email or id")
        template_id = self._new_id()
        now = _timestamp()
        # Template names are not unique at Brevo (nothing in the SDK or the reference says they are): a
        # retried create makes a second template, which is why the provider adopts by name.
        self.templates[template_id] = {
            "name": body["templateName"],
            "subject": body["subject"],
            "htmlContent": html or "",
            "sender": {"name": sender.get("name"), "email": sender.get("email"), "id": None},
            "replyTo": body.get("replyTo", ""),
            "toField": body.get("toField", ""),
            "tag": body.get("tag", ""),
            # create_smtp_template: "Templates are created as inactive by default unless isActive is
            # explicitly set to true".
            "isActive": bool(body.get("isActive", False)),
            "testSent": False,
            "createdAt": now,
            "modifiedAt": now,
        }
        return 201, {"id": template_id}  # brevo/transactional_emails/types/create_smtp_template_response.py

    def _get_smtp_template(self, template_id: str, **_: Any) -> tuple[int, Any]:
        return 200, {"id": int(template_id), **copy.deepcopy(self._template(template_id))}

    def _update_smtp_template(self, template_id: str, body: dict[str, Any], **_: Any) -> tuple[int, Any]:
        template = self._template(template_id)
        names = {"templateName": "name"}
        for key, value in body.items():
            if key == "sender":
                template["sender"] = {"name": value.get("name"), "email": value.get("email"), "id": None}
            else:
                template[names.get(key, key)] = value
        template["modifiedAt"] = _timestamp()
        return 204, None

    def _delete_smtp_template(self, template_id: str, **_: Any) -> tuple[int, Any]:
        template = self._template(template_id)
        if template["isActive"]:
            # brevo/transactional_emails/raw_client.py delete_smtp_template: "Only inactive templates can be
            # deleted; attempting to delete an active template returns a 405 error."
            raise BrevoError(405, "method_not_allowed", "Active template cannot be deleted")
        del self.templates[int(template_id)]
        return 204, None

    # ------------------------------------------------------------------------------------------- webhooks

    def _webhook(self, webhook_id: str) -> dict[str, Any]:
        hook = self.webhooks.get(int(webhook_id)) if webhook_id.isdigit() else None
        if hook is None:
            # brevo/webhooks/raw_client.py get_webhook/update_webhook/delete_webhook: NotFoundError.
            raise BrevoError(404, "document_not_found", "Webhook ID does not exist")
        return hook

    def _get_webhooks(self, query: dict[str, str], **_: Any) -> tuple[int, Any]:
        # brevo/webhooks/raw_client.py get_webhooks: filter `type` (default transactional per the reference
        # page developers.brevo.com/reference/get-webhooks), `sort` on creation.
        wanted = query.get("type", "transactional")
        items = [
            {"id": hook_id, **copy.deepcopy(hook)}
            for hook_id, hook in self.webhooks.items()
            if hook["type"] == wanted
        ]
        items.sort(key=lambda item: item["id"], reverse=query.get("sort", "desc") == "desc")
        return 200, {"webhooks": items}

    @staticmethod
    def _check_events(type_: str, events: list[str]) -> None:
        # brevo/webhooks/raw_client.py create_webhook: the possible events per type.
        allowed = {
            "transactional": {
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
            },
            "marketing": {
                "spam",
                "opened",
                "click",
                "hardBounce",
                "softBounce",
                "unsubscribed",
                "listAddition",
                "delivered",
                "contactUpdated",
                "contactDeleted",
            },
            "inbound": {"inboundEmailProcessed", "reply"},
        }[type_]
        unknown = sorted(set(events) - allowed)
        if unknown:
            raise BrevoError(400, "invalid_parameter", f"events {unknown} are not valid for {type_} webhooks")

    def _create_webhook(self, body: dict[str, Any], **_: Any) -> tuple[int, Any]:
        type_ = body.get("type", "transactional")
        if type_ not in ("transactional", "marketing", "inbound"):
            raise BrevoError(400, "invalid_parameter", f"unknown webhook type {type_!r}")
        events = body.get("events") or []
        if type_ != "inbound" and not events:
            # create_webhook: events "Required for transactional and marketing types".
            raise BrevoError(400, "missing_parameter", "events is required")
        self._check_events(type_, events)
        hook_id = self._new_id()
        now = _timestamp()
        self.webhooks[hook_id] = {
            "url": body["url"],
            "description": body.get("description", ""),
            "events": list(events),
            "type": type_,
            "channel": body.get("channel", "email"),
            "auth": body.get("auth"),
            "headers": body.get("headers", []),
            "batched": bool(body.get("batched", False)),
            "createdAt": now,
            "modifiedAt": now,
        }
        return 201, {"id": hook_id}  # brevo/webhooks/types/create_webhook_response.py

    def _get_webhook(self, webhook_id: str, **_: Any) -> tuple[int, Any]:
        hook = {"id": int(webhook_id), **copy.deepcopy(self._webhook(webhook_id))}
        hook.pop("channel", None)  # brevo/types/get_webhook.py has no channel
        return 200, hook

    def _update_webhook(self, webhook_id: str, body: dict[str, Any], **_: Any) -> tuple[int, Any]:
        hook = self._webhook(webhook_id)
        if "events" in body:
            self._check_events(hook["type"], body["events"])
        hook.update(body)
        hook["modifiedAt"] = _timestamp()
        return 204, None

    def _delete_webhook(self, webhook_id: str, **_: Any) -> tuple[int, Any]:
        self._webhook(webhook_id)
        del self.webhooks[int(webhook_id)]
        return 204, None
