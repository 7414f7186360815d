"""The typed settings of one stack, read from `Pulumi.<stack>.yaml` (namespace `nexk:`) and validated up front.

Every value an auditor reviews lives in the stack file and nowhere else: Supabase region, Vercel function
regions, the portal domain, the Brevo sender domain and sender. A missing or malformed value stops the program
before any resource is declared, with the stack file, the key and the expected form in the message.

Secrets never appear here in plain text: they are Pulumi config secrets (`pulumi config set --secret`) whose
presence and secrecy this module checks, or values the program generates with pulumi-random.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic.alias_generators import to_camel

from nexk.errors import NexkError

NAMESPACE = "nexk"
REPO_ROOT = Path(__file__).resolve().parent.parent
PRODUCTION_STACK = "prod"

# Config secrets the program reads; each must be set with `pulumi config set --secret`.
REQUIRED_SECRETS = {
    "brevoSmtpKey": "the Brevo SMTP key (Brevo > SMTP & API > SMTP keys), used by Supabase Auth's SMTP",
    # Not `brevoApiKey`: that one is the account-wide key the providers manage Brevo with; the portal gets a
    # key of its own that can only send, so a leaked Vercel variable cannot change templates or webhooks.
    "brevoTransactionalApiKey": (
        "a Brevo API v3 key restricted to transactional e-mail (Brevo > SMTP & API > API keys, permissions: "
        "Transactional emails only), given to the portal as BREVO_API_KEY"
    ),
}
# Read by the dynamic providers in configure(); optional because the vendors' environment variables also work.
OPTIONAL_SECRETS = {
    "supabaseAccessToken": "a Supabase personal access token (or export SUPABASE_ACCESS_TOKEN)",
    "brevoApiKey": "a Brevo API v3 key (or export BREVO_API_KEY)",
    # Set once Brevo has e-mailed the code that validates the sender (docs/ops.md, Brevo first deployment).
    "brevoSenderOtp": "the 6-digit code Brevo e-mailed to the sender address (PUT /v3/senders/{id}/validate)",
}

DOMAIN = r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$"
EMAIL = r"^[A-Za-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,63}$"
# The compute sizes that have a compute add-on variant `ci_<size>` in the Management API (ApplyProjectAddonBody,
# ListProjectAddonsResponse in the OpenAPI document vendored by the Supabase CLI). `nano`, the free plan's
# shared instance, is accepted by project creation but has no variant, so the program could neither read the
# size back (drift) nor resize to it: it is refused here with NANO_REFUSED.
InstanceSize = Literal[
    "micro",
    "small",
    "medium",
    "large",
    "xlarge",
    "2xlarge",
    "4xlarge",
    "8xlarge",
    "12xlarge",
    "16xlarge",
]


NANO_REFUSED = (
    "nano has no compute add-on in Supabase's Management API (no ci_nano variant), so its size could neither be "
    "checked for drift nor changed: use micro (the smallest paid size) or larger"
)


class SettingsError(NexkError):
    """A stack file is missing a setting or has one in the wrong form."""


class _Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)


class PortalSettings(_Model):
    domain: str = Field(pattern=DOMAIN, description="a lower-case host name such as my.nexk-it.com")
    vercel_project_name: str = Field(
        pattern=r"^[a-z0-9][a-z0-9._-]{0,99}$",
        description="a Vercel project name (lower case, digits, - . _)",
    )
    git_repository: str = Field(
        pattern=r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", description="the GitHub repository as owner/name"
    )
    production_branch: str = Field(default="main", min_length=1, description="a git branch name")
    function_regions: tuple[str, ...] = Field(
        min_length=1, description="a list of Vercel region ids such as [fra1]"
    )
    preview_protection: Literal["standard_protection_new", "standard_protection", "all_deployments"] = Field(
        default="standard_protection_new",
        description="a Vercel Authentication deployment_type that protects previews",
    )
    additional_redirect_urls: tuple[str, ...] = Field(
        default=(), description="extra Supabase Auth redirect URLs (https:// or http://localhost)"
    )

    @model_validator(mode="after")
    def _region_ids(self) -> PortalSettings:
        for region in self.function_regions:
            if not re.fullmatch(r"[a-z]{3}[0-9]", region):
                raise ValueError(f"function_regions: {region!r} is not a Vercel region id such as fra1")
        return self


class AuthRateLimits(_Model):
    """Supabase Auth's rate limits (UpdateAuthConfigBody `rate_limit_*`, `smtp_max_frequency`; Supabase docs,
    Auth > Rate limits). The defaults are GoTrue's own (internal/conf/configuration.go), except e-mails per
    hour: the portal sends every invitation, password reset and e-mail change through our Brevo SMTP relay,
    so the project may send more than GoTrue's default 30 an hour (Brevo's own quota is the real ceiling)."""

    email_sent_per_hour: int = Field(
        default=100, ge=1, le=10000, description="e-mails Supabase Auth may send per hour, 1 to 10000"
    )
    smtp_max_frequency_seconds: int = Field(
        default=60,
        ge=0,
        le=32767,
        description="minimum seconds between two e-mails to the same address, 0 to 32767",
    )
    otp_per_ip: int = Field(
        default=30, ge=1, description="OTP / magic-link requests per IP (Supabase: per 5 min)"
    )
    verify_per_ip: int = Field(default=30, ge=1, description="verifications per IP (Supabase: per 5 minutes)")
    token_refresh_per_ip: int = Field(
        default=150, ge=1, description="session refreshes per IP (Supabase: per 5 minutes)"
    )


class DataApiSettings(_Model):
    """What the Data API (PostgREST) exposes. `private` is never exposable (infra/providers/supabase.py)."""

    exposed_schemas: tuple[Literal["public", "graphql_public"], ...] = Field(
        default=("public", "graphql_public"),
        min_length=1,
        description="schemas the Data API exposes: public and optionally graphql_public (never private)",
    )
    extra_search_path: tuple[str, ...] = Field(
        default=("public", "extensions"),
        description="schemas on PostgREST's search path, e.g. [public, extensions]",
    )
    max_rows: int = Field(
        default=1000, ge=1, le=1_000_000, description="rows per Data API response, 1 to 1000000"
    )


class SupabaseSettings(_Model):
    organization_slug: str = Field(pattern=r"^[a-z0-9-]+$", description="the Supabase organization slug")
    project_name: str = Field(
        pattern=r"^[a-z0-9][a-z0-9-]{0,62}$", description="a project name such as mynexk-prod"
    )
    region: str = Field(
        pattern=r"^[a-z]{2}-[a-z]+-[0-9]$", description="a Supabase region code such as eu-central-1"
    )
    instance_size: InstanceSize = Field(
        description="a Supabase compute size with a compute add-on: micro, small, medium, ... (not nano)"
    )
    pitr: Literal["pitr_7", "pitr_14", "pitr_28"] | None = Field(
        default=None, description="a PITR add-on variant (pitr_7, pitr_14, pitr_28) or null"
    )
    jwt_expiry_seconds: int = Field(default=3600, ge=300, le=604800, description="seconds, 300 to 604800")
    password_min_length: int = Field(default=12, ge=6, le=128, description="an integer, 6 to 128")
    db_allowed_cidrs: tuple[str, ...] = Field(description="IPv4 CIDR blocks such as [0.0.0.0/0]")
    db_allowed_cidrs_v6: tuple[str, ...] = Field(description="IPv6 CIDR blocks such as ['::/0']")
    auth_rate_limits: AuthRateLimits = Field(
        default_factory=AuthRateLimits, description="Supabase Auth rate limits (see AuthRateLimits)"
    )
    data_api: DataApiSettings = Field(
        default_factory=DataApiSettings, description="the Data API's exposed schemas and row cap"
    )


class BrevoSettings(_Model):
    sender_domain: str = Field(pattern=DOMAIN, description="the Brevo sender domain such as mail.nexk-it.com")
    sender_name: str = Field(min_length=1, max_length=70, description="the From name shown to recipients")
    sender_email: str = Field(pattern=EMAIL, description="an address on the sender domain")
    webhook_events: tuple[str, ...] = Field(
        default=("delivered", "hardBounce", "softBounce", "blocked", "spam", "invalid", "deferred"),
        min_length=1,
        description="Brevo transactional webhook events",
    )

    @model_validator(mode="after")
    def _sender_on_domain(self) -> BrevoSettings:
        if not self.sender_email.endswith("@" + self.sender_domain):
            raise ValueError(f"sender_email {self.sender_email!r} must be an address @{self.sender_domain}")
        return self


class DnsSettings(_Model):
    zone: str = Field(pattern=DOMAIN, description="the DNS zone such as nexk-it.com")
    hosted_on: Literal["vercel", "external"] = Field(
        description="'vercel' when the zone is on Vercel DNS, 'external' when its owner applies exported records"
    )


class StackSettings(_Model):
    """Everything the program needs for one stack."""

    stack: str
    portal: PortalSettings
    supabase: SupabaseSettings
    brevo: BrevoSettings
    dns: DnsSettings

    @property
    def production(self) -> bool:
        return self.stack == PRODUCTION_STACK

    @model_validator(mode="after")
    def _names_in_zone(self) -> StackSettings:
        zone = self.dns.zone
        for key, name in (
            ("portal.domain", self.portal.domain),
            ("brevo.senderDomain", self.brevo.sender_domain),
        ):
            if name != zone and not name.endswith("." + zone):
                raise ValueError(f"{key} {name!r} is not inside the DNS zone {zone!r} (dns.zone)")
        return self


# Settings stack files used to carry and the program now reads from the vendor: (section, key) -> what it was.
# Keys are compared without case or underscores, so `smtpLogin` and `smtp_login` both get the explanation.
READ_FROM_VENDOR = {
    ("brevo", "smtplogin"): "the SMTP relay login",
    ("brevo", "smtphost"): "the SMTP relay host",
    ("brevo", "smtpport"): "the SMTP relay port",
}


def _read_from_vendor(loc: tuple[Any, ...]) -> str | None:
    """Why a key that is no longer a setting is refused, if it is one the program now reads from the vendor."""
    if len(loc) != 2 or not all(isinstance(part, str) for part in loc):
        return None
    section, name = loc
    what = READ_FROM_VENDOR.get((section, name.replace("_", "").lower()))
    if what is None:
        return None
    return (
        f"is no longer a setting: {what} is now read from Brevo at every `pulumi preview`/`up` "
        "(GET /v3/account, the SmtpRelayAccount resource in infra/providers/brevo.py), so it always matches "
        f"Brevo > SMTP & API; delete {name} from the stack file (docs/ops.md, SMTP relay)"
    )


SECTIONS: dict[str, type[_Model]] = {
    "portal": PortalSettings,
    "supabase": SupabaseSettings,
    "brevo": BrevoSettings,
    "dns": DnsSettings,
}


def _expected(loc: tuple[Any, ...]) -> str:
    """The `description` of the field an error points at: the expected form, in words."""
    model: Any = StackSettings
    description = ""
    for part in loc:
        if not (isinstance(model, type) and issubclass(model, BaseModel)) or not isinstance(part, str):
            break
        field = model.model_fields.get(part) or next(
            (f for f in model.model_fields.values() if f.alias == part), None
        )
        if field is None:
            break
        description = field.description or ""
        model = field.annotation
    return description


def _format(error: Mapping[str, Any]) -> str:
    loc = tuple(error["loc"])
    section, *rest = loc if loc else ("",)
    key = f"{NAMESPACE}:{section}" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in rest)
    if error["type"] == "missing":
        problem = "is missing"
    elif loc[-1:] in (("instanceSize",), ("instance_size",)) and error.get("input") == "nano":
        problem = NANO_REFUSED
    elif error["type"] == "extra_forbidden":
        problem = _read_from_vendor(loc) or "is not a known setting (check the spelling)"
    else:
        problem = f"{error['msg']} (got {error.get('input')!r})"
    expected = _expected(loc)
    return f"{key} {problem}" + (f"; expected {expected}" if expected else "")


def parse_settings(
    config: Mapping[str, Any], stack: str, secret_keys: set[str] | frozenset[str], source: str
) -> StackSettings:
    """Validate a stack's config (keys like `nexk:portal`, values as YAML objects or JSON strings)."""
    problems: list[str] = []
    raw: dict[str, Any] = {"stack": stack}
    for key, value in config.items():
        namespace, _, name = key.partition(":")
        if namespace != NAMESPACE:
            continue
        if name in REQUIRED_SECRETS or name in OPTIONAL_SECRETS:
            if key not in secret_keys:
                problems.append(
                    f"{key} is in plain text; expected a secret: run `pulumi config set --secret {name}` "
                    "(and rotate it, it has been exposed)"
                )
            continue
        if name not in SECTIONS:
            problems.append(f"{key} is not a known setting; expected one of {sorted(SECTIONS)} or a secret")
            continue
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                problems.append(f"{key} must be an object (a YAML mapping), got {value!r}")
                continue
        raw[name] = value
    for name, meaning in REQUIRED_SECRETS.items():
        if f"{NAMESPACE}:{name}" not in config:
            problems.append(
                f"{NAMESPACE}:{name} is missing; expected {meaning}, set with `pulumi config set --secret {name}`"
            )
    try:
        settings = StackSettings.model_validate(raw)
    except ValidationError as exc:
        problems.extend(_format(error) for error in exc.errors())
        settings = None
    if problems:
        raise SettingsError(f"{source}: " + "; ".join(problems))
    assert settings is not None
    return settings


