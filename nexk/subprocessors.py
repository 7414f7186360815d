"""The subprocessor register (`compliance/subprocessors.yaml`): typed, validated, with errors that name the field.

Used by the infrastructure program (which vendors may appear, where Supabase may live), the policy pack, the
portal (the Art. 19 recipients an admin's DSR actions name) and the compliance checks, so it lives in the base
package every layer may import; the data stays with the register in `compliance/`. The loader is the one way
to read it:

    from nexk.subprocessors import load_register
    register = load_register()          # RegisterError names file and field on a bad entry
    register.get("supabase").hosting_region
"""

from __future__ import annotations

from datetime import date
from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from nexk.errors import NexkError
from nexk.paths import REPO_ROOT

REGISTER_PATH = REPO_ROOT / "compliance" / "subprocessors.yaml"

# EU member states plus Iceland, Liechtenstein and Norway: transfers inside need no extra mechanism (GDPR Art. 44).
EEA_COUNTRIES = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "HR",
        "CY",
        "CZ",
        "DK",
        "EE",
        "FI",
        "FR",
        "DE",
        "GR",
        "HU",
        "IE",
        "IT",
        "LV",
        "LT",
        "LU",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SK",
        "SI",
        "ES",
        "SE",
        "IS",
        "LI",
        "NO",
    ]
)

TransferMechanism = Literal["none", "SCC", "adequacy", "BCR"]


class RegisterError(NexkError):
    """The register file is missing or malformed; the message names the file and the field."""


class Subprocessor(BaseModel):
    """One vendor that processes personal data on our behalf (GDPR Art. 28)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str = Field(pattern=r"^[a-z][a-z0-9_-]*$", description="identifier used by code")
    name: str = Field(min_length=1)
    legal_entity: str = Field(min_length=1)
    service: str = Field(min_length=1)
    country: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")
    hosting_region: tuple[str, ...] = Field(min_length=1)
    transfer_mechanism: TransferMechanism
    dpa_reference: str = Field(min_length=1)
    data_categories: tuple[str, ...] = Field(min_length=1)

    @field_validator("data_categories")
    @classmethod
    def _known_fideslang_categories(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        known = _fideslang_data_categories()
        unknown = [item for item in value if item not in known]
        if unknown:
            raise ValueError(
                f"unknown fideslang data categories {unknown} (see fideslang's default taxonomy)"
            )
        return value

    @model_validator(mode="after")
    def _transfer_mechanism_matches_country(self) -> Subprocessor:
        # Outside the EEA a transfer needs a legal basis; inside, claiming one would mislead the reader.
        inside = self.country in EEA_COUNTRIES
        if inside and self.transfer_mechanism != "none":
            raise ValueError(f"country {self.country} is in the EEA: transfer_mechanism must be 'none'")
        if not inside and self.transfer_mechanism == "none":
            raise ValueError(
                f"country {self.country} is outside the EEA: transfer_mechanism must be SCC, adequacy or BCR"
            )
        return self

    @property
    def in_eea(self) -> bool:
        return self.country in EEA_COUNTRIES


class Register(BaseModel):
    """The whole register file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    register_version: int = Field(ge=1)
    updated: date
    subprocessors: tuple[Subprocessor, ...] = Field(min_length=1)
    supabase_allowed_regions: tuple[str, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_keys(self) -> Register:
        keys = [s.key for s in self.subprocessors]
        duplicates = sorted({k for k in keys if keys.count(k) > 1})
        if duplicates:
            raise ValueError(f"subprocessor keys must be unique, repeated: {duplicates}")
        return self

    @property
    def keys(self) -> frozenset[str]:
        return frozenset(s.key for s in self.subprocessors)

    def get(self, key: str) -> Subprocessor:
        for sub in self.subprocessors:
            if sub.key == key:
                return sub
        raise KeyError(f"{key!r} is not a registered subprocessor (registered: {sorted(self.keys)})")


@cache
def _fideslang_data_categories() -> frozenset[str]:
    # Imported lazily: fideslang pulls in a large taxonomy that only validation needs.
    from fideslang.default_taxonomy import DEFAULT_TAXONOMY

    return frozenset(category.fides_key for category in DEFAULT_TAXONOMY.data_category)


def _location(loc: tuple[int | str, ...]) -> str:
    """pydantic's error location as the reader sees the YAML: `subprocessors[1].country`."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def parse_register(data: object, source: str = "subprocessors.yaml") -> Register:
    """Validate already-parsed YAML; `source` names the file in error messages."""
    try:
        return Register.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{_location(e['loc'])}: {e['msg']}" for e in exc.errors())
        raise RegisterError(f"{source}: {problems}") from exc


def load_register(path: Path = REGISTER_PATH) -> Register:
    """Read and validate the register file."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise RegisterError(f"{path}: the subprocessor register is missing") from exc
    except yaml.YAMLError as exc:
        raise RegisterError(f"{path}: not valid YAML: {exc}") from exc
    return parse_register(data, source=str(path))


def art19_recipients() -> list[dict[str, str]]:
    """The Art. 19 recipients (every subprocessor, named as a data subject reads them): the one list the DSR
    tooling and the portal's admin actions both show."""
    return [
        {"name": f"{sub.legal_entity} ({sub.name}, {sub.country})", "service": sub.service}
        for sub in load_register().subprocessors
    ]
