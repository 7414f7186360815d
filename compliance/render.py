"""Documents generated from the register: the privacy policy (en, fr, nl), the Art. 30 record (Markdown, CSV,
PDF), the subprocessors.

    nexk compliance render        # writes compliance/generated/ (committed; a check fails when stale)

The prose lives in `templates/policy_<lang>.md.j2`; every value comes from the register, and the wording of
each register key (purpose, subprocessor, right, ...) in each language from `templates/labels.yaml`. Jinja
runs with StrictUndefined, and a register key without wording fails the render naming it.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, time
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from fpdf import FPDF, FontFace
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from compliance.register import Duration, Register
from nexk.errors import NexkError

TEMPLATES = Path(__file__).resolve().parent / "templates"
GENERATED = Path(__file__).resolve().parent / "generated"
LANGUAGES = ("en", "fr", "nl")
# The date the policy text last changed; bump it with any change of the rendered policy.
POLICY_LAST_UPDATED = date(2026, 11, 26)
MONTHS = {
    "en": [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
    "fr": [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ],
    "nl": [
        "januari",
        "februari",
        "maart",
        "april",
        "mei",
        "juni",
        "juli",
        "augustus",
        "september",
        "oktober",
        "november",
        "december",
    ],
}


class RenderError(NexkError):
    """The register has something the documents cannot state (usually: wording missing for a new key)."""


@cache
def labels() -> dict[str, Any]:
    return yaml.safe_load((TEMPLATES / "labels.yaml").read_text(encoding="utf-8"))


def label(section: str, key: str, lang: str) -> str:
    try:
        return labels()[section][key][lang]
    except KeyError:
        raise RenderError(
            f"compliance/templates/labels.yaml has no {lang} wording for {section} `{key}`: add it "
            "(the register gained a key the documents must state)"
        ) from None


def period_words(duration: Duration, lang: str) -> str:
    """`five (5) years`, `90 days`, `one month` (as the published policy writes periods)."""
    parts = []
    for unit in ("years", "months", "days"):
        n = getattr(duration, unit)
        if not n:
            continue
        singular, plural = labels()["units"][lang][unit]
        word = labels()["numbers"][lang].get(n)
        if n == 1:
            parts.append(f"{word} {singular}")
        elif word:
            parts.append(f"{word} ({n}) {plural}")
        else:
            parts.append(f"{n} {plural}")
    return " ".join(parts)


def lifetime_words(max_age_seconds: int | None, lang: str) -> str:
    """A cookie's lifetime as the policy states it: `7 days`, `2 minutes`, or the browser session."""
    if max_age_seconds is None:
        return label("cookie_lifetimes", "browser_session", lang)
    unit, size = ("days", 86400) if max_age_seconds % 86400 == 0 else ("minutes", 60)
    n = max(1, max_age_seconds // size)
    singular, plural = labels()["units"][lang][unit]
    period = f"{n} {singular if n == 1 else plural}"
    return label("cookie_lifetimes", "for_a_period", lang).format(period=period)


def cookie_lines(register: Register, lang: str) -> list[dict[str, str]]:
    return [
        {
            "name": c.name,
            "purpose": label("cookie_purposes", c.purpose, lang),
            "lifetime": lifetime_words(c.max_age_seconds, lang),
        }
        for c in register.cookies.cookies
    ]


def format_date(day: date, lang: str) -> str:
    month = MONTHS[lang][day.month - 1]
    return f"{month.capitalize()} {day.day}, {day.year}" if lang == "en" else f"{day.day} {month} {day.year}"


def data_groups(register: Register, lang: str) -> list[str]:
    """The policy's "Data collected" lines; fails when a personal category of the register has no group."""
    groups = labels()["data_groups"]
    grouped = {c for g in groups for c in g["data_categories"]}
    used = {
        c
        for ds in register.datasets
        for col in ds["collections"]
        for f in col["fields"]
        for c in f.get("data_categories") or []
    } | {c for d in register.system["privacy_declarations"] for c in d["data_categories"]}
    missing = sorted(c for c in used if c.startswith("user.") and c not in grouped)
    if missing:
        raise RenderError(
            f"personal data categories {missing} are in the register but in no group of the policy's "
            "'Data collected' section: add them to data_groups in compliance/templates/labels.yaml"
        )
    return [g[lang] for g in groups]


def subprocessor_lines(register: Register, lang: str) -> list[dict[str, Any]]:
    lines = []
    for sub in register.subprocessors.subprocessors:
        entity = (
            sub.legal_entity if sub.legal_entity.startswith(sub.name) else f"{sub.name} ({sub.legal_entity})"
        )
        places = sorted({label("regions", r, lang) for r in sub.hosting_region})
        lines.append(
            {
                "key": sub.key,
                "entity": entity,
                "service": label("services", sub.key, lang),
                "country": label("countries", sub.country, lang),
                "regions": ", ".join(sub.hosting_region),
                "places": ", ".join(places),
                "transfer": ""
                if sub.transfer_mechanism == "none"
                else label("transfer_mechanisms", sub.transfer_mechanism, lang),
                "dpa": sub.dpa_reference,
                "in_eea": sub.in_eea,
            }
        )
    return lines


def policy_context(register: Register, lang: str) -> dict[str, Any]:
    system = register.system
    retention = {p.key: p for p in register.retention.periods}
    deadlines = register.rights.deadlines
    return {
        "lang": lang,
        "last_updated": format_date(POLICY_LAST_UPDATED, lang),
        "controller": register.controller,
        "authority": register.organization(register.rights.complaint.authority),
        "complaint": register.rights.complaint,
        "cookies": cookie_lines(register, lang),
        "complaint_authority": label("complaint_authority", register.rights.complaint.authority, lang),
        "complaint_website": label("complaint_website", register.rights.complaint.authority, lang),
        "contact": register.rights.contact,
        "data_groups": data_groups(register, lang),
        "purposes": [
            {
                "text": label("purposes", d["data_use"], lang),
                "basis": label("legal_bases", d["legal_basis_for_processing"], lang),
            }
            for d in system["privacy_declarations"]
        ],
        "subprocessors": subprocessor_lines(register, lang),
        "retention": {k: period_words(p.duration, lang) for k, p in retention.items()},
        "archive_readable": register.retention.archive.resolved_tickets == "archived_readable",
        "rights": [label("rights", r.key, lang) for r in register.rights.rights],
        "legal_deadline": period_words(Duration.parse(deadlines.legal.period), lang),
        "legal_article": deadlines.legal.article,
        "extension": period_words(Duration.parse(deadlines.legal.extension), lang),
        "internal_target": period_words(Duration.parse(deadlines.internal_target.period), lang),
        "security": [label("security", m.key, lang) for m in register.security.measures],
    }


def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,  # noqa: S701 - Markdown and CSV for auditors, not HTML; the portal escapes on display
    )


