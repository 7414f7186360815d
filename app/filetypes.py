"""Attachment rules as pure functions: which files are accepted (judged on content, not only the name),
and what a stored file name may look like.

A file is accepted when its bytes are one of the allowed formats AND its extension is one that format uses,
so `invoice.pdf.html` or a PNG renamed `.pdf` is refused. Downloads are always `attachment` + `nosniff`.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass

from app.i18n import lazy_gettext


class RejectedFile(ValueError):
    """The message tells the person what to change."""


@dataclass(frozen=True)
class FileKind:
    content_type: str
    extensions: tuple[str, ...]


PDF = FileKind("application/pdf", (".pdf",))
PNG = FileKind("image/png", (".png",))
JPEG = FileKind("image/jpeg", (".jpg", ".jpeg"))
GIF = FileKind("image/gif", (".gif",))
WEBP = FileKind("image/webp", (".webp",))
DOCX = FileKind("application/vnd.openxmlformats-officedocument.wordprocessingml.document", (".docx",))
XLSX = FileKind("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (".xlsx",))
TEXT = FileKind("text/plain", (".txt", ".log", ".md"))
CSV = FileKind("text/csv", (".csv",))
EML = FileKind("message/rfc822", (".eml",))

# Shown under every file field and in refusals, in the language of the page it ends up on.
ALLOWED_DESCRIPTION = lazy_gettext(
    "PDF, PNG, JPEG, GIF, WebP, Word (.docx), Excel (.xlsx), text (.txt, .log, .md), CSV or e-mail (.eml)"
)


def _office_kind(data: bytes) -> FileKind | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, ValueError, OSError):
        return None
    if "[Content_Types].xml" not in names:
        return None
    if "word/document.xml" in names:
        return DOCX
    if "xl/workbook.xml" in names:
        return XLSX
    return None


def _is_text(data: bytes) -> bool:
    if b"\x00" in data:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def sniff(data: bytes, extension: str) -> FileKind | None:
    """The allowed format the bytes are, or None. Text formats are told apart by extension."""
    head = data[:16]
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head.startswith(b"PK\x03\x04"):
        return _office_kind(data)
    if _is_text(data):
        if extension == ".csv":
            return CSV
        if extension == ".eml":
            return EML if re.match(rb"^[A-Za-z-]+:", data) else None
        return TEXT
    return None


_UNSAFE = re.compile(r"[^\w .()\[\]-]+")


def sanitize_file_name(raw: str) -> str:
    """A display/download name: no path, no control or shell-special characters, at most 255 characters."""
    name = unicodedata.normalize("NFC", raw or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = _UNSAFE.sub("_", name).strip(" .")
    name = re.sub(r"_+", "_", name)
    if not name:
        name = "attachment"
    if len(name) > 255:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 254 - len(ext)] + dot + ext) if dot and len(ext) <= 10 else name[:255]
    return name


def extension_of(name: str) -> str:
    _, dot, ext = name.rpartition(".")
    return f".{ext.lower()}" if dot else ""


def check_upload(raw_name: str, data: bytes, max_bytes: int) -> tuple[str, FileKind]:
    """(safe file name, kind) for an acceptable upload, else RejectedFile saying what to fix."""
    name = sanitize_file_name(raw_name)
    if not data:
        raise RejectedFile(lazy_gettext("{name} is empty: choose a file with content.", name=name))
    if len(data) > max_bytes:
        raise RejectedFile(
            lazy_gettext(
                "{name} is larger than {size} MB: attach a smaller file.",
                name=name,
                size=max_bytes // (1024 * 1024),
            )
        )
    extension = extension_of(name)
    kind = sniff(data, extension)
    if kind is None:
        raise RejectedFile(
            lazy_gettext(
                "{name} is not an accepted file type. Accepted: {allowed}.",
                name=name,
                allowed=ALLOWED_DESCRIPTION,
            )
        )
    if extension not in kind.extensions:
        # Messages are translated when shown (the viewer's language is not known yet when files are checked).
        if extension:
            raise RejectedFile(
                lazy_gettext(
                    "{name} contains {type} but is named {extension}: rename it to end in {expected}.",
                    name=name,
                    type=kind.content_type,
                    extension=extension,
                    expected=" / ".join(kind.extensions),
                )
            )
        raise RejectedFile(
            lazy_gettext(
                "{name} contains {type} but has no extension: rename it to end in {expected}.",
                name=name,
                type=kind.content_type,
                expected=" / ".join(kind.extensions),
            )
        )
    return name, kind


def content_disposition(file_name: str) -> str:
    """`attachment` with an ASCII fallback and the exact UTF-8 name (RFC 6266 / 5987)."""
    from urllib.parse import quote

    fallback = file_name.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(file_name, safe='')}"
