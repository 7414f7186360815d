"""The register files load, validate against fideslang 3.x and report bad input with file, line and field."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from register_edits import edit

from compliance.register import Duration, Register, load
from compliance.taxonomy import default_keys, iter_keys
from compliance.yamlsource import RegisterError


def test_the_repository_register_loads_and_validates_against_fideslang(register: Register) -> None:
    assert register.system["fides_key"] == "mynexk_portal"
    assert {d["fides_key"] for d in register.datasets} >= {"mynexk_public", "mynexk_auth"}
    assert register.subprocessors.keys == {"vercel", "supabase", "brevo"}


def test_every_taxonomy_key_in_the_register_exists_in_fideslangs_default_taxonomy(register: Register) -> None:
    manifests = [register.organizations, register.systems, register.datasets]
    keys = [k for m in manifests for k in iter_keys(m)]
    assert len(keys) > 200  # every dataset field counts
    assert all(k.value in default_keys(k.kind) for k in keys)


def test_the_organization_manifest_names_the_controller_and_the_supervisory_authority(
    register: Register,
) -> None:
    controller = register.controller
    assert controller["controller"]["name"] == "NexK IT Solutions — Konan Gérald"
    assert controller["controller"]["address"] == "Lotelingstraat 38, 2812 Muizen, Belgium"
    assert controller["controller"]["email"] == "hello@nexk-it.com"
    assert controller["fidesctl_meta"]["resource_id"] == "BE 1037.508.040"
    authority = register.organization(register.rights.complaint.authority)
    assert authority["controller"] == {
        "name": "Data Protection Authority (APD/GBA)",
        "address": "Rue de la Presse 35, 1000 Brussels",
        "email": "contact@apd-gba.be",
    }


def test_there_is_one_privacy_declaration_per_purpose_and_legal_basis_of_the_policy(
    register: Register,
) -> None:
    declared = [
        (d["data_use"], d["legal_basis_for_processing"]) for d in register.system["privacy_declarations"]
    ]
    assert declared == [
        ("essential.service.operations.support", "Contract"),
        ("essential.service.authentication", "Legitimate interests"),
        ("analytics.reporting.system.performance", "Legitimate interests"),
        ("essential.legal_obligation", "Legal obligations"),
    ]


def test_a_malformed_register_file_fails_with_file_line_and_field(register_copy: Path) -> None:
    edit(register_copy / "retention.yaml", "period: P90D", "period: 90 days")
    edit(
        register_copy / "fides/system.yml",
        "legal_basis_for_processing: Contract",
        "legal_basis_for_processing: Contrat",
    )
    with pytest.raises(RegisterError) as caught:
        load(register_copy)
    retention_line = next(
        n
        for n, line in enumerate((register_copy / "retention.yaml").read_text().splitlines(), 1)
        if "90 days" in line
    )
    problems = caught.value.problems
    assert any(
        p.startswith(f"{register_copy}/retention.yaml:{retention_line}: periods[1].period:") and "P90D" in p
        for p in problems
    ), problems
    assert any(
        "fides/system.yml:" in p
        and "system[0].privacy_declarations[0].legal_basis_for_processing" in p
        and "'Contract'" in p
        for p in problems
    ), problems


def test_a_missing_required_field_names_the_entry_that_lacks_it(register_copy: Path) -> None:
    edit(
        register_copy / "security_measures.yaml",
        "    implemented_by: [db/schema/0362_baseline.sql, db/functions/audit.sql]\n",
        "",
    )
    with pytest.raises(RegisterError) as caught:
        load(register_copy)
    assert any(
        "security_measures.yaml:" in p and "measures[3].implemented_by: Field required" in p
        for p in caught.value.problems
    )


def test_a_yaml_syntax_error_names_file_and_line(register_copy: Path) -> None:
    edit(register_copy / "rights.yaml", "  email: hello@nexk-it.com", "  email: [hello@nexk-it.com")
    with pytest.raises(RegisterError, match=r"rights\.yaml:\d+: \(syntax\): not valid YAML"):
        load(register_copy)


def test_an_unknown_taxonomy_key_names_the_nearest_valid_ones(register_copy: Path) -> None:
    edit(
        register_copy / "fides/dataset.yml",
        "{name: phone, data_categories: [user.contact.phone_number]}",
        "{name: phone, data_categories: [user.contact.phone_nmuber]}",
    )
    edit(
        register_copy / "fides/system.yml",
        "data_use: essential.legal_obligation",
        "data_use: essential.legal_obligations",
    )
    with pytest.raises(RegisterError) as caught:
        load(register_copy)
    text = str(caught.value)
    assert "unknown data category 'user.contact.phone_nmuber'" in text
    assert "did you mean user.contact.phone_number" in text
    assert "unknown data use 'essential.legal_obligations'" in text
    assert "did you mean essential.legal_obligation" in text
    assert "dataset.yml:" in text and "fields[7].data_categories[0]" in text


def test_every_right_of_the_register_is_a_request_type_the_database_accepts(
    register: Register, db: psycopg.Connection
) -> None:
    for right in register.rights.rights:
        with db.transaction(force_rollback=True):
            db.execute(
                "insert into public.dsr_requests (subject_email, type) values ('subject@example.be', %s)",
                (right.dsr_type,),
            )
    assert {r.key for r in register.rights.rights} == {
        "access",
        "rectification",
        "erasure",
        "restriction",
        "portability",
        "objection",
    }


def test_the_internal_answer_target_is_30_days_and_never_later_than_the_legal_month(
    register: Register, db: psycopg.Connection
) -> None:
    deadlines = register.rights.deadlines
    assert Duration.parse(deadlines.internal_target.period) == Duration(days=30)
    assert Duration.parse(deadlines.legal.period) == Duration(months=1)
    assert deadlines.legal.article == "Art. 12(3) GDPR"
    # The database computes both clocks from the receipt date; February shows "one month" is not 30 days.
    row = db.execute(
        "insert into public.dsr_requests (subject_email, type, received_at)"
        " values ('subject@example.be', 'access', '2026-02-01 10:00+00')"
        " returning internal_due_at - received_at, legal_due_at - received_at"
    ).fetchone()
    internal, legal = row
    assert internal.days == 30
    assert legal.days == 28  # 1 February + one calendar month
