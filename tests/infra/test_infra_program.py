"""The Pulumi program for every stack, run under Pulumi's mocks: inventory, regions, settings and wiring."""

from __future__ import annotations

import pytest

from infra.mocks import MOCK_SECRET, MOCK_SMTP_RELAY, MockRun, run_program, run_stack, stack_config
from infra.resource_types import (
    BREVO_DOMAIN,
    BREVO_SMTP_RELAY,
    SUPABASE_AUTH,
    SUPABASE_EXTENSION,
    SUPABASE_MIGRATIONS,
    SUPABASE_PITR,
    SUPABASE_PROJECT,
    SUPABASE_ROLE_PASSWORD,
    SUPABASE_SSL,
    SUPABASE_SYSTEM_USER,
    VERCEL_DNS,
    VERCEL_DOMAIN,
    VERCEL_ENV,
    VERCEL_PROJECT,
    subprocessor_of,
)
from infra.settings import REPO_ROOT, read_stack_file
from nexk.subprocessors import load_register

STACKS = ("dev", "staging", "prod")
DOMAINS = {"dev": "my-dev.nexk-it.com", "staging": "my-staging.nexk-it.com", "prod": "my.nexk-it.com"}


@pytest.fixture(scope="module", params=STACKS)
def run(request: pytest.FixtureRequest) -> MockRun:
    return run_stack(request.param)


def env_var(run: MockRun, key: str):
    return next(r for r in run.of_type(VERCEL_ENV) if r.get("key") == key)


def test_each_stack_declares_one_of_every_component_and_resource(run: MockRun) -> None:
    counts = {t: len(run.of_type(t)) for t in (SUPABASE_PROJECT, SUPABASE_AUTH, SUPABASE_SSL, VERCEL_PROJECT)}
    assert counts == {SUPABASE_PROJECT: 1, SUPABASE_AUTH: 1, SUPABASE_SSL: 1, VERCEL_PROJECT: 1}
    components = sorted(r.type for r in run.resources if not r.custom)
    assert components == [
        "nexk:database:SupabasePlatform",
        "nexk:hosting:VercelPortal",
        "nexk:mail:BrevoMail",
    ]
    assert (
        len(run.of_type("pulumi-python:dynamic/brevo:TransactionalTemplate")) == 24
    )  # 8 notifications x en/fr/nl


def test_supabase_lives_in_frankfurt_and_vercel_functions_only_in_fra1(run: MockRun) -> None:
    project = run.of_type(SUPABASE_PROJECT)[0]
    vercel_project = run.of_type(VERCEL_PROJECT)[0]

    assert project.get("region") == "eu-central-1"
    assert project.get("organization_slug") == "nexk-it"
    assert vercel_project.get("resourceConfig.functionDefaultRegions") == ["fra1"]
    assert vercel_project.get("functionFailover") is False
    assert vercel_project.get("vercelAuthentication.deploymentType") == "standard_protection_new"
    assert vercel_project.get("gitRepository.repo") == "nexk-it/mynexk"


def test_the_portal_domain_reaches_vercel_and_supabase_auth(run: MockRun) -> None:
    domain = DOMAINS[run.stack]
    auth = run.of_type(SUPABASE_AUTH)[0]

    assert run.of_type(VERCEL_DOMAIN)[0].get("domain") == domain
    assert auth.get("site_url") == f"https://{domain}"
    assert auth.get("uri_allow_list") == [f"https://{domain}/auth/callback", f"https://{domain}/auth/confirm"]


def test_supabase_auth_is_invitation_only_with_totp_mfa_and_long_passwords(run: MockRun) -> None:
    auth = run.of_type(SUPABASE_AUTH)[0]

    # Sign-ups are open only behind the invitation hook (db/schema/0280): see tests/infra/test_infra_invitation_hook.py.
    assert auth.get("disable_signup") is False
    assert auth.get("hook_before_user_created_enabled") is True
    assert (
        auth.get("hook_before_user_created_uri") == "pg-functions://postgres/private/hook_before_user_created"
    )
    assert auth.get("mailer_autoconfirm") is False and auth.get("external_anonymous_users_enabled") is False
    assert auth.get("mfa_totp_enroll_enabled") is True and auth.get("mfa_totp_verify_enabled") is True
    assert auth.get("password_min_length") >= 12
    assert run.of_type(SUPABASE_SSL)[0].get("database") is True