def render_policy(register: Register, lang: str) -> str:
    if lang not in LANGUAGES:
        raise RenderError(f"no privacy policy template for language {lang!r} (have {', '.join(LANGUAGES)})")
    template = _environment().get_template(f"policy_{lang}.md.j2")
    return template.render(**policy_context(register, lang))


# -------------------------------------------------------------------------------- Art. 30 record (RoPA)
ROPA_COLUMNS = [
    "purpose",
    "data_use",
    "legal_basis",
    "data_subjects",
    "personal_data_categories",
    "recipients",
    "third_country_transfers",
    "retention",
    "security_measures",
]


def ropa_rows(register: Register) -> list[dict[str, str]]:
    """One row per processing activity (privacy declaration): the fields of GDPR Art. 30(1)(b)-(g)."""
    subs = {s.key: s for s in register.subprocessors.subprocessors}
    security = "; ".join(m.name for m in register.security.measures)
    rows = []
    for d in register.system["privacy_declarations"]:
        recipients = [subs[k] for k in d.get("egress") or [] if k in subs]
        transfers = [
            f"{s.legal_entity} ({s.country}, {s.transfer_mechanism})" for s in recipients if not s.in_eea
        ]
        rows.append(
            {
                "purpose": label("purposes", d["data_use"], "en"),
                "data_use": d["data_use"],
                "legal_basis": label("legal_bases", d["legal_basis_for_processing"], "en"),
                "data_subjects": "; ".join(label("data_subjects", s, "en") for s in d["data_subjects"]),
                "personal_data_categories": "; ".join(d["data_categories"]),
                "recipients": "; ".join(f"{s.legal_entity} ({s.service})" for s in recipients),
                "third_country_transfers": "; ".join(transfers) or "none",
                "retention": d.get("retention_period") or "",
                "security_measures": security,
            }
        )
    return rows


def render_ropa_csv(register: Register) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=ROPA_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(ropa_rows(register))
    return out.getvalue()


def ropa_context(register: Register) -> dict[str, Any]:
    """What the Art. 30 record states, the same for its Markdown and its PDF."""
    return {
        "controller": register.controller,
        "system": register.system,
        "rows": ropa_rows(register),
        "retention": register.retention.periods,
        "subprocessors": subprocessor_lines(register, "en"),
        "security": register.security.measures,
        "last_updated": POLICY_LAST_UPDATED.isoformat(),
    }


def render_ropa_markdown(register: Register) -> str:
    return _environment().get_template("ropa.md.j2").render(**ropa_context(register))


