"""The rules for the text people write in tickets (subject, description, message): what is accepted, and what
is stored.

One rule for the portal's forms and the JSON API: text is stored without its surrounding whitespace, must not
be blank, and holds at most the column's number of characters (the database checks the same lengths:
db/schema/0007_tickets.sql, 0008_ticket_messages.sql). The API states the rule in its OpenAPI document on
what the client sends (`maxLength`, and the patterns below as refusals), so the patterns are written out
character by character: they mean the same to Python's `re`, to ECMA-262 (JSON Schema's dialect) and to
Rust's `regex`.
"""

from __future__ import annotations

import re

SUBJECT_MAX = 200
TEXT_MAX = 20000  # a description or a message

# Exactly the characters `str.strip()` removes (Python's `str.isspace()`), so the portal's forms and the API
# trim alike; tests/app/domain/test_ticket_text.py compares it with every code point.
WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


def _escaped(characters: str) -> str:
    return "".join(f"\\u{ord(c):04x}" for c in characters)


# What is refused, as the two patterns the API's document names (`not: {anyOf: [...]}`): any NUL (PostgreSQL
# text cannot hold it), and nothing but whitespace (a blank text says nothing). Every character is spelt
# `\uXXXX`, a form Python's `re`, ECMA-262 (JSON Schema) and Rust's `regex` (jsonschema-rs) read alike. Stated
# as refusals rather than one accepting pattern: generators (schemathesis) build a 20,000-character string
# matching a pattern very slowly, and the two refusals read more plainly.
NUL_PATTERN = r"\u0000"
BLANK_PATTERN = rf"^[{_escaped(WHITESPACE)}]*$"
_NUL = re.compile(NUL_PATTERN)
_BLANK = re.compile(BLANK_PATTERN)
# Lone surrogates (a JSON string may spell `"\ud800"`) are not text: they cannot be stored as UTF-8.
_SURROGATE = re.compile("[\ud800-\udfff]")


class TextRefused(ValueError):
    """The text breaks a rule; the message says which, in words a person can act on."""


def stored_text(value: str, *, max_length: int) -> str:
    """`value` as it is stored (without surrounding whitespace); refused when blank, too long, or holding NUL
    or an unpaired surrogate. The length counts what the person sent, so what the API documents as
    `maxLength` is what it accepts, and what is stored is never longer."""
    if len(value) > max_length:
        raise TextRefused(f"must be at most {max_length} characters")
    if _SURROGATE.search(value):
        raise TextRefused("must be Unicode text: an unpaired surrogate (\\ud800 to \\udfff) is not")
    if _NUL.search(value):
        raise TextRefused("must not contain NUL characters (\\u0000)")
    if _BLANK.search(value):
        raise TextRefused("must not be blank")
    return value.strip(WHITESPACE)


def acceptable_text(value: str, *, max_length: int) -> bool:
    """Whether `stored_text` accepts `value` (for forms, which say what to fix in their own words)."""
    try:
        stored_text(value, max_length=max_length)
    except TextRefused:
        return False
    return True
