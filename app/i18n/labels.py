"""What people read for the values the database stores in English: ticket statuses and priorities, roles,
data-subject request types and statuses, audit actions and the tables audit entries are about, objection
purposes; and the calendar words of the admin pages (weekdays, Belgian public holidays, dates) in the
viewer's language.

One mapping per kind of value, so a new value in a check constraint is one entry here (and its French and
Dutch translation in the catalogues); tests/app/test_translated_values.py reads the database's check
constraints and fails on any value without a label. Templates use `label(value)`; e-mails keep their own
in-sentence wording (app/notifications/templates.py, rendered by Brevo).
"""

from __future__ import annotations

import functools
from datetime import date

import holidays
from babel.dates import format_date

from app import i18n
from app.i18n import N_

TICKET_STATUS = {
    "new": N_("New"),
    "open": N_("Open"),
    "pending": N_("Pending"),
    "resolved": N_("Resolved"),
    "closed": N_("Closed"),
}
PRIORITY = {"low": N_("Low"), "normal": N_("Normal"), "high": N_("High"), "urgent": N_("Urgent")}
ROLE = {
    "client_member": N_("Client member"),
    "client_admin": N_("Client administrator"),
    "agent": N_("NexK agent"),
    "admin": N_("NexK administrator"),
}
DSR_STATUS = {
    "received": N_("Received"),
    "verifying_identity": N_("Verifying your identity"),
    "in_progress": N_("In progress"),
    "completed": N_("Completed"),
    "rejected": N_("Rejected"),
}
DSR_TYPE = {
    "access": N_("Access"),
    "rectification": N_("Rectification"),
    "erasure": N_("Erasure"),
    "restriction": N_("Restriction"),
    "portability": N_("Portability"),
    "objection": N_("Objection"),
}
AUDIT_ACTION = {
    "insert": N_("Created"),
    "update": N_("Changed"),
    "delete": N_("Deleted"),
    "read": N_("Viewed"),
    "sign_in": N_("Signed in"),
}
# What an audit entry is about (`audit_log.object_table`): the audited tables (their audit triggers) and the
# objects the portal and the database log reads, sign-ins and invitation resends of. An unknown name is shown
# as is (the table filter keeps the exact names in its URL for auditors).
AUDIT_TABLE = {
    "tickets": N_("Tickets"),
    "ticket_messages": N_("Messages"),
    "attachments": N_("Attachments"),
    "profiles": N_("Profiles"),
    "organizations": N_("Organizations"),
    "agent_assignments": N_("Agent assignments"),
    "invitations": N_("Invitations"),
    "dsr_requests": N_("Data-subject requests"),
    "dsr_events": N_("Data-subject request journal"),
    "processing_objections": N_("Objections to processing"),
    "auth_sessions": N_("Sign-in sessions"),
    "auth_users": N_("Sign-in accounts"),
}
OBJECTION_PURPOSE = {
    "security_logging": N_("Security logging"),
    "audience_measurement": N_("Audience measurement"),
    "direct_marketing": N_("Direct marketing"),
}
OBJECTION_STATUS = {
    "upheld": N_("Upheld"),
    "pending_review": N_("Pending review"),
    "rejected": N_("Rejected"),
}
# The profile fields an admin can rectify for a DSR (app/queries/admin_dsr.RECTIFIABLE).
PROFILE_FIELD = {
    "first_name": N_("First name"),
    "surname": N_("Surname"),
    "position": N_("Position"),
    "email": N_("E-mail"),
    "phone": N_("Phone"),
}
LANGUAGE = {
    "en": "English",
    "fr": "Français",
    "nl": "Nederlands",
}  # each in its own language, never translated
THEME = {"system": N_("Same as my device"), "light": N_("Light"), "dark": N_("Dark")}

KINDS: dict[str, dict[str, str]] = {
    "ticket_status": TICKET_STATUS,
    "priority": PRIORITY,
    "role": ROLE,
    "dsr_status": DSR_STATUS,
    "dsr_type": DSR_TYPE,
    "audit_action": AUDIT_ACTION,
    "audit_table": AUDIT_TABLE,
    "objection_purpose": OBJECTION_PURPOSE,
    "objection_status": OBJECTION_STATUS,
    "profile_field": PROFILE_FIELD,
    "theme": THEME,
}
# Every stored value a person can read, by kind; the kinds share no value with two meanings ("rejected" is
# the same word for a request and an objection), which tests/app/test_translated_values.py checks.
_ALL: dict[str, str] = {value: text for kind in KINDS.values() for value, text in kind.items()}


def label(value: str | None, kind: str | None = None) -> str:
    """The translated label of a stored value; `kind` picks one mapping (a value outside it is shown as is,
    which the completeness tests catch)."""
    if value is None:
        return ""
    mapping = KINDS[kind] if kind else _ALL
    return i18n.gettext(mapping[value]) if value in mapping else value


def weekday_names() -> list[str]:
    """Monday .. Sunday (ISO 1 .. 7) in the current language, capitalised as a list item, from Babel's CLDR
    data (fr "lundi" -> "Lundi", nl "maandag" -> "Maandag")."""
    days = i18n.babel_locale(i18n.current_language()).days["format"]["wide"]
    return [days[index][:1].upper() + days[index][1:] for index in range(7)]


def format_day(value: date | None) -> str:
    """A calendar day in the current language: `25 déc. 2026`, `25 dec 2026`, `25 Dec 2026`."""
    if value is None:
        return ""
    return format_date(value, "medium", locale=i18n.babel_locale(i18n.current_language()))


# The holidays package names Belgian public holidays in these languages (holidays.Belgium.supported_languages).
_HOLIDAY_LANGUAGE = {"en": "en_US", "fr": "fr", "nl": "nl"}


@functools.lru_cache(maxsize=64)
def _public_holidays(year: int, language: str) -> dict[date, str]:
    return dict(holidays.country_holidays("BE", years=year, language=_HOLIDAY_LANGUAGE[language]))


def holiday_name(day: date, stored: str) -> str:
    """A closing day's name: a Belgian public holiday stored under its English name (as db/seed writes them)
    is shown in the viewer's language; a name an admin typed is theirs and shown as typed."""
    if _public_holidays(day.year, "en").get(day) != stored:
        return stored
    return _public_holidays(day.year, i18n.current_language()).get(day, stored)
