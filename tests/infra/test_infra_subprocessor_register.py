"""The subprocessor register loader: the privacy policy's three vendors, and errors naming file and field."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from nexk.subprocessors import REGISTER_PATH, RegisterError, load_register, parse_register


def test_the_register_lists_the_privacy_policys_subprocessors() -> None:
    register = load_register()

    assert {s.key: (s.legal_entity, s.country, s.transfer_mechanism) for s in register.subprocessors} == {
        "vercel": ("Vercel Inc.", "US", "SCC"),
        "supabase": ("Supabase Inc.", "DE", "none"),
        "brevo": ("Sendinblue SAS", "FR", "none"),
    }
    assert register.supabase_allowed_regions == ("eu-central-1",)
    assert register.get("supabase").hosting_region == ("eu-central-1",)


def data() -> dict:
    return yaml.safe_load(REGISTER_PATH.read_text())


def test_a_us_vendor_without_a_transfer_mechanism_is_refused_naming_the_entry() -> None:
    broken = data()
    broken["subprocessors"][0]["transfer_mechanism"] = "none"

    with pytest.raises(RegisterError, match=r"register\.yaml: subprocessors\[0\]: .*outside the EEA"):
        parse_register(broken, source="register.yaml")


def test_an_unknown_data_category_is_refused() -> None:
    broken = data()
    broken["subprocessors"][1]["data_categories"].append("user.shoe_size")

    with pytest.raises(RegisterError, match=r"subprocessors\[1\]\.data_categories: .*user\.shoe_size"):
        parse_register(broken)


def test_a_missing_field_is_named() -> None:
    broken = data()
    del broken["subprocessors"][2]["dpa_reference"]

    with pytest.raises(RegisterError, match=r"subprocessors\[2\]\.dpa_reference: Field required"):
        parse_register(broken)


def test_a_missing_register_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(RegisterError, match="the subprocessor register is missing"):
        load_register(tmp_path / "subprocessors.yaml")