# ----------------------------------------------------------------------- Art. 30 record as PDF (A4)
ROPA_PDF = "ropa.pdf"
# Helvetica is one of the standard PDF fonts that every reader has, so no font file is needed or embedded and
# the bytes depend only on the register and fpdf2. Its Windows-1252 encoding covers the register's English,
# French and Dutch (é è ë à ç œ, curly quotes, dashes, €); a character outside it fails the render naming it.
PDF_FONT = "Helvetica"
PDF_ENCODING = "windows-1252"
PDF_GENERATED_FROM = (
    "Generated by `nexk compliance render` from the register in compliance/ (the same record as ropa.md); "
    "do not edit by hand."
)


def _pdf_text(value: object) -> str:
    text = str(value)
    try:
        text.encode(PDF_ENCODING)
    except UnicodeEncodeError as exc:
        char = text[exc.start]
        raise RenderError(
            f"the PDF record cannot show {char!r} (U+{ord(char):04X}) in {text!r}: its font ({PDF_FONT}) has "
            f"only {PDF_ENCODING} characters; reword that register entry, or make compliance/render.py embed "
            "a Unicode TTF font"
        ) from None
    return text


class DocumentPdf(FPDF):
    """An A4 document of headings, paragraphs and tables, shared by the Art. 30 record and the evidence pack
    (compliance/pack/pdf.py). Subclasses say how a value becomes printable text, and their footer."""

    heading_size = 12.0
    heading_fill = (225, 225, 225)
    paragraph_align = "L"
    paragraph_gap = 0.0

    def printable(self, value: object) -> str:
        raise NotImplementedError

    def heading(self, text: str, size: float | None = None) -> None:
        size = size or self.heading_size
        if self.y + 30 > self.page_break_trigger:  # never a heading alone at the foot of a page
            self.add_page()
        else:
            self.ln(3)
        self.set_font(PDF_FONT, "B", size)
        self.multi_cell(0, size * 0.5, self.printable(text), new_x="LMARGIN", new_y="NEXT")
        self.ln(1.5)

    def paragraph(self, text: str) -> None:
        self.set_font(PDF_FONT, size=9)
        self.multi_cell(
            0, 4.5, self.printable(text), align=self.paragraph_align, new_x="LMARGIN", new_y="NEXT"
        )
        if self.paragraph_gap:
            self.ln(self.paragraph_gap)

    def grid(self, headings: list[str], rows: list[list[str]], widths: tuple[float, ...]) -> None:
        """A table with a heading row, repeated on every page it spans."""
        self.set_font(PDF_FONT, size=7.5)
        style = FontFace(emphasis="BOLD", fill_color=self.heading_fill)
        with self.table(
            col_widths=widths,
            headings_style=style,
            text_align="LEFT",
            line_height=self.font_size * 1.3,
            padding=1,
        ) as t:
            for cells in [headings, *rows]:
                row = t.row()
                for text in cells:
                    row.cell(self.printable(text))
        self.ln(2)


class _RecordPdf(DocumentPdf):
    """A4 portrait; every page ends with the generated-from note and `Page n of N`. Text the core font cannot
    show stops the render (the record must say exactly what the register says)."""

    def printable(self, value: object) -> str:
        return _pdf_text(value)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(PDF_FONT, size=7)
        self.set_text_color(90)
        self.cell(self.epw - 25, 4, PDF_GENERATED_FROM)
        self.cell(25, 4, f"Page {self.page_no()} of {{nb}}", align="R")

    def fields(self, pairs: list[tuple[str, str]]) -> None:
        """A two-column table: field name (bold), value."""
        self.set_font(PDF_FONT, size=8.5)
        bold = FontFace(emphasis="BOLD")
        with self.table(
            col_widths=(28, 72),
            first_row_as_headings=False,
            text_align="LEFT",
            line_height=self.font_size * 1.3,
            padding=1,
        ) as t:
            for name, value in pairs:
                row = t.row()
                row.cell(_pdf_text(name), style=bold)
                row.cell(_pdf_text(value))
        self.ln(2)


