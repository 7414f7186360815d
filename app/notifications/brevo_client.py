"""The portal's runtime client for Brevo's transactional e-mail API (v3, header `api-key`).

Only two calls: `POST /smtp/email` (send one templated e-mail) and `GET /smtp/statistics/events` (did an
e-mail carrying our outbox tag reach Brevo?). Every send carries the outbox row id three ways:
- `headers.idempotencyKey` (Brevo processes a request once per key for 15-30 minutes; the key is a UUID);
- `headers.X-Mailin-custom` (echoed in every webhook event: the webhook finds the row even before we know
  Brevo's message id);
- the first tag (filterable in the events log: how the outbox checks an ambiguous attempt before resending).

Outcomes are classified for the outbox: `Accepted` (Brevo has it), `NotSent` (it certainly does not: no
connection, 4xx, 429) and `Unknown` (it may: timeout after the request left, 5xx, dropped connection).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx

from app.tls import https_client

BREVO_API_URL = "https://api.brevo.com/v3"
NOT_ACCEPTED_STATUSES = frozenset({400, 401, 403, 404, 405, 409, 422, 429})
# Authentication and authorisation errors are configuration problems: retried, so fixing the key drains the queue.
RETRYABLE_CLIENT_ERRORS = frozenset({401, 403, 429})


def notification_tag(notification_id: uuid.UUID | str) -> str:
    return f"nexk-notification-{notification_id}"


def custom_header(notification_id: uuid.UUID | str) -> str:
    return f"nexk-notification:{notification_id}"


@dataclass(frozen=True)
class Email:
    notification_id: uuid.UUID
    template: str  # the provisioned template name, mynexk.<template>.<language>
    template_id: int | None
    to_email: str
    to_name: str | None
    params: dict[str, str]
    kind: str


@dataclass(frozen=True)
class Accepted:
    message_id: str


@dataclass(frozen=True)
class NotSent:
    error: str
    retryable: bool = True
    retry_after: timedelta | None = None


@dataclass(frozen=True)
class Unknown:
    error: str


SendOutcome = Accepted | NotSent | Unknown


class LookupFailedError(Exception):
    """Brevo's events log could not be asked; the caller must not resend blindly."""


def _retry_after(response: httpx.Response) -> timedelta | None:
    value = response.headers.get("Retry-After", "")
    return timedelta(seconds=int(value)) if value.isdigit() else None


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:300] or response.reason_phrase
    if isinstance(body, dict):
        return str(body.get("message") or body.get("code") or body)[:300]
    return str(body)[:300]


@dataclass
class BrevoClient:
    api_key: str = field(repr=False)
    base_url: str = BREVO_API_URL
    timeout: httpx.Timeout = field(default_factory=lambda: httpx.Timeout(10.0, connect=5.0))
    transport: httpx.BaseTransport | None = None

    def __post_init__(self) -> None:
        # TLS 1.3 only, certificate verified (app/tls.py); `transport` (tests' fault injection) replaces it.
        self._http = https_client(
            base_url=self.base_url.rstrip("/"),
            headers={"api-key": self.api_key, "accept": "application/json"},
            timeout=self.timeout,
            transport=self.transport,
        )

    def close(self) -> None:
        self._http.close()

    def payload(self, email: Email) -> dict[str, Any]:
        if email.template_id is None:
            raise ValueError(f"no Brevo template id for {email.template} (BREVO_TEMPLATE_IDS)")
        recipient: dict[str, str] = {"email": email.to_email}
        if email.to_name:
            recipient["name"] = email.to_name
        return {
            "templateId": email.template_id,
            "to": [recipient],
            "params": email.params,
            "tags": [notification_tag(email.notification_id), email.kind],
            "headers": {
                "idempotencyKey": str(email.notification_id),
                "X-Mailin-custom": custom_header(email.notification_id),
            },
        }

    def send(self, email: Email) -> SendOutcome:
        try:
            response = self._http.post("/smtp/email", json=self.payload(email))
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            return NotSent(f"Brevo unreachable: {type(exc).__name__}: {exc}")
        except httpx.TransportError as exc:  # read/write timeout, reset after the request left
            return Unknown(f"no answer from Brevo: {type(exc).__name__}: {exc}")
        if response.status_code in (200, 201, 202):
            try:
                message_id = str(response.json().get("messageId") or "")
            except (ValueError, AttributeError):
                message_id = ""
            return Accepted(message_id or f"<unknown:{email.notification_id}>")
        if response.status_code in NOT_ACCEPTED_STATUSES:
            return NotSent(
                f"Brevo refused the e-mail: HTTP {response.status_code}: {_message(response)}",
                retryable=response.status_code in RETRYABLE_CLIENT_ERRORS,
                retry_after=_retry_after(response),
            )
        return Unknown(f"Brevo answered HTTP {response.status_code}: {_message(response)}")

    def find_message(self, notification_id: uuid.UUID, to_email: str, since: date) -> str | None:
        """Brevo's message id of the e-mail tagged with this outbox id, or None if Brevo has no trace of it."""
        days = max(1, min(90, (date.today() - since).days + 2))
        try:
            response = self._http.get(
                "/smtp/statistics/events",
                params={
                    "tags": json.dumps([notification_tag(notification_id)]),
                    "email": to_email,
                    "days": days,
                    "limit": 100,
                },
            )
        except httpx.TransportError as exc:
            raise LookupFailedError(f"Brevo events log unreachable: {exc}") from exc
        if response.status_code != 200:
            raise LookupFailedError(f"Brevo events log: HTTP {response.status_code}: {_message(response)}")
        tag = notification_tag(notification_id)
        for event in (response.json() or {}).get("events") or []:
            tags = event.get("tags") or [event.get("tag") or ""]
            if any(tag in str(t) for t in tags):
                return str(event.get("messageId") or f"<unknown:{notification_id}>")
        return None
