"""The evidence pack as one self-contained HTML file per language (template: templates/pack.html.j2)."""

from __future__ import annotations

from itertools import groupby
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from compliance.pack.evidence import HISTORY_LIMIT, Evidence, TestRun
from compliance.pack.flowmap import flow_map
from compliance.pack.words import LANGUAGES, RESULTS, SETTINGS, word
from compliance.render import TEMPLATES, label, period_words


def first_upper(text: str) -> str:
    """`TLS 1.3 encryption` stays as is, `chiffrement TLS` becomes `Chiffrement TLS` (str.capitalize would
    lower-case the rest)."""
    return text[:1].upper() + text[1:]


def claim_totals(tests: TestRun, evidence: Evidence) -> dict[str, int]:
    ids = [t for c in evidence.register.claims.claims for t in c.tested_by]
    outcomes = [tests.result(t) for t in ids]
    return {
        "total": len(ids),
        "passed": outcomes.count("passed"),
        "failed": outcomes.count("failed"),
        "missing": len(ids) - outcomes.count("passed") - outcomes.count("failed"),
    }


def declarations(evidence: Evidence) -> list[dict[str, Any]]:
    """The privacy declarations with their third-country transfers spelled out (Art. 30(1)(e))."""
    subs = {s.key: s for s in evidence.register.subprocessors.subprocessors}
    out = []
    for d in evidence.register.system["privacy_declarations"]:
        outside = [subs[k] for k in d.get("egress") or [] if k in subs and not subs[k].in_eea]
        transfers = "; ".join(f"{s.legal_entity} ({s.country}, {s.transfer_mechanism})" for s in outside)
        out.append({**d, "transfers": transfers or "-"})
    return out


def context(evidence: Evidence, lang: str) -> dict[str, Any]:
    return {
        "lang": lang,
        "languages": LANGUAGES,
        "evidence": evidence,
        "flow_map": flow_map(evidence.flows, lang),
        "settings_by_stack": [(k, list(g)) for k, g in groupby(evidence.settings, key=lambda s: s.stack)],
        "declarations": declarations(evidence),
        "claim_totals": claim_totals(evidence.tests, evidence),
        "history_limit": HISTORY_LIMIT,
        "w": lambda key, **values: word(key, lang, **values),
        "label": lambda section, key: label(section, key, lang),
        "setting": lambda name: SETTINGS[name][lang],
        "period": lambda p: period_words(p.duration, lang),
        "result": evidence.tests.result,
        "result_word": lambda outcome: RESULTS[outcome][lang],
        "first_upper": first_upper,
        "css": lambda outcome: outcome.replace(" ", "-"),
    }


def render_html(evidence: Evidence, lang: str) -> str:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env.get_template("pack.html.j2").render(**context(evidence, lang))
