"""The evidence pack as PDF (fpdf2, as the Art. 30 record: standard Helvetica, nothing embedded, A4).

The same sections as the HTML, in the same language. The data-flow map is the HTML's SVG, drawn by fpdf2's
SVG support, followed by the same flows as a table (which a screen reader or a text search also finds).
"""

from __future__ import annotations

import io
from itertools import groupby

from compliance.pack.evidence import HISTORY_LIMIT, Evidence
from compliance.pack.flowmap import flow_map
from compliance.pack.html import claim_totals, declarations, first_upper
from compliance.pack.words import RESULTS, SETTINGS, word
from compliance.render import PDF_ENCODING, PDF_FONT, DocumentPdf, label, period_words

# Characters of commit subjects and README rules that Helvetica's windows-1252 lacks, in readable ASCII.
REPLACEMENTS = {
    "→": "->",
    "←": "<-",
    "\u00d7": "x",
    "≥": ">=",
    "≤": "<=",
    "∈": "in",
    "≠": "!=",
    "✓": "v",
    "…": "...",
}


def pdf_text(value: object) -> str:
    text = str(value)
    for char, plain in REPLACEMENTS.items():
        text = text.replace(char, plain)
    return text.encode(PDF_ENCODING, errors="replace").decode(PDF_ENCODING)


class _PackPdf(DocumentPdf):
    """The evidence pack: commit subjects and README text are made printable, never refused."""

    footer_text = ""
    heading_size = 13.0
    heading_fill = (226, 232, 240)
    paragraph_align = "J"
    paragraph_gap = 1.0

    def printable(self, value: object) -> str:
        return pdf_text(value)

    def footer(self) -> None:
        self.set_y(-10)
        self.set_font(PDF_FONT, size=7)
        self.set_text_color(90)
        self.cell(self.epw - 25, 4, pdf_text(self.footer_text))
        self.cell(25, 4, f"{self.page_no()} / {{nb}}", align="R")
        self.set_text_color(0)


def render_pdf(evidence: Evidence, lang: str) -> bytes:
    def w(key: str, **values: object) -> str:
        return word(key, lang, **values)

    register = evidence.register
    tests = evidence.tests
    pdf = _PackPdf(orientation="landscape", unit="mm", format="A4")
    pdf.core_fonts_encoding = PDF_ENCODING
    pdf.footer_text = f"{w('title')} - commit {evidence.generated_commit}"
    pdf.set_title(pdf_text(w("title")))
    pdf.set_author(pdf_text(register.controller["controller"]["name"]))
    pdf.set_creator("nexk compliance pack")
    pdf.set_lang(lang)
    pdf.set_margins(12, 12, 12)
    pdf.set_auto_page_break(True, margin=14)
    pdf.add_page()

    pdf.heading(w("title"), size=17)
    pdf.paragraph(w("intro", commit=evidence.generated_commit))

    pdf.heading(w("flows"))
    pdf.paragraph(w("flows_intro"))
    pdf.image(io.BytesIO(flow_map(evidence.flows, lang, titled=False).encode()), w=pdf.epw)
    pdf.grid(
        [
            w("subprocessor"),
            w("who"),
            w("country"),
            w("region"),
            w("deployed"),
            w("transfer"),
            w("categories"),
        ],
        [
            [
                f"{f.entity} ({f.subprocessor})",
                "; ".join(label("data_subjects", s, lang) for s in f.data_subjects),
                f"{label('countries', f.country, lang)} ({f.country})",
                ", ".join(f.hosting_region),
                ", ".join(f.deployed_regions) or w("no_region_setting"),
                w("within_eea")
                if f.transfer_mechanism == "none"
                else f"{f.transfer_mechanism}: {label('transfer_mechanisms', f.transfer_mechanism, lang)}",
                ", ".join(f.data_categories),
            ]
            for f in evidence.flows
        ],
        widths=(14, 16, 9, 10, 10, 16, 25),
    )

    pdf.heading(w("settings"))
    pdf.paragraph(w("settings_intro"))
    for stack, rows in groupby(evidence.settings, key=lambda s: s.stack):
        pdf.heading(f"{w('stack')} {stack}", size=10)
        pdf.grid(
            [w("setting"), w("value"), w("where")],
            [[SETTINGS[s.name][lang], s.value, f"{s.file}:{s.line}"] for s in rows],
            widths=(35, 35, 30),
        )

    pdf.heading(w("ropa"))
    pdf.grid(
        [
            w("purpose"),
            w("legal_basis"),
            w("data_subjects"),
            w("categories"),
            w("recipients"),
            w("transfers"),
        ],
        [
            [
                label("purposes", d["data_use"], lang),
                label("legal_bases", d["legal_basis_for_processing"], lang),
                "; ".join(label("data_subjects", s, lang) for s in d["data_subjects"]),
                ", ".join(d["data_categories"]),
                ", ".join(d.get("egress") or []),
                d["transfers"],
            ]
            for d in declarations(evidence)
        ],
        widths=(18, 16, 14, 26, 12, 14),
    )

    pdf.heading(w("retention"))
    pdf.paragraph(w("register_language"))
    pdf.grid(
        [w("data"), w("period"), w("starts"), w("reason"), w("at_end")],
        [
            [p.name, f"{period_words(p.duration, lang)} ({p.period})", p.starts, p.reason, p.at_end]
            for p in register.retention.periods
        ],
        widths=(18, 12, 20, 25, 25),
    )

    pdf.heading(w("security"))
    pdf.paragraph(w("register_language"))
    pdf.grid(
        [w("measure"), w("implemented_by"), w("tested_by")],
        [
            [
                f"{first_upper(label('security', m.key, lang))}: {m.description}",
                "\n".join(m.implemented_by),
                "\n".join(f"[{RESULTS[tests.result(t)][lang]}] {t}" for t in m.tested_by),
            ]
            for m in register.security.measures
        ],
        widths=(40, 18, 42),
    )

    pdf.heading(w("claims"))
    if tests.found:
        pdf.paragraph(
            w(
                "claims_intro",
                report=tests.path,
                date=tests.timestamp,
                commit=tests.commit or w("not_recorded"),
            )
        )
    else:
        pdf.paragraph(w("no_report", report=tests.path))
    pdf.paragraph(w("summary_results", **claim_totals(tests, evidence)))
    pdf.grid(
        [w("claim"), w("implemented_by"), w("tested_by"), w("result")],
        [
            [f"{c.section} ({c.key})", "\n".join(c.implemented_by), t, RESULTS[tests.result(t)][lang]]
            for c in register.claims.claims
            for t in c.tested_by
        ],
        widths=(20, 22, 48, 10),
    )

    pdf.heading(w("history"))
    pdf.paragraph(w("history_intro", limit=HISTORY_LIMIT))
    pdf.grid(
        [w("date"), w("commit"), w("change"), w("files")],
        [[h.date, h.commit, h.subject, "\n".join(h.files)] for h in evidence.history],
        widths=(9, 8, 58, 25),
    )
    return bytes(pdf.output())
