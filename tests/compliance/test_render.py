"""The generated documents: policy in three languages, Art. 30 record, subprocessor list."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from register_edits import edit

from compliance.crosscheck import SEED_POLICY, check_generated_up_to_date, normalise
from compliance.register import Register, load
from compliance.render import ROPA_COLUMNS, RenderError, label, render_all, render_policy, render_ropa_csv


def test_the_rendered_english_policy_states_every_fact_of_the_published_policy(register: Register) -> None:
    """Every fact of today's published policy (each claim's facts, each quoted from the seed) is still stated."""
    seed = normalise(SEED_POLICY.read_text(encoding="utf-8"))
    policy = normalise(render_policy(register, "en"))
    facts = [fact for claim in register.claims.claims for fact in claim.facts]
    assert len(facts) >= 40
    assert [f for f in facts if normalise(f) not in seed] == []  # the facts really are the published ones
    assert [f for f in facts if normalise(f) not in policy] == []


@pytest.mark.parametrize(
    ("lang", "phrases"),
    [
        ("en", ["Privacy policy", "five (5) years", "90 days", "one month", "Art. 12(3) GDPR"]),
        ("fr", ["Politique de confidentialité", "cinq (5) ans", "90 jours", "un mois", "Francfort", "CCT"]),
        ("nl", ["Privacybeleid", "vijf (5) jaar", "90 dagen", "één maand", "Frankfurt", "Drukpersstraat 35"]),
    ],
)
def test_the_policy_renders_in_english_french_and_dutch(
    register: Register, lang: str, phrases: list[str]
) -> None:
    text = render_policy(register, lang)
    assert [p for p in phrases if p not in text] == []
    for constant in (
        "BE 1037.508.040",
        "hello@nexk-it.com",
        "contact@apd-gba.be",
        "Vercel Inc.",
        "Supabase Inc.",
    ):
        assert constant in text


@pytest.mark.parametrize(
    ("lang", "website"),
    [
        ("en", "www.dataprotectionauthority.be"),
        ("fr", "www.autoriteprotectiondonnees.be"),
        ("nl", "www.gegevensbeschermingsautoriteit.be"),
    ],
)
def test_each_language_names_the_authority_and_its_website_in_that_language(
    register: Register, lang: str, website: str
) -> None:
    text = render_policy(register, lang)
    assert website in text
    sites = (
        "www.dataprotectionauthority.be",
        "www.autoriteprotectiondonnees.be",
        "www.gegevensbeschermingsautoriteit.be",
    )
    assert [site for site in sites if site != website and site in text] == []


def test_the_english_wording_of_the_authority_is_the_register_s() -> None:
    """labels.yaml words the authority for French and Dutch readers; its English must not drift from the
    register's (organization.yml and rights.yaml), which the published policy states."""
    register = load()
    authority = register.organization(register.rights.complaint.authority)
    key = register.rights.complaint.authority
    assert label("complaint_website", key, "en") == register.rights.complaint.website
    assert label("complaint_authority", key, "en") == (
        f"{authority['controller']['name']} — {authority['controller']['address']}"
    )


def test_the_committed_generated_documents_are_up_to_date(register: Register) -> None:
    assert check_generated_up_to_date(register) == []


def test_the_record_of_processing_has_one_row_per_purpose_with_every_art_30_field(register: Register) -> None:
    rows = list(csv.DictReader(io.StringIO(render_ropa_csv(register))))
    assert [r["legal_basis"].split(" — ")[0] for r in rows] == [
        "Article 6.1.b GDPR",
        "legitimate interest",
        "legitimate interest",
        "legal obligation",
    ]
    assert all(r[c] for r in rows for c in ROPA_COLUMNS)
    assert "Vercel Inc. (US, SCC)" in rows[0]["third_country_transfers"]
    markdown = render_all(register)
    assert any(p.name == "ropa.md" and "(e) Third-country transfers" in text for p, text in markdown.items())


def test_a_purpose_without_wording_fails_the_render_naming_it(register_copy: Path) -> None:
    edit(
        register_copy / "fides/system.yml",
        "data_use: analytics.reporting.system.performance",
        "data_use: marketing.communications.email",
    )
    with pytest.raises(RenderError, match=r"no en wording for purposes `marketing.communications.email`"):
        render_policy(load(register_copy), "en")


def test_a_personal_category_outside_every_data_group_fails_the_render(register_copy: Path) -> None:
    edit(
        register_copy / "fides/dataset.yml",
        "{name: position, data_categories: [user.job_title]}",
        "{name: position, data_categories: [user.demographic.date_of_birth]}",
    )
    with pytest.raises(RenderError, match=r"user\.demographic\.date_of_birth"):
        render_policy(load(register_copy), "en")