def settings_from_pulumi() -> StackSettings:
    """The running stack's settings, as the Pulumi engine passes config to the program."""
    import pulumi
    from pulumi.runtime import config as runtime_config

    config = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    secret_keys = {key for key in config if runtime_config.is_config_secret(key)}
    secret_keys |= set(runtime_config.get_config_secret_keys_env())
    stack = pulumi.get_stack()
    return parse_settings(config, stack, secret_keys, source=f"Pulumi.{stack}.yaml")


def stack_file(stack: str, root: Path = REPO_ROOT) -> Path:
    return root / f"Pulumi.{stack}.yaml"


def read_stack_file(stack: str, root: Path = REPO_ROOT) -> tuple[dict[str, Any], set[str]]:
    """A stack file's config as the engine would pass it: (config, secret keys).

    Encrypted values (`secure: v1:...`) cannot be decrypted without the CLI; they stand in as a placeholder
    and count as secrets, which is all the mock-based inventory and tests need.
    """
    path = stack_file(stack, root)
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError as exc:
        known = sorted(p.name.split(".")[1] for p in root.glob("Pulumi.*.yaml"))
        raise SettingsError(f"{path.name}: no such stack file (stacks: {', '.join(known)})") from exc
    except yaml.YAMLError as exc:
        raise SettingsError(f"{path.name}: not valid YAML: {exc}") from exc
    config: dict[str, Any] = {}
    secret_keys: set[str] = set()
    for key, value in (document.get("config") or {}).items():
        if isinstance(value, Mapping) and set(value) == {"secure"}:
            config[key] = "<encrypted>"
            secret_keys.add(key)
        else:
            config[key] = value
    return config, secret_keys


def load_stack_settings(stack: str, root: Path = REPO_ROOT) -> StackSettings:
    config, secret_keys = read_stack_file(stack, root)
    return parse_settings(config, stack, secret_keys, source=stack_file(stack, root).name)
