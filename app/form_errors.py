"""Errors in the person's words and language: a refused form names the field and says
what to write, in the viewer's language, never in PostgreSQL's or pydantic's English.

- `database_error(exc)`: a check, unique or foreign-key refusal mapped, by its constraint name, to the field
  and a message. The names come from the check constraints of db/schema/ a form can reach; a constraint not
  listed gets a generic message (the raw one goes to the server log only).
- `validation_message(error)`: pydantic's error types (a tampered or hand-made request) in words for people.
- `FormRefused`: raised by a route's parser to re-render its form (422) with the values kept.

Messages are msgids (`N_`), translated when shown; `field` is the id of the input the message is about, so the
error summary can link to it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import psycopg

from app import i18n
from app.i18n import N_

log = logging.getLogger("nexk.portal")


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


class FormRefused(Exception):
    """A form's values cannot be used; `errors` say which and why (already translated)."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(e.message for e in errors))
        self.errors = errors


def refuse(name: str, message: str, **values: Any) -> FormRefused:
    """A FormRefused about form field `name`, with one translated message (`message` is a msgid with
    `{placeholder}`s filled from `values`)."""
    return FormRefused([FieldError(name, i18n._(message, **values))])


# constraint name -> (form field name, msgid). Field names are the forms' `name` attributes.
CONSTRAINTS: dict[str, tuple[str, str]] = {
    "organizations_enterprise_number_valid": (
        "enterprise_number",
        N_(
            "Enterprise number: this is not a valid Belgian enterprise number. Write its 10 digits, e.g. "
            "0123.456.749, and check the last two (the check number)."
        ),
    ),
    "organizations_enterprise_number_key": (
        "enterprise_number",
        N_("Enterprise number: another organization already has this number."),
    ),
    "organizations_contract_period": (
        "contract_end",
        N_("Contract end: the end date must be on or after the start date."),
    ),
    "organizations_name_check": ("name", N_("Name: write between 1 and 200 characters.")),
    "sla_policies_first_response_minutes_check": (
        "first_response_minutes",
        N_("First response: write a number of business minutes greater than 0."),
    ),
    "sla_policies_next_response_minutes_check": (
        "next_response_minutes",
        N_("Next response: write a number of business minutes greater than 0."),
    ),
    "sla_policies_resolution_minutes_check": (
        "resolution_minutes",
        N_("Resolution: write a number of business minutes greater than 0."),
    ),
    "sla_policies_resolution_after_response": (
        "resolution_minutes",
        N_("Resolution: allow at least as many minutes as for the first response."),
    ),
    "business_hours_interval_check": (
        "closes_at",
        N_("Closes at: the closing time must be later than the opening time."),
    ),
    "business_hours_unique_interval": (
        "opens_at",
        N_("Opens at: this day already has opening hours starting at that time."),
    ),
    "holidays_unique_day": ("day", N_("Day: this date is already a closing day of this calendar.")),
    "holidays_name_check": ("name", N_("Name: write between 1 and 100 characters.")),
    "profiles_first_name_check": ("first_name", N_("First name: write between 1 and 100 characters.")),
    "profiles_surname_check": ("surname", N_("Surname: write between 1 and 100 characters.")),
    "profiles_position_check": ("position", N_("Position: at most 100 characters.")),
    "profiles_email_check": ("email", N_("E-mail address: write an address like name@example.be.")),
    "profiles_phone_check": (
        "phone",
        N_("Phone: digits, spaces and + . / ( ) - only, 6 to 25 characters (e.g. +32 2 123 45 67)."),
    ),
    "tickets_subject_check": ("subject", N_("Subject: write a short summary of 1 to 200 characters.")),
    "tickets_description_check": (
        "description",
        N_("Description: describe the problem (1 to 20,000 characters)."),
    ),
    "ticket_messages_body_check": ("body", N_("Message: write a reply of 1 to 20,000 characters.")),
    "agent_assignments_unique": ("agent_id", N_("Agent: this agent already serves this organization.")),
}
GENERIC_REFUSAL = N_("A value was refused: check the fields and try again.")


