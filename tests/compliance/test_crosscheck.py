"""Cross-checks: register vs migrated schema, infrastructure, database retention, tests and published policy."""

from __future__ import annotations

import shutil
from pathlib import Path

import psycopg
import pytest
from register_edits import edit

from compliance.crosscheck import (
    check_columns_classified,
    check_policy_claims,
    check_retention,
    check_subprocessors_provisioned,
    check_system_matches_subprocessors,
    check_traceability,
    provisioned,
    provisioned_inventories,
    schema_columns,
)
from compliance.register import Register, load
from nexk.paths import REPO_ROOT


@pytest.fixture(scope="module")
def inventories() -> dict:
    return provisioned_inventories()


def without_brevo(register_copy: Path) -> Register:
    path = register_copy / "subprocessors.yaml"
    text = path.read_text(encoding="utf-8")
    start = text.index("  - key: brevo")
    end = text.index("# Regions the Supabase project")
    path.write_text(text[:start] + text[end:], encoding="utf-8")
    return load(register_copy)


def test_every_column_of_the_migrated_schema_is_classified(
    register: Register, db: psycopg.Connection
) -> None:
    columns = schema_columns(db)
    assert ("public", "profiles", "email") in columns and ("auth", "users", "email") in columns
    assert check_columns_classified(register, columns) == []


def test_an_unclassified_personal_column_fails_naming_it(register: Register, db: psycopg.Connection) -> None:
    db.execute("alter table public.profiles add column mobile_phone text")
    problems = check_columns_classified(register, schema_columns(db))
    assert len(problems) == 1
    assert problems[0].startswith("column public.profiles.mobile_phone is not classified")
    assert "compliance/fides/dataset.yml" in problems[0]


def test_a_classified_column_that_no_longer_exists_fails_naming_it(
    register: Register, db: psycopg.Connection
) -> None:
    db.execute("alter table public.profiles drop column position")
    problems = check_columns_classified(register, schema_columns(db))
    assert problems == [
        "compliance/fides/dataset.yml classifies public.profiles.position, which the migrated schema does not "
        "have: remove it or fix its name"
    ]


def test_retention_periods_in_the_register_equal_what_the_database_enforces(
    register: Register, db: psycopg.Connection
) -> None:
    assert check_retention(register, db) == []
    assert register.retention.get("technical_logs").period == "P90D"
    assert register.retention.get("contract_data").period == "P5Y"
    assert register.retention.archive.resolved_tickets == "archived_readable"


def test_a_retention_period_that_differs_from_the_database_fails_naming_both(
    register: Register, db: psycopg.Connection
) -> None:
    db.execute(
        "update private.retention_policy set period = interval '60 days' where name = 'technical_logs'"
    )
    assert check_retention(register, db) == [
        "retention `technical_logs`: compliance/retention.yaml says P90D (90 days) but the database enforces 60 days"
    ]


def test_a_database_retention_policy_missing_from_the_register_fails(
    register: Register, db: psycopg.Connection
) -> None:
    db.execute(
        "insert into private.retention_policy (name, period, description) values ('chat_logs', '1 year', 'test')"
    )
    problems = check_retention(register, db)
    assert len(problems) == 1 and "retention policy `chat_logs` (1 year)" in problems[0]


def test_the_repository_subprocessors_equal_what_every_stack_provisions(
    register: Register, inventories: dict
) -> None:
    assert set(inventories) == {"dev", "staging", "prod"}
    assert inventories["prod"]["supabase"] == ("eu-central-1",)
    assert check_subprocessors_provisioned(register, inventories) == []
    assert check_system_matches_subprocessors(register) == []


def test_removing_brevo_from_the_register_fails_naming_brevo(register_copy: Path, inventories: dict) -> None:
    broken = without_brevo(register_copy)
    provisioned_problems = check_subprocessors_provisioned(broken, inventories)
    assert len(provisioned_problems) == 3  # one per stack
    assert all("provisions subprocessor `brevo`" in p for p in provisioned_problems)
    system_problems = check_system_matches_subprocessors(broken)
    assert any(
        "egress to `brevo`, which is not in compliance/subprocessors.yaml" in p for p in system_problems
    )


def test_a_stack_with_supabase_in_us_east_1_fails_naming_the_region(
    register: Register, tmp_path: Path
) -> None:
    shutil.copy(REPO_ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    stack = tmp_path / "Pulumi.prod.yaml"
    shutil.copy(REPO_ROOT / "Pulumi.prod.yaml", stack)
    edit(stack, "region: eu-central-1", "region: us-east-1")
    problems = check_subprocessors_provisioned(register, {"prod": provisioned("prod", tmp_path)})
    assert problems == [
        "stack prod: Supabase is provisioned in region(s) ['us-east-1'] but compliance/subprocessors.yaml "
        "registers ['eu-central-1'] (hosting_region)",
        "Supabase is provisioned in us-east-1, outside supabase_allowed_regions ['eu-central-1']",
    ]


def test_a_subprocessor_the_register_lists_but_no_stack_provisions_fails(register: Register) -> None:
    inventories = {"prod": {"vercel": ("fra1",), "supabase": ("eu-central-1",)}}
    assert check_subprocessors_provisioned(register, inventories) == [
        "compliance/subprocessors.yaml lists Brevo (`brevo`) but stack prod does not provision it: remove it "
        "from the register and the privacy policy, or provision it"
    ]


def test_every_statement_of_the_published_policy_maps_to_a_claim(register: Register) -> None:
    assert check_policy_claims(register) == []


def test_a_policy_statement_without_a_claim_fails_quoting_it(register: Register, tmp_path: Path) -> None:
    seed = tmp_path / "policy.txt"
    seed.write_text("Security\nWe delete everything after one day.\n", encoding="utf-8")
    problems = check_policy_claims(register, seed)
    assert problems[0] == (
        "privacy policy statement not mapped to any claim in compliance/claims.yaml: "
        "'we delete everything after one day.'"
    )


def test_every_claim_and_measure_points_to_existing_code_and_tests(register: Register) -> None:
    assert check_traceability(register) == []


def test_a_claim_pointing_to_a_missing_test_fails(register_copy: Path) -> None:
    edit(
        register_copy / "claims.yaml",
        "tests/compliance/test_register.py::test_there_is_one_privacy_declaration_per_purpose_and_legal_basis_of_the_policy",
        "tests/compliance/test_register.py::test_that_was_renamed",
    )
    problems = check_traceability(load(register_copy))
    assert problems == [
        "compliance/claims.yaml: claim `purposes_and_legal_bases`: test "
        "tests/compliance/test_register.py::test_that_was_renamed does not exist (renamed or removed?)"
    ]


def test_a_new_unclassified_table_fails_once_naming_its_columns(
    register: Register, db: psycopg.Connection
) -> None:
    db.execute("create table private.chat_transcripts (id uuid primary key, visitor_email text, body text)")
    problems = check_columns_classified(register, schema_columns(db))
    assert len(problems) == 1
    assert problems[0].startswith(
        "table private.chat_transcripts is not classified (columns body, id, visitor_email): add a collection "
        "`chat_transcripts` to dataset `mynexk_private`"
    )
