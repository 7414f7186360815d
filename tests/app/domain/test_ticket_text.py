"""The rules for ticket text: one rule for the portal's forms and the API, stated as the API documents it."""

from __future__ import annotations

import re
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.ticket_text import BLANK_PATTERN, NUL_PATTERN, WHITESPACE, TextRefused, stored_text


def test_whitespace_is_exactly_what_str_strip_removes() -> None:
    """Invariant: the trimmed set is Python's, so a form's `.strip()` and the API trim the same characters."""
    assert {chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()} == set(WHITESPACE)


@given(st.text(max_size=300))
def test_stored_text_is_accepted_exactly_when_the_documented_rule_allows_it(value: str) -> None:
    """Invariant: accepted iff at most the limit, no pattern of the document's refusals matches (read by
    Python's `re` here), and no lone surrogate; what is stored is the trimmed value, never longer than the
    limit."""
    documented = len(value) <= 200 and not any(re.search(p, value) for p in (NUL_PATTERN, BLANK_PATTERN))
    try:
        stored = stored_text(value, max_length=200)
    except TextRefused:
        assert not documented or re.search("[\ud800-\udfff]", value)
    else:
        assert documented
        assert stored == value.strip() and 1 <= len(stored) <= 200


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("", "blank"),
        (" \u3000\n\x1c", "blank"),
        ("ok\x00", "NUL"),
        ("x" * 201, "at most 200"),
        ("\ud800", "surrogate"),
    ],
)
def test_refused_text_says_what_is_wrong(value: str, reason: str) -> None:
    with pytest.raises(TextRefused, match=reason):
        stored_text(value, max_length=200)


def test_the_limit_counts_what_is_sent_not_what_is_left_after_trimming() -> None:
    with pytest.raises(TextRefused):
        stored_text(" " + "x" * 200, max_length=200)
    assert stored_text(" " + "x" * 199, max_length=200) == "x" * 199
