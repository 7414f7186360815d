"""The GDPR register in `compliance/`: load every file, validate it, and say exactly what is wrong where.

    from compliance.register import load
    register = load()            # RegisterError lists every problem as `file:line: field: message`

Files (paths relative to `compliance/`):
- `fides/organization.yml`, `fides/system.yml`, `fides/dataset.yml`: fideslang 3.x manifests, validated with
  fideslang's own models, and every taxonomy key checked against its default taxonomy (compliance.taxonomy);
- `subprocessors.yaml`: owned by the infrastructure program, read through `nexk.subprocessors`;
- `retention.yaml`, `rights.yaml`, `security_measures.yaml`, `claims.yaml`, `cookies.yaml`: validated by the models
  below.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from compliance.taxonomy import unknown_keys
from compliance.yamlsource import RegisterError, Source, load_yaml
from nexk import subprocessors as subprocessor_register

COMPLIANCE_DIR = Path(__file__).resolve().parent

ISO_DURATION = re.compile(r"^P(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<days>\d+)D)?$")


@dataclass(frozen=True)
class Duration:
    """An ISO 8601 calendar duration limited to years, months and days (what retention and deadlines need)."""

    years: int = 0
    months: int = 0
    days: int = 0

    @classmethod
    def parse(cls, text: str) -> Duration:
        match = ISO_DURATION.match(text)
        if not match or text == "P":
            raise ValueError(f"{text!r} is not an ISO 8601 duration such as P5Y, P1M or P90D")
        return cls(**{k: int(v or 0) for k, v in match.groupdict().items()})

    @property
    def iso(self) -> str:
        parts = [(self.years, "Y"), (self.months, "M"), (self.days, "D")]
        return "P" + "".join(f"{n}{unit}" for n, unit in parts if n) if any(n for n, _ in parts) else "P0D"

    @property
    def postgres(self) -> str:
        """The same period as a PostgreSQL interval literal (`5 years`, `90 days`)."""
        parts = [(self.years, "years"), (self.months, "months"), (self.days, "days")]
        return " ".join(f"{n} {unit}" for n, unit in parts if n) or "0 days"


def _duration(value: str) -> str:
    Duration.parse(value)
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --------------------------------------------------------------------------------------------- retention
class RetentionPeriod(_Strict):
    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str = Field(min_length=1)
    applies_to: str = Field(min_length=1)
    data_categories: tuple[str, ...] = Field(min_length=1)
    starts: str = Field(min_length=1)
    period: str
    reason: str = Field(min_length=1)
    at_end: str = Field(min_length=1)
    database_policy: str = Field(pattern=r"^[a-z][a-z0-9_]*$")

    _check_period = field_validator("period")(_duration)

    @property
    def duration(self) -> Duration:
        return Duration.parse(self.period)


class Archive(_Strict):
    resolved_tickets: Literal["archived_readable", "deleted"]


class Retention(_Strict):
    register_version: int = Field(ge=1)
    periods: tuple[RetentionPeriod, ...] = Field(min_length=1)
    archive: Archive

    @model_validator(mode="after")
    def _unique(self) -> Retention:
        for attr in ("key", "database_policy"):
            values = [getattr(p, attr) for p in self.periods]
            repeated = sorted({v for v in values if values.count(v) > 1})
            if repeated:
                raise ValueError(f"{attr} must be unique, repeated: {repeated}")
        return self

    def get(self, key: str) -> RetentionPeriod:
        return next(p for p in self.periods if p.key == key)


# ------------------------------------------------------------------------------------------------ rights
class Contact(_Strict):
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$")
    identity_proof_required: bool


class LegalDeadline(_Strict):
    period: str
    article: str = Field(min_length=1)
    extension: str

    _check = field_validator("period", "extension")(_duration)


class InternalTarget(_Strict):
    period: str

    _check = field_validator("period")(_duration)


class Deadlines(_Strict):
    legal: LegalDeadline
    internal_target: InternalTarget


class Right(_Strict):
    key: Literal["access", "rectification", "erasure", "restriction", "portability", "objection"]
    article: str = Field(pattern=r"^Art\. \d+ GDPR$")
    dsr_type: str = Field(pattern=r"^[a-z_]+$")
    applies_to_legal_bases: tuple[str, ...] = ()


class Complaint(_Strict):
    authority: str = Field(min_length=1)
    website: str = Field(min_length=1)


class Rights(_Strict):
    register_version: int = Field(ge=1)
    contact: Contact
    deadlines: Deadlines
    rights: tuple[Right, ...] = Field(min_length=1)
    complaint: Complaint


# -------------------------------------------------------------------------------- security and claims
TEST_NODE = re.compile(r"^[\w./-]+\.py::\w+$")


def _test_node_ids(value: tuple[str, ...]) -> tuple[str, ...]:
    for node in value:
        if not TEST_NODE.match(node):
            raise ValueError(f"{node!r} is not a pytest node id such as tests/x/test_y.py::test_z")
    return value


class SecurityMeasure(_Strict):
    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str = Field(min_length=1)
    description: str = Field(min_length=1)
    implemented_by: tuple[str, ...] = Field(min_length=1)
    tested_by: tuple[str, ...] = Field(min_length=1)

    _check_tests = field_validator("tested_by")(_test_node_ids)


class SecurityMeasures(_Strict):
    register_version: int = Field(ge=1)
    measures: tuple[SecurityMeasure, ...] = Field(min_length=1)


class Cookie(_Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    purpose: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    max_age_seconds: int | None = Field(ge=1)  # None: deleted when the browser session ends


class Cookies(_Strict):
    register_version: int = Field(ge=1)
    cookies: tuple[Cookie, ...] = Field(min_length=1)


class Claim(_Strict):
    """One promise of the published privacy policy, the code that keeps it and the tests that prove it."""

    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    section: str = Field(min_length=1)
    # The sentences of the published policy (seed) this claim covers, verbatim.
    policy_text: tuple[str, ...] = Field(min_length=1)
    # Short phrases the generated English policy must contain (each also appears in policy_text).
    facts: tuple[str, ...] = ()
    implemented_by: tuple[str, ...] = Field(min_length=1)
    tested_by: tuple[str, ...] = Field(min_length=1)

    _check_tests = field_validator("tested_by")(_test_node_ids)


class Claims(_Strict):
    register_version: int = Field(ge=1)
    policy_source: str = Field(min_length=1)
    claims: tuple[Claim, ...] = Field(min_length=1)


# ---------------------------------------------------------------------------------------------- loading
@dataclass(frozen=True)
class Register:
    directory: Path
    organizations: list[dict[str, Any]]
    systems: list[dict[str, Any]]
    datasets: list[dict[str, Any]]
    subprocessors: subprocessor_register.Register
    retention: Retention
    rights: Rights
    security: SecurityMeasures
    claims: Claims
    cookies: Cookies
    sources: dict[str, Source]

    @property
    def controller(self) -> dict[str, Any]:
        return self.organizations[0]

    def organization(self, key: str) -> dict[str, Any]:
        return next(o for o in self.organizations if o["fides_key"] == key)

    @property
    def system(self) -> dict[str, Any]:
        return self.systems[0]


FIDES_FILES = {
    "organization": "fides/organization.yml",
    "system": "fides/system.yml",
    "dataset": "fides/dataset.yml",
}
MODEL_FILES: dict[str, tuple[str, type[BaseModel]]] = {
    "retention": ("retention.yaml", Retention),
    "rights": ("rights.yaml", Rights),
    "security": ("security_measures.yaml", SecurityMeasures),
    "claims": ("claims.yaml", Claims),
    "cookies": ("cookies.yaml", Cookies),
}


def _validate_fides(kind: str, data: Any, source: Source, problems: list[str]) -> list[dict[str, Any]]:
    from fideslang.models import Taxonomy

    if not isinstance(data, dict) or not isinstance(data.get(kind), list):
        problems.append(source.describe((), f"expected a top-level `{kind}:` list (fideslang manifest)"))
        return []
    extra = sorted(set(data) - {kind})
    if extra:
        problems.append(
            source.describe((extra[0],), f"unexpected top-level key; this file holds `{kind}` only")
        )
    try:
        Taxonomy.model_validate({kind: data[kind]})
    except ValidationError as exc:
        problems.extend(source.validation_problems(exc))
    problems.extend(unknown_keys(data, source))
    return data[kind]


def _load_subprocessors(directory: Path, problems: list[str]) -> subprocessor_register.Register | None:
    path = directory / "subprocessors.yaml"
    try:
        data, source = load_yaml(path)
    except RegisterError as exc:
        problems.extend(exc.problems)
        return None
    # The owner's loader is the one way to read the file; lines come from ours.
    try:
        return subprocessor_register.Register.model_validate(data)
    except ValidationError as exc:
        problems.extend(source.validation_problems(exc))
        problems.extend(p for p in unknown_keys(data, source) if p not in problems)
        return None


def load(directory: Path = COMPLIANCE_DIR) -> Register:
    """Load and validate the whole register; every problem of every file is reported at once."""
    problems: list[str] = []
    sources: dict[str, Source] = {}
    fides: dict[str, list[dict[str, Any]]] = {}
    for kind, relative in FIDES_FILES.items():
        try:
            data, source = load_yaml(directory / relative)
        except RegisterError as exc:
            problems.extend(exc.problems)
            continue
        sources[relative] = source
        fides[kind] = _validate_fides(kind, data, source, problems)
    models: dict[str, BaseModel] = {}
    for attr, (relative, model) in MODEL_FILES.items():
        try:
            data, source = load_yaml(directory / relative)
        except RegisterError as exc:
            problems.extend(exc.problems)
            continue
        sources[relative] = source
        try:
            models[attr] = model.model_validate(data)
        except ValidationError as exc:
            problems.extend(source.validation_problems(exc))
        problems.extend(unknown_keys(data, source))
    subs = _load_subprocessors(directory, problems)
    if problems:
        raise RegisterError(problems)
    assert subs is not None
    return Register(
        directory=directory,
        organizations=fides["organization"],
        systems=fides["system"],
        datasets=fides["dataset"],
        subprocessors=subs,
        sources=sources,
        **models,  # type: ignore[arg-type]
    )
