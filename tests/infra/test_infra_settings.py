"""Stack files are validated before any resource is declared; errors name the file, the key and the form."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from infra.settings import REPO_ROOT, SettingsError, load_stack_settings, parse_settings, read_stack_file

SMTP_KEY = {"nexk:brevoSmtpKey": "k", "nexk:brevoTransactionalApiKey": "t"}
SECRET = {"nexk:brevoSmtpKey", "nexk:brevoTransactionalApiKey"}


def prod_config() -> dict:
    config, _ = read_stack_file("prod")
    return copy.deepcopy({**config, **SMTP_KEY})


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_every_committed_stack_file_holds_the_audited_settings(stack: str) -> None:
    config, _ = read_stack_file(stack)
    settings = parse_settings({**config, **SMTP_KEY}, stack, SECRET, source=f"Pulumi.{stack}.yaml")

    assert settings.supabase.region == "eu-central-1"
    assert settings.portal.function_regions == ("fra1",)
    assert settings.brevo.sender_email.endswith("@" + settings.brevo.sender_domain)
    assert settings.production is (stack == "prod")


def test_prod_serves_the_portal_on_my_nexk_it_com_with_pitr() -> None:
    settings = parse_settings(prod_config(), "prod", SECRET, source="Pulumi.prod.yaml")
    assert settings.portal.domain == "my.nexk-it.com"
    assert settings.supabase.pitr == "pitr_7"


def test_a_missing_setting_names_the_key_and_the_expected_form() -> None:
    config = prod_config()
    del config["nexk:supabase"]["region"]

    with pytest.raises(SettingsError) as error:
        parse_settings(config, "prod", SECRET, source="Pulumi.prod.yaml")

    message = str(error.value)
    assert message.startswith("Pulumi.prod.yaml: ")
    assert "nexk:supabase.region is missing; expected a Supabase region code such as eu-central-1" in message


def test_a_malformed_setting_names_the_key_the_value_and_the_expected_form() -> None:
    config = prod_config()
    config["nexk:portal"]["domain"] = "My Portal"

    with pytest.raises(
        SettingsError, match=r"nexk:portal\.domain .*'My Portal'.*expected a lower-case host name"
    ):
        parse_settings(config, "prod", SECRET, source="Pulumi.prod.yaml")


def test_a_misspelt_setting_is_refused_rather_than_ignored() -> None:
    config = prod_config()
    config["nexk:supabase"]["regoin"] = "eu-central-1"

    with pytest.raises(SettingsError, match=r"nexk:supabase\.regoin is not a known setting"):
        parse_settings(config, "prod", SECRET, source="Pulumi.prod.yaml")


def test_a_stack_file_that_still_sets_the_smtp_login_is_told_it_is_now_read_from_brevo(
    tmp_path: Path,
) -> None:
    document = yaml.safe_load((REPO_ROOT / "Pulumi.prod.yaml").read_text())
    document["config"]["nexk:brevo"]["smtpLogin"] = "ops@nexk-it.com"
    document["config"]["nexk:brevoSmtpKey"] = {"secure": "v1:abc=="}
    document["config"]["nexk:brevoTransactionalApiKey"] = {"secure": "v1:def=="}
    (tmp_path / "Pulumi.prod.yaml").write_text(yaml.safe_dump(document))

    with pytest.raises(SettingsError) as error:
        load_stack_settings("prod", root=tmp_path)

    message = str(error.value)
    assert message.startswith("Pulumi.prod.yaml: nexk:brevo.smtpLogin is no longer a setting")
    assert "read from Brevo" in message and "GET /v3/account" in message
    assert "delete smtpLogin from the stack file" in message
    assert "check the spelling" not in message


@pytest.mark.parametrize("key", ["smtpHost", "smtpPort", "smtp_login"])
def test_the_other_smtp_relay_settings_are_refused_as_read_from_brevo_too(key: str) -> None:
    config = prod_config()
    config["nexk:brevo"][key] = "x"

    with pytest.raises(
        SettingsError, match=rf"nexk:brevo\.{key} is no longer a setting: the SMTP relay .* Brevo"
    ):
        parse_settings(config, "prod", SECRET, source="Pulumi.prod.yaml")


def test_a_sender_outside_the_sender_domain_is_refused() -> None:
    config = prod_config()
    config["nexk:brevo"]["senderEmail"] = "no-reply@gmail.com"

    with pytest.raises(SettingsError, match=r"must be an address @mail\.nexk-it\.com"):
        parse_settings(config, "prod", SECRET, source="Pulumi.prod.yaml")


def test_structured_config_arrives_as_json_from_the_engine_and_is_parsed() -> None:
    import json

    config = {k: json.dumps(v) if isinstance(v, dict) else v for k, v in prod_config().items()}
    assert parse_settings(config, "prod", SECRET, source="env").portal.domain == "my.nexk-it.com"


def test_a_secret_in_plain_text_is_refused_with_the_command_to_fix_it() -> None:
    with pytest.raises(
        SettingsError, match=r"nexk:brevoSmtpKey is in plain text.*pulumi config set --secret brevoSmtpKey"
    ):
        parse_settings(prod_config(), "prod", set(), source="Pulumi.prod.yaml")


def test_a_missing_secret_is_named_with_how_to_set_it() -> None:
    config = prod_config()
    del config["nexk:brevoSmtpKey"]

    with pytest.raises(SettingsError, match=r"nexk:brevoSmtpKey is missing; expected the Brevo SMTP key"):
        parse_settings(config, "prod", SECRET, source="Pulumi.prod.yaml")


def test_a_missing_transactional_brevo_key_for_the_portal_is_named_with_how_to_set_it() -> None:
    config = prod_config()
    del config["nexk:brevoTransactionalApiKey"]

    with pytest.raises(
        SettingsError,
        match=r"nexk:brevoTransactionalApiKey is missing; expected a Brevo API v3 key restricted to "
        r"transactional e-mail.*pulumi config set --secret brevoTransactionalApiKey",
    ):
        parse_settings(config, "prod", SECRET, source="Pulumi.prod.yaml")


def test_encrypted_values_in_a_stack_file_count_as_secrets(tmp_path: Path) -> None:
    document = yaml.safe_load((REPO_ROOT / "Pulumi.dev.yaml").read_text())
    document["config"]["nexk:brevoSmtpKey"] = {"secure": "v1:abc=="}
    document["config"]["nexk:brevoTransactionalApiKey"] = {"secure": "v1:def=="}
    (tmp_path / "Pulumi.dev.yaml").write_text(yaml.safe_dump(document))

    settings = load_stack_settings("dev", root=tmp_path)

    assert settings.stack == "dev"


def test_an_unknown_stack_lists_the_stacks_that_exist() -> None:
    with pytest.raises(
        SettingsError, match=r"Pulumi\.qa\.yaml: no such stack file \(stacks: dev, prod, repo, staging\)"
    ):
        read_stack_file("qa")


def test_nano_is_refused_because_it_has_no_compute_add_on_to_read_back_or_resize_to() -> None:
    config = prod_config()
    config["nexk:supabase"]["instanceSize"] = "nano"

    with pytest.raises(SettingsError) as error:
        parse_settings(config, "prod", SECRET, source="Pulumi.prod.yaml")

    assert "nexk:supabase.instanceSize nano has no compute add-on" in str(error.value)
    assert "use micro (the smallest paid size) or larger" in str(error.value)


def test_auth_rate_limits_and_the_data_api_have_typed_defaults_and_stack_overrides() -> None:
    defaults = parse_settings(prod_config(), "prod", SECRET, source="Pulumi.prod.yaml").supabase
    config = prod_config()
    config["nexk:supabase"]["authRateLimits"] = {"emailSentPerHour": 250, "smtpMaxFrequencySeconds": 30}
    config["nexk:supabase"]["dataApi"] = {"exposedSchemas": ["public"], "maxRows": 200}
    changed = parse_settings(config, "prod", SECRET, source="Pulumi.prod.yaml").supabase

    assert (
        defaults.auth_rate_limits.email_sent_per_hour,
        defaults.auth_rate_limits.smtp_max_frequency_seconds,
    ) == (100, 60)
    assert (
        defaults.data_api.exposed_schemas == ("public", "graphql_public")
        and defaults.data_api.max_rows == 1000
    )
    assert changed.auth_rate_limits.email_sent_per_hour == 250
    assert changed.data_api.exposed_schemas == ("public",) and changed.data_api.max_rows == 200


def test_a_stack_that_would_expose_the_private_schema_is_refused() -> None:
    config = prod_config()
    config["nexk:supabase"]["dataApi"] = {"exposedSchemas": ["public", "private"]}

    with pytest.raises(
        SettingsError, match=r"nexk:supabase\.dataApi\.exposedSchemas\[1\] .*'private'.*never private"
    ):
        parse_settings(config, "prod", SECRET, source="Pulumi.prod.yaml")