def test_supabase_auth_sends_mail_through_the_brevo_relay_with_the_smtp_key_kept_secret(run: MockRun) -> None:
    auth = run.of_type(SUPABASE_AUTH)[0]
    brevo = run.settings.brevo

    assert auth.get("smtp_host") == "smtp-relay.brevo.com"
    assert auth.get("smtp_port") == "587"
    assert auth.get("smtp_admin_email") == brevo.sender_email
    assert auth.is_secret("smtp_pass")


def test_supabase_auth_smtp_user_host_and_port_come_from_the_brevo_relay_account(run: MockRun) -> None:
    relay = run.named(BREVO_SMTP_RELAY, "smtp-relay-account")
    auth = run.of_type(SUPABASE_AUTH)[0]

    # The mocks answer for the relay account as Brevo's GET /v3/account would; nothing comes from the stack file.
    assert relay.inputs.get("login") is None
    assert auth.get("smtp_user") == MOCK_SMTP_RELAY["login"] == "8a1b2c001@smtp-brevo.com"
    assert auth.get("smtp_host") == MOCK_SMTP_RELAY["host"]
    assert auth.get("smtp_port") == str(MOCK_SMTP_RELAY["port"])
    assert not [key for key in read_stack_file(run.stack)[0]["nexk:brevo"] if key.lower().startswith("smtp")]


