"""Notification kinds -> the Brevo templates the infrastructure provisions (app/notifications/emails/), and the
parameters each needs, rendered in the recipient's language.

The outbox stores raw facts (ticket id, subject, status, first name, due time); links, references and
localized labels are rendered here at send time, so a portal domain or wording change needs no data fix.
"""

from __future__ import annotations

import functools
import json
import os
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime

from app.notifications.catalog import TEMPLATES_DIR, TemplateError, load_templates

LANGUAGES = ("en", "fr", "nl")
DISPLAY_TIME_ZONE = ZoneInfo("Europe/Brussels")

# Kind (what happened) -> template (what Brevo sends). A new ticket has two audiences: the requester's
# acknowledgement (`ticket_created`) and the organization's agents (`ticket_created_agent`). An SLA warning
# (`sla_at_risk`, "due at") and a breach (`sla_breach`, "breached at") are separate e-mails.
KIND_TEMPLATE: dict[str, str] = {
    "ticket_created": "ticket_created",
    "ticket_created_agent": "ticket_created_agent",
    "agent_reply": "agent_reply",
    "client_reply": "client_reply",
    "status_changed": "status_changed",
    "ticket_resolved": "ticket_resolved",
    "sla_warning": "sla_at_risk",
    "sla_breach": "sla_breach",
}

STATUS_LABELS: dict[str, dict[str, str]] = {
    "en": {
        "new": "new",
        "open": "open",
        "pending": "waiting for you",
        "resolved": "resolved",
        "closed": "closed",
    },
    "fr": {
        "new": "nouveau",
        "open": "ouvert",
        "pending": "en attente de votre réponse",
        "resolved": "résolu",
        "closed": "clôturé",
    },
    "nl": {
        "new": "nieuw",
        "open": "open",
        "pending": "wacht op uw antwoord",
        "resolved": "opgelost",
        "closed": "gesloten",
    },
}
PRIORITY_LABELS: dict[str, dict[str, str]] = {
    "en": {"low": "low", "normal": "normal", "high": "high", "urgent": "urgent"},
    "fr": {"low": "basse", "normal": "normale", "high": "haute", "urgent": "urgente"},
    "nl": {"low": "laag", "normal": "normaal", "high": "hoog", "urgent": "dringend"},
}


def ticket_ref(ticket_id: uuid.UUID | str) -> str:
    """The short reference shown in e-mails (and, ideally, in the portal): NX- and 8 hex digits."""
    return "NX-" + uuid.UUID(str(ticket_id)).hex[:8].upper()


def template_name(template: str, language: str) -> str:
    """The Brevo template name infra provisions (app.notifications.catalog.EmailTemplate.template_name)."""
    return f"mynexk.{template}.{language}"


@functools.lru_cache(maxsize=1)
def required_params() -> dict[tuple[str, str], frozenset[str]]:
    """(template, language) -> the `{{ params.X }}` names its subject and body use."""
    return {(t.notification, t.language): t.params for t in load_templates(TEMPLATES_DIR)}


def template_ids_from_env(value: str | None = None) -> dict[str, int]:
    """BREVO_TEMPLATE_IDS (set by infra on the portal): {"mynexk.agent_reply.fr": 12, ...}."""
    raw = value if value is not None else os.environ.get("BREVO_TEMPLATE_IDS", "")
    if not raw:
        return {}
    try:
        ids = json.loads(raw)
        return {str(name): int(template_id) for name, template_id in ids.items()}
    except (ValueError, AttributeError, TypeError) as exc:
        raise TemplateError(
            f"BREVO_TEMPLATE_IDS must be a JSON object of template name -> id (as `pulumi up` sets it): {exc}"
        ) from exc


def _due(value: Any, language: str) -> str:
    moment = datetime.fromisoformat(str(value))
    return format_datetime(moment, "d MMM y, HH:mm", tzinfo=DISPLAY_TIME_ZONE, locale=language)


def render_params(template: str, language: str, raw: Mapping[str, Any], portal_url: str) -> dict[str, str]:
    """Brevo `params` for one e-mail; raises TemplateError naming any parameter the template needs but lacks."""
    if language not in LANGUAGES:
        raise TemplateError(f"language {language!r} is not one of {', '.join(LANGUAGES)}")
    base = portal_url.rstrip("/")
    params: dict[str, str] = {"portal_domain": base.split("://", 1)[-1]}
    for key in ("first_name", "subject", "agent_name", "author_name", "organization"):
        if raw.get(key) is not None:
            params[key] = str(raw[key])
    if raw.get("ticket_id"):
        params["ticket_ref"] = ticket_ref(raw["ticket_id"])
        params["ticket_url"] = f"{base}/tickets/{raw['ticket_id']}"
    if raw.get("status"):
        params["status"] = STATUS_LABELS[language].get(str(raw["status"]), str(raw["status"]))
    if raw.get("priority"):
        params["priority"] = PRIORITY_LABELS[language].get(str(raw["priority"]), str(raw["priority"]))
    if raw.get("due_at"):
        params["due_at"] = _due(raw["due_at"], language)
    needed = required_params().get((template, language))
    if needed is None:
        raise TemplateError(
            f"no provisioned template {template_name(template, language)} in app/notifications/emails"
        )
    missing = sorted(needed - params.keys())
    if missing:
        raise TemplateError(f"{template_name(template, language)} needs params {', '.join(missing)}")
    return params
