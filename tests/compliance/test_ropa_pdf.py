"""The Art. 30 record as PDF: same content as ropa.md, A4, page numbers, byte-identical for the same register."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from pypdf import PdfReader
from register_edits import edit

from compliance.register import Register, load
from compliance.render import (
    GENERATED,
    PDF_GENERATED_FROM,
    ROPA_PDF,
    RenderError,
    render_ropa_pdf,
    ropa_rows,
)
from nexk.paths import REPO_ROOT

A4_POINTS = (595.28, 841.89)


def pages_text(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def flat(text: str) -> str:
    """Table cells wrap long values over several lines: compare with every run of whitespace as one space."""
    return re.sub(r"\s+", " ", text)


@pytest.fixture(scope="module")
def pdf(register: Register) -> bytes:
    return render_ropa_pdf(register)


def test_the_record_renders_as_an_a4_pdf_whose_every_page_has_its_number_and_the_generated_from_note(
    pdf: bytes,
) -> None:
    assert pdf.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) >= 2
    for number, page in enumerate(reader.pages, start=1):
        assert (round(float(page.mediabox.width), 2), round(float(page.mediabox.height), 2)) == A4_POINTS
        text = flat(page.extract_text())
        assert f"Page {number} of {len(reader.pages)}" in text
        assert flat(PDF_GENERATED_FROM) in text


def test_the_pdf_record_names_the_controller_every_purpose_and_every_subprocessor(
    register: Register, pdf: bytes
) -> None:
    text = flat(" ".join(pages_text(pdf)))
    expected = ["NexK IT Solutions", "Gérald", "NexK IT Solutions — Konan Gérald", "BE 1037.508.040"]
    expected += [row["purpose"] for row in ropa_rows(register)]
    expected += [row["legal_basis"] for row in ropa_rows(register)]
    expected += [s.name for s in register.subprocessors.subprocessors]
    expected += [s.legal_entity for s in register.subprocessors.subprocessors]
    expected += [p.name for p in register.retention.periods]
    expected += [m.name for m in register.security.measures]
    expected += ["(e) Third-country transfers", "Vercel Inc. (US, SCC)", "(f) Erasure time limits"]
    assert [e for e in expected if flat(e) not in text] == []


def test_rendering_the_pdf_record_twice_gives_identical_bytes_whatever_the_process_or_time_zone(
    register: Register, pdf: bytes
) -> None:
    assert render_ropa_pdf(register) == pdf
    other = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from compliance.register import load; from compliance.render import render_ropa_pdf; "
            "sys.stdout.buffer.write(render_ropa_pdf(load()))",
        ],
        capture_output=True,
        cwd=REPO_ROOT,
        env={**os.environ, "TZ": "Pacific/Auckland", "PYTHONHASHSEED": "random"},
        timeout=120,
        check=True,
    )
    assert other.stdout == pdf


def test_the_committed_pdf_record_states_what_the_register_renders_today(pdf: bytes) -> None:
    """Compared page by page as text (line breaks included): the bytes also depend on fpdf2's version."""
    committed = GENERATED / ROPA_PDF
    assert committed.is_file(), "compliance/generated/ropa.pdf is missing: run `nexk compliance render`"
    assert pages_text(committed.read_bytes()) == pages_text(pdf), (
        "compliance/generated/ropa.pdf is out of date with the register: run `nexk compliance render`"
    )


def test_a_character_the_pdf_font_cannot_show_fails_the_render_naming_it(register_copy: Path) -> None:
    edit(
        register_copy / "fides/organization.yml",
        "name: NexK IT Solutions — privacy contact",
        "name: Łukasz, NexK IT Solutions — privacy contact",
    )
    with pytest.raises(RenderError, match=r"cannot show 'Ł' \(U\+0141\) in 'Łukasz, NexK IT Solutions"):
        render_ropa_pdf(load(register_copy))