def database_error(exc: psycopg.Error) -> FieldError:
    """The field and the person's message for a refused write (check, unique, foreign key)."""
    name = exc.diag.constraint_name or ""
    if name in CONSTRAINTS:
        field, message = CONSTRAINTS[name]
        return FieldError(field, i18n.gettext(message))
    log.info("refused write without a mapped message (%s): %s", name, exc.diag.message_primary)
    return FieldError("", i18n.gettext(GENERIC_REFUSAL))


# Pydantic's error types in words for people (pages only; the JSON API keeps pydantic's English).
VALIDATION_MESSAGES = {
    "missing": N_("This field is required."),
    "string_too_long": N_("This is too long."),
    "string_too_short": N_("This is too short."),
    "literal_error": N_("Choose one of the offered values."),
    "enum": N_("Choose one of the offered values."),
    "uuid_parsing": N_("This is not a valid identifier."),
    "uuid_type": N_("This is not a valid identifier."),
    "int_parsing": N_("Enter a whole number."),
    "int_type": N_("Enter a whole number."),
    "int_from_float": N_("Enter a whole number."),
    "bool_parsing": N_("Tick the box or leave it empty."),
    "bool_type": N_("Tick the box or leave it empty."),
    "greater_than": N_("This number is too small."),
    "greater_than_equal": N_("This number is too small."),
    "less_than": N_("This number is too large."),
    "less_than_equal": N_("This number is too large."),
    "too_long": N_("Too many values were sent."),
    "date_parsing": N_("Write a date as YYYY-MM-DD."),
    "date_from_datetime_parsing": N_("Write a date as YYYY-MM-DD."),
    "time_parsing": N_("Write a time as HH:MM."),
}
INVALID_VALUE = N_("This value is not valid.")

# Form field names as people read them.
FIELD_LABELS = {
    "body": N_("Message"),
    "intent": N_("Kind of message"),
    "subject": N_("Subject"),
    "description": N_("Description"),
    "priority": N_("Priority"),
    "status": N_("Status"),
    "sort": N_("Sort by"),
    "page": N_("Page"),
    "q": N_("Search subjects"),
    "organization": N_("Organization"),
    "organization_id": N_("Organization"),
    "name": N_("Name"),
    "enterprise_number": N_("Enterprise number"),
    "contract_start": N_("Contract start"),
    "contract_end": N_("Contract end"),
    "sla_plan_id": N_("SLA plan"),
    "first_name": N_("First name"),
    "surname": N_("Surname"),
    "position": N_("Position"),
    "phone": N_("Phone"),
    "email": N_("E-mail address"),
    "role": N_("Role"),
    "language": N_("Language"),
    "theme": N_("Theme"),
    "first_response_minutes": N_("First response"),
    "next_response_minutes": N_("Next response"),
    "resolution_minutes": N_("Resolution"),
    "day_of_week": N_("Day"),
    "opens_at": N_("Opens at"),
    "closes_at": N_("Closes at"),
    "day": N_("Day"),
    "agent_id": N_("Agent"),
    "plan_id": N_("SLA plan"),
    "calendar_id": N_("Calendar"),
    "since": N_("From"),
    "until": N_("To"),
    "assignee_id": N_("Assignee"),
}


def validation_message(error: dict[str, Any]) -> FieldError:
    """One pydantic error as {field label, translated message}; pydantic's own text is never used."""
    location = [str(p) for p in error.get("loc", ()) if p not in ("body", "query", "path", "form")]
    name = location[0] if location else ""
    label = i18n.gettext(FIELD_LABELS[name]) if name in FIELD_LABELS else ""
    message = i18n.gettext(VALIDATION_MESSAGES.get(str(error.get("type")), INVALID_VALUE))
    return FieldError(label, message)
