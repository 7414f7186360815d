"""The attachment rules as pure functions: content sniffing, extension agreement and file-name sanitising."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.filetypes import RejectedFile, check_upload, content_disposition, sanitize_file_name


@pytest.mark.parametrize(
    ("name", "data", "content_type"),
    [
        ("a.pdf", b"%PDF-1.4 ...", "application/pdf"),
        ("a.PNG", b"\x89PNG\r\n\x1a\n....", "image/png"),
        ("a.jpeg", b"\xff\xd8\xff\xe0....", "image/jpeg"),
        ("a.gif", b"GIF89a....", "image/gif"),
        ("a.webp", b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
        ("a.csv", b"id,name\n1,x\n", "text/csv"),
        ("a.eml", b"From: a@b.c\nSubject: hi\n\nbody", "message/rfc822"),
        ("notes.txt", "héllo".encode(), "text/plain"),
    ],
)
def test_allowed_formats_are_recognised_by_content(name: str, data: bytes, content_type: str) -> None:
    assert check_upload(name, data, 1000)[1].content_type == content_type


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("a.txt", b"\x00\x01binary"),
        ("a.zip", b"PK\x03\x04garbage"),
        ("a.svg", b"\x89PNG\r\n\x1a\n"),
        ("a", b"plain"),
    ],
)
def test_unknown_or_mismatched_files_are_refused(name: str, data: bytes) -> None:
    with pytest.raises(RejectedFile):
        check_upload(name, data, 1000)


def test_path_and_control_characters_are_removed_from_file_names() -> None:
    assert sanitize_file_name("../../etc/passwd") == "passwd"
    assert sanitize_file_name("C:\\Users\\x\\evil\r\n.txt") == "evil.txt"
    assert sanitize_file_name('re"port<1>.pdf') == "re_port_1_.pdf"
    assert sanitize_file_name("...") == "attachment"


@given(st.text(max_size=400))
def test_sanitised_names_are_always_storable(raw: str) -> None:
    """Invariant: whatever the browser sends, the stored name satisfies the attachments check constraint
    (1..255 characters, no slash, no backslash, no control character)."""
    name = sanitize_file_name(raw)
    assert 1 <= len(name) <= 255
    assert "/" not in name and "\\" not in name
    assert all(ord(ch) >= 32 and ord(ch) != 127 for ch in name)


def test_content_disposition_keeps_unicode_names_and_an_ascii_fallback() -> None:
    header = content_disposition("facture été.pdf")
    assert header.startswith('attachment; filename="facture _t_.pdf"') or header.startswith(
        'attachment; filename="facture'
    )
    assert "filename*=UTF-8''facture%20%C3%A9t%C3%A9.pdf" in header
