"""An auditor's evidence pack: the register, the deployed settings, the data flows and the test evidence.

    nexk compliance pack --out DIR    # DIR/evidence-pack.{en,fr,nl}.html and .pdf

`evidence.py` gathers the facts once, `html.py` (with `flowmap.py`) and `pdf.py` state them in each language
of `words.py`.
"""

from __future__ import annotations

from pathlib import Path

from compliance.pack.words import LANGUAGES


def write_pack(out: Path, junit: Path | None = None) -> list[Path]:
    from compliance.pack.evidence import gather
    from compliance.pack.html import render_html
    from compliance.pack.pdf import render_pdf
    from compliance.register import load

    evidence = gather(load(), junit)
    documents: dict[Path, str | bytes] = {}
    # Render everything before writing anything: a failure leaves DIR as it was.
    for lang in LANGUAGES:
        documents[out / f"evidence-pack.{lang}.html"] = render_html(evidence, lang)
        documents[out / f"evidence-pack.{lang}.pdf"] = render_pdf(evidence, lang)
    out.mkdir(parents=True, exist_ok=True)
    for path, content in documents.items():
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return list(documents)