def test_a_different_relay_login_at_brevo_reaches_supabase_auth(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever Brevo reports for the relay is what Supabase Auth gets, so ops never retype it."""
    moved = {"login": "9f9e9d042@smtp-brevo.com", "host": "smtp-relay.brevo.com", "port": 2525}
    monkeypatch.setattr("infra.mocks.MOCK_SMTP_RELAY", moved)

    auth = run_stack("dev").of_type(SUPABASE_AUTH)[0]

    assert (auth.get("smtp_user"), auth.get("smtp_host"), auth.get("smtp_port")) == (
        "9f9e9d042@smtp-brevo.com",
        "smtp-relay.brevo.com",
        "2525",
    )


def test_vercel_gets_supabase_outputs_with_secrets_sensitive_and_kept_out_of_development(
    run: MockRun,
) -> None:
    project = run.of_type(SUPABASE_PROJECT)[0]
    url, key, database = (
        env_var(run, "SUPABASE_URL"),
        env_var(run, "SUPABASE_PUBLISHABLE_KEY"),
        env_var(run, "NEXK_PORTAL_DATABASE_URL"),
    )

    # The mocks derive the project's outputs from its name; the env vars must carry exactly those values.
    assert url.get("value") == f"https://mockref{project.name.replace('-', '')[:10]}.supabase.co"
    assert url.get("sensitive") is False and url.get("targets") == ["production", "preview", "development"]
    assert key.get("value") == "sb_publishable_mock"
    # The pooler in transaction mode, as the portal's own login with its generated password, never the owner.
    assert database.get("value") == (
        "postgresql://nexk_portal.mockref:generated-portal-db-password"
        "@aws-0-eu-central-1.pooler.supabase.com:6543/postgres"
    )
    assert database.get("sensitive") is True and database.get("targets") == ["production", "preview"]
    assert database.is_secret("value")
    webhook_token = env_var(run, "BREVO_WEBHOOK_TOKEN")
    assert webhook_token.get("sensitive") is True and webhook_token.is_secret("value")
    assert webhook_token.get("value") == "generated-brevo-webhook-token"


def test_generated_and_configured_secrets_stay_secret_in_every_resource(run: MockRun) -> None:
    project = run.of_type(SUPABASE_PROJECT)[0]
    migrations = run.of_type(SUPABASE_MIGRATIONS)[0]
    webhook = run.of_type("pulumi-python:dynamic/brevo:Webhook")[0]

    assert project.is_secret("db_pass")
    assert migrations.is_secret("database_url")
    assert webhook.is_secret("auth_token")
    assert webhook.get("url") == f"https://{DOMAINS[run.stack]}/api/webhooks/brevo"


def test_migrations_carry_the_checksum_of_every_migration_function_and_policy_file(run: MockRun) -> None:
    from db.migrate import load_functions, load_migrations, load_policies

    migrations = run.of_type(SUPABASE_MIGRATIONS)[0]

    assert migrations.get("migrations") == {f.path.name: f.sha256 for f in load_migrations()}
    assert migrations.get("policies") == {f.path.name: f.sha256 for f in load_policies()}
    assert migrations.get("functions") == {f.path.name: f.sha256 for f in load_functions()}
    squashed = {f"{v}_{name}.sql": sha for m in load_migrations() for v, (name, sha) in m.replaces.items()}
    assert migrations.get("squashed") == squashed and len(squashed) == 38


def test_every_stack_enables_pg_cron_and_its_migrations_check_the_scheduled_purges(run: MockRun) -> None:
    from nexk import cron_jobs

    (extension,) = run.of_type(SUPABASE_EXTENSION)
    assert (extension.get("extension"), extension.get("schema")) == ("pg_cron", "pg_catalog")
    # The migrations' session URL (the owner, session mode), kept secret like theirs.
    assert extension.is_secret("database_url") and extension.get("database_url").endswith(":5432/postgres")
    migrations = run.of_type(SUPABASE_MIGRATIONS)[0]
    assert migrations.get("cron_jobs") == {
        "nexk-retention": "17 3 * * *",
        "nexk-invitations-purge": "23 3 * * *",
        "nexk-rate-limits-purge": "*/15 * * * *",
    }
    assert migrations.get("cron_jobs") == cron_jobs.schedules()


def test_only_production_has_point_in_time_recovery_and_deletion_protection(run: MockRun) -> None:
    pitr = run.of_type(SUPABASE_PITR)
    assert [p.get("variant") for p in pitr] == (["pitr_7"] if run.stack == "prod" else [])


def test_every_stack_states_its_backup_posture_and_every_stack_needing_pitr_provisions_it(
    run: MockRun,
) -> None:
    """The register's "encrypted backups" measure promises point-in-time recovery for production data: every
    stack whose Supabase project is production (what the policy pack's supabase-pitr-in-production checks)
    provisions the PITR add-on with the variant its stack file names, and every other stack says in its stack
    file that it has none (`pitr: null`), so no stack's backup posture is an unstated default."""
    config, _ = read_stack_file(run.stack)
    assert "pitr" in config["nexk:supabase"], (
        f"Pulumi.{run.stack}.yaml must state supabase.pitr (null or a variant)"
    )
    stated = config["nexk:supabase"]["pitr"]
    (project,) = run.of_type(SUPABASE_PROJECT)
    pitr = run.of_type(SUPABASE_PITR)
    if project.get("environment") == "prod":
        assert stated in ("pitr_7", "pitr_14", "pitr_28")
        assert [p.get("variant") for p in pitr] == [stated]
    else:
        assert stated is None
        assert pitr == []


def test_the_notifications_cron_and_webhook_get_their_credentials_as_sensitive_wired_variables(
    run: MockRun,
) -> None:
    from app.notifications.cron import CRON_SECRET_VAR, REQUIRED_VARS

    brevo_key, worker_url, cron_secret, portal_url = (
        env_var(run, "BREVO_API_KEY"),
        env_var(run, "NEXK_WORKER_DATABASE_URL"),
        env_var(run, CRON_SECRET_VAR),
        env_var(run, "NEXK_PORTAL_URL"),
    )
    for var in (brevo_key, worker_url, cron_secret):
        assert var.get("sensitive") is True and var.is_secret("value")
        assert var.get("targets") == ["production", "preview"]
    # The transactional-only key from config, never the providers' account-wide brevoApiKey.
    assert brevo_key.get("value") == MOCK_SECRET
    assert cron_secret.get("value") == "generated-cron-secret"
    # The pooler (transaction mode) with the notifier role's generated password, not the owner's.
    assert worker_url.get("value") == (
        "postgresql://nexk_notifier.mockref:generated-notifier-db-password"
        "@aws-0-eu-central-1.pooler.supabase.com:6543/postgres"
    )
    assert portal_url.get("value") == f"https://{DOMAINS[run.stack]}" and portal_url.get("sensitive") is False
    declared = {r.get("key") for r in run.of_type(VERCEL_ENV)}
    assert set(REQUIRED_VARS) <= declared  # everything the cron entry point refuses to run without
    # The policy pack's vercel-secrets-sensitive would also stop them if someone made them plain.
    from infra.policy.policies import SECRET_NAME

    assert all(
        SECRET_NAME.search(key) for key in ("BREVO_API_KEY", "NEXK_WORKER_DATABASE_URL", CRON_SECRET_VAR)
    )


@pytest.mark.parametrize("role", ["nexk_portal", "nexk_notifier"])
def test_each_login_role_password_is_generated_secret_and_set_after_the_migrations(
    run: MockRun, role: str
) -> None:
    """The portal's (db/schema/0375) and the notifier's (0203) logins, created by migrations without a password,
    get their own generated secret in every stack, set through the migrations' session URL once they ran."""
    passwords = {p.get("role"): p for p in run.of_type(SUPABASE_ROLE_PASSWORD)}
    assert set(passwords) == {"nexk_portal", "nexk_notifier"}
    password = passwords[role]
    generated = f"generated-{role.removeprefix('nexk_')}-db-password"
    assert password.get("password") == generated
    assert password.is_secret("password") and password.is_secret("database_url")
    assert password.get("database_url").endswith(":5432/postgres")  # session mode, like the migrations
    # Each password reaches exactly its own Vercel variable.
    own = {"nexk_portal": "NEXK_PORTAL_DATABASE_URL", "nexk_notifier": "NEXK_WORKER_DATABASE_URL"}[role]
    holders = [r.get("key") for r in run.of_type(VERCEL_ENV) if generated in str(r.get("value"))]
    assert holders == [own]


def test_vercel_no_longer_gets_the_owners_database_url(run: MockRun) -> None:
    keys = {r.get("key") for r in run.of_type(VERCEL_ENV)}
    assert "DATABASE_URL" not in keys
    assert not [r.get("key") for r in run.of_type(VERCEL_ENV) if "postgres.mockref" in str(r.get("value"))]


def test_the_storage_sweeper_gets_its_system_account_email_plain_and_its_password_sensitive_and_secret(
    run: MockRun,
) -> None:
    from infra.policy.policies import SECRET_NAME

    (sweeper,) = run.of_type(SUPABASE_SYSTEM_USER)
    email, password = (
        env_var(run, "NEXK_STORAGE_SWEEPER_EMAIL"),
        env_var(run, "NEXK_STORAGE_SWEEPER_PASSWORD"),
    )

    assert sweeper.get("email") == f"storage-sweeper@{DOMAINS[run.stack]}"
    assert sweeper.get("app_metadata") == {"nexk_system": "storage_sweeper"}
    assert sweeper.get("rotation") == "hex-storage-sweeper-rotation"  # a random id: replacing it rotates
    assert email.get("value") == sweeper.get("email") and email.get("sensitive") is False
    # The provider's generated password output (mocked), kept secret and out of development.
    assert password.get("value") == "generated-storage-sweeper-password"
    assert password.get("sensitive") is True and password.is_secret("value")
    assert password.get("targets") == ["production", "preview"]
    assert SECRET_NAME.search("NEXK_STORAGE_SWEEPER_PASSWORD")  # vercel-secrets-sensitive guards it too


def test_the_system_user_asks_the_engine_to_keep_its_password_secret_and_to_delete_before_replacing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The mocks cannot show an output's secrecy, so this reads the registration the engine would receive."""
    from pulumi.runtime.mocks import MockMonitor

    registered: dict[str, tuple[list[str], bool]] = {}
    register = MockMonitor.RegisterResource

    def capture(self: MockMonitor, request: object) -> object:
        if request.type == SUPABASE_SYSTEM_USER:
            registered[request.name] = (list(request.additionalSecretOutputs), request.deleteBeforeReplace)
        return register(self, request)

    monkeypatch.setattr(MockMonitor, "RegisterResource", capture)
    run_stack("dev")

    assert registered == {"storage-sweeper": (["password"], True)}


def test_no_resource_belongs_to_an_unregistered_subprocessor(run: MockRun) -> None:
    registered = load_register().keys
    used = {subprocessor_of(r.type) for r in run.resources} - {None}

    assert used == {"vercel", "supabase", "brevo"}
    assert used <= registered


def test_an_external_dns_zone_gets_no_vercel_records_and_unrequired_authentication(run: MockRun) -> None:
    assert run.settings.dns.hosted_on == "external"
    assert run.of_type(VERCEL_DNS) == []
    auth = run.of_type("pulumi-python:dynamic/brevo:DomainAuthentication")[0]
    assert auth.get("require_authenticated") is False
    assert auth.get("domain") == "sender-domain-id"  # the SenderDomain's id: authentication waits for it


def test_a_zone_on_vercel_dns_gets_the_brevo_records_before_authentication_is_required() -> None:
    config, secret_keys, _ = stack_config("dev")
    config["nexk:dns"] = {"zone": "nexk-it.com", "hostedOn": "vercel"}

    run = run_program("dev", config, secret_keys)

    records = {
        r.get("name"): (r.get("type"), r.get("value"), r.get("domain")) for r in run.of_type(VERCEL_DNS)
    }
    # Brevo's host names are relative to the registered domain; Vercel wants them relative to the zone.
    assert records == {
        "": ("TXT", "brevo-code:mock", "nexk-it.com"),
        "mail._domainkey": ("TXT", "k=rsa;p=MOCK", "nexk-it.com"),
        "_dmarc": ("TXT", "v=DMARC1; p=none", "nexk-it.com"),
    }
    assert (
        run.of_type("pulumi-python:dynamic/brevo:DomainAuthentication")[0].get("require_authenticated")
        is True
    )
    assert run.of_type(BREVO_DOMAIN)[0].get("name") == "mail-dev.nexk-it.com"


def test_the_entry_point_reads_the_config_the_engine_passes_in_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import json
    import runpy

    import pulumi

    from infra.mocks import CapturingMocks

    config, secret_keys, _ = stack_config("staging")
    monkeypatch.setenv(
        "PULUMI_CONFIG",
        json.dumps({k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()}),
    )
    monkeypatch.setenv("PULUMI_CONFIG_SECRET_KEYS", json.dumps(sorted(secret_keys)))
    mocks = CapturingMocks()
    pulumi.runtime.set_mocks(mocks, project="nexk", stack="staging", preview=False)
    pulumi.runtime.set_all_config({}, [])

    @pulumi.runtime.test
    def run_main() -> None:
        runpy.run_path(str(REPO_ROOT / "infra" / "__main__.py"), run_name="__main__")

    run_main()

    (project,) = [r for r in mocks.resources if r.type == SUPABASE_PROJECT]
    assert project.get("name") == "mynexk-staging"


def test_a_broken_stack_file_stops_the_entry_point_before_any_resource(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import json
    import runpy

    import pulumi

    from infra.mocks import CapturingMocks
    from infra.settings import SettingsError

    monkeypatch.setenv("PULUMI_CONFIG", json.dumps({"nexk:portal": json.dumps({"domain": "my.nexk-it.com"})}))
    monkeypatch.setenv("PULUMI_CONFIG_SECRET_KEYS", "[]")
    mocks = CapturingMocks()
    pulumi.runtime.set_mocks(mocks, project="nexk", stack="prod", preview=False)
    pulumi.runtime.set_all_config({}, [])

    with pytest.raises(SettingsError, match=r"Pulumi\.prod\.yaml: .*nexk:supabase is missing"):
        runpy.run_path(str(REPO_ROOT / "infra" / "__main__.py"), run_name="__main__")
    assert mocks.resources == []


SUPABASE_POSTGREST = "pulumi-python:dynamic/supabase:PostgrestSettings"


def test_the_data_api_exposes_public_schemas_only_and_auth_has_rate_limits(run: MockRun) -> None:
    postgrest = run.of_type(SUPABASE_POSTGREST)
    auth = run.of_type(SUPABASE_AUTH)[0]

    assert len(postgrest) == 1
    assert postgrest[0].get("db_schema") == ["public", "graphql_public"]
    assert "private" not in postgrest[0].get("db_schema")
    assert postgrest[0].get("max_rows") == 1000
    assert auth.get("rate_limit_email_sent") == 100
    assert auth.get("smtp_max_frequency") == 60
    assert auth.get("rate_limit_token_refresh") == 150