def render_ropa_pdf(register: Register) -> bytes:
    """The Art. 30 record of ropa.md as an A4 PDF; the same register gives the same bytes.

    Reproducible because nothing varies between runs: the creation date is the record's last-updated date,
    the producer names no version, the file id is a hash of the content, and no font is embedded.
    """
    ctx = ropa_context(register)
    controller = ctx["controller"]
    system = ctx["system"]
    pdf = _RecordPdf(orientation="portrait", unit="mm", format="A4")
    pdf.core_fonts_encoding = PDF_ENCODING
    pdf.set_creation_date(datetime.combine(POLICY_LAST_UPDATED, time(), tzinfo=UTC))
    pdf.set_title(_pdf_text(f"Record of processing activities (GDPR Art. 30(1)): {system['name']}"))
    pdf.set_author(_pdf_text(controller["controller"]["name"]))
    pdf.set_creator("nexk compliance render")
    pdf.set_producer("fpdf2")
    pdf.set_lang("en")
    pdf.set_margins(15, 15, 15)
    pdf.set_auto_page_break(True, margin=18)
    pdf.add_page()

    pdf.heading("Record of processing activities (GDPR Art. 30(1))", size=15)
    pdf.paragraph(
        f"Controller record for the system {system['name']} ({system['fides_key']}). "
        f"Last updated {ctx['last_updated']}. The same rows are in ropa.csv; the sources are the fideslang "
        "manifests in compliance/fides/, compliance/subprocessors.yaml, compliance/retention.yaml and "
        "compliance/security_measures.yaml."
    )

    pdf.heading("(a) Controller")
    pdf.fields(
        [
            ("Controller", controller["controller"]["name"]),
            ("Enterprise number", f"BCE {controller['fidesctl_meta']['resource_id']}"),
            ("Address", controller["controller"]["address"]),
            ("Contact", controller["controller"]["email"]),
            ("Data protection officer", controller["data_protection_officer"]["name"]),
            ("Joint controller, representative", "none"),
        ]
    )

    pdf.heading("(b)\N{EN DASH}(g) Processing activities")  # as in ropa.md
    for number, row in enumerate(ctx["rows"], start=1):
        pdf.heading(f"{number}. {row['purpose']}", size=10)
        pdf.fields(
            [
                ("(b) Purpose", f"{row['purpose']} ({row['data_use']})"),
                ("Legal basis", row["legal_basis"]),
                ("(c) Data subjects", row["data_subjects"]),
                ("(c) Personal data categories", row["personal_data_categories"]),
                ("(d) Recipients", row["recipients"]),
                ("(e) Third-country transfers", row["third_country_transfers"]),
                ("(f) Erasure time limits", row["retention"]),
                ("(g) Security measures", row["security_measures"]),
            ]
        )

    pdf.heading("(d), (e) Recipients and transfers")
    pdf.grid(
        ["Subprocessor", "Service", "Country", "Hosting region", "Transfer mechanism", "DPA"],
        [
            [
                sub["entity"],
                sub["service"],
                sub["country"],
                f"{sub['regions']} ({sub['places']})",
                sub["transfer"] or "none (EEA)",
                sub["dpa"],
            ]
            for sub in ctx["subprocessors"]
        ],
        widths=(16, 18, 10, 16, 18, 22),
    )

    pdf.heading("(f) Retention")
    pdf.grid(
        ["Data", "Period", "Starts", "Reason", "At the end", "Enforced by (database policy)"],
        [
            [
                p.name,
                p.period,
                p.starts,
                p.reason,
                p.at_end,
                f"private.retention_policy {p.database_policy}",
            ]
            for p in ctx["retention"]
        ],
        widths=(15, 7, 17, 22, 22, 17),
    )

    pdf.heading("(g) Security measures (Art. 32)")
    pdf.grid(
        ["Measure", "Description", "Implemented by", "Tested by"],
        [
            [m.name, m.description, ", ".join(m.implemented_by), "\n".join(m.tested_by)]
            for m in ctx["security"]
        ],
        widths=(15, 35, 17, 33),
    )
    return bytes(pdf.output())


def render_subprocessors(register: Register) -> str:
    return (
        _environment()
        .get_template("subprocessors.md.j2")
        .render(
            subprocessors=register.subprocessors.subprocessors,
            lines={line["key"]: line for line in subprocessor_lines(register, "en")},
            updated=register.subprocessors.updated.isoformat(),
        )
    )


def render_all(register: Register, directory: Path = GENERATED) -> dict[Path, str]:
    """Every generated text document: {path: content}. The PDF record is bytes: `render_ropa_pdf`."""
    documents = {directory / f"privacy-policy.{lang}.md": render_policy(register, lang) for lang in LANGUAGES}
    documents[directory / "ropa.md"] = render_ropa_markdown(register)
    documents[directory / "ropa.csv"] = render_ropa_csv(register)
    documents[directory / "subprocessors.md"] = render_subprocessors(register)
    return documents


def write_all(register: Register, directory: Path = GENERATED) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for path, content in render_all(register, directory).items():
        path.write_text(content, encoding="utf-8")
        written.append(path)
    pdf = directory / ROPA_PDF
    pdf.write_bytes(render_ropa_pdf(register))
    written.append(pdf)
    return written
