"""Ticket references (`NX-1A2B3C4D`): the short form e-mails carry (app.notifications.templates.ticket_ref),
shown in the portal too, and searchable there: `NX-1A2B` finds the tickets whose reference starts so."""

from __future__ import annotations

import re
import uuid

from app.notifications.templates import ticket_ref

__all__ = ["reference_range", "ticket_ref"]

# "NX-1A2B3C4D", "nx-1a2b", "NX1A2B": 1 to 8 hex digits, the first group of the ticket's uuid.
REFERENCE = re.compile(r"^\s*NX-?([0-9a-f]{1,8})\s*$", re.IGNORECASE)


def reference_range(text: str) -> tuple[uuid.UUID, uuid.UUID] | None:
    """The ids whose reference starts with the digits of `text` (None when `text` is no reference), as an
    inclusive uuid range: PostgreSQL orders uuids by their bytes, so this is an index range on the key."""
    match = REFERENCE.match(text)
    if match is None:
        return None
    digits = match.group(1).lower()
    return uuid.UUID(digits.ljust(32, "0")), uuid.UUID(digits.ljust(32, "f"))
