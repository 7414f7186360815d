"""The Brevo dynamic providers against a local server that follows Brevo API v3."""

from __future__ import annotations

import base64

import dill
import pytest
from infra_helpers import TOKEN, configure
from pulumi.dynamic.dynamic import serialize_provider
from pytest_httpserver import HTTPServer

from infra.providers.brevo import (
    DomainAuthenticationProvider,
    SenderDomainProvider,
    SenderProvider,
    SmtpRelayAccountProvider,
    TransactionalTemplateProvider,
    WebhookProvider,
)
from infra.providers.http import VendorApiError

KEY = {"api-key": TOKEN}
DOMAIN_CONFIG = {
    "domain": "mail.nexk-it.com",
    "verified": False,
    "authenticated": False,
    "dns_records": {
        "dkim_record": {
            "type": "TXT",
            "value": "k=rsa;p=ABC",
            "host_name": "mail._domainkey.mail",
            "status": False,
        },
        "brevo_code": {"type": "TXT", "value": "brevo-code:123", "host_name": "mail", "status": True},
        "dmarc_record": {
            "type": "TXT",
            "value": "v=DMARC1; p=none",
            "host_name": "_dmarc.mail",
            "status": False,
        },
    },
}


def test_sender_domain_is_created_and_exposes_its_dns_records(httpserver: HTTPServer, api_url: str) -> None:
    httpserver.expect_oneshot_request("/senders/domains/mail.nexk-it.com", headers=KEY).respond_with_json(
        {"message": "Domain not found"}, status=404
    )
    httpserver.expect_oneshot_request(
        "/senders/domains", method="POST", json={"name": "mail.nexk-it.com"}
    ).respond_with_json(
        {"id": "660e", "domain_name": "mail.nexk-it.com", "message": "Domain added"}, status=201
    )
    httpserver.expect_oneshot_request("/senders/domains/mail.nexk-it.com").respond_with_json(DOMAIN_CONFIG)

    result = configure(SenderDomainProvider(api_url=api_url)).create({"name": "mail.nexk-it.com"})

    assert result.id == "mail.nexk-it.com"
    assert [(r["kind"], r["host_name"]) for r in result.outs["dns_records"]] == [
        ("brevo_code", "mail"),
        ("dkim_record", "mail._domainkey.mail"),
        ("dmarc_record", "_dmarc.mail"),
    ]
    httpserver.check_assertions()


def test_sender_domain_create_adopts_a_domain_that_already_exists(
    httpserver: HTTPServer, api_url: str
) -> None:
    httpserver.expect_request("/senders/domains/mail.nexk-it.com").respond_with_json(DOMAIN_CONFIG)

    configure(SenderDomainProvider(api_url=api_url)).create({"name": "mail.nexk-it.com"})

    assert [r.method for r, _ in httpserver.log] == ["GET"]


def test_deleting_a_sender_domain_that_is_already_gone_succeeds(httpserver: HTTPServer, api_url: str) -> None:
    httpserver.expect_request("/senders/domains/mail.nexk-it.com", method="DELETE").respond_with_json(
        {"code": "document_not_found", "message": "Domain does not exist"}, status=404
    )

    configure(SenderDomainProvider(api_url=api_url)).delete("mail.nexk-it.com", {"name": "mail.nexk-it.com"})


def test_required_authentication_fails_naming_the_records_brevo_does_not_see(
    httpserver: HTTPServer, api_url: str
) -> None:
    httpserver.expect_request(
        "/senders/domains/mail.nexk-it.com/authenticate", method="PUT"
    ).respond_with_json({"domain_name": "mail.nexk-it.com", "message": "Domain authentication failed"})
    httpserver.expect_request("/senders/domains/mail.nexk-it.com").respond_with_json(DOMAIN_CONFIG)
    provider = configure(DomainAuthenticationProvider(api_url=api_url))

    with pytest.raises(VendorApiError) as error:
        provider.create({"domain": "mail.nexk-it.com", "records": [], "require_authenticated": True})

    assert "domain authentication mail.nexk-it.com" in str(error.value)
    assert "mail._domainkey.mail" in str(error.value) and "_dmarc.mail" in str(error.value)


def test_unrequired_authentication_reports_the_status_and_asks_again_on_the_next_up(
    httpserver: HTTPServer, api_url: str
) -> None:
    httpserver.expect_request(
        "/senders/domains/mail.nexk-it.com/authenticate", method="PUT"
    ).respond_with_json({})
    httpserver.expect_request("/senders/domains/mail.nexk-it.com").respond_with_json(DOMAIN_CONFIG)
    provider = configure(DomainAuthenticationProvider(api_url=api_url))
    props = {"domain": "mail.nexk-it.com", "records": [], "require_authenticated": False}

    outs = provider.create(dict(props)).outs

    assert outs["authenticated"] is False
    assert provider.diff("id", outs, dict(props)).changes is True
    assert provider.diff("id", {**outs, "authenticated": True}, dict(props)).changes is False


def test_sender_create_adopts_the_existing_sender_with_the_same_address(
    httpserver: HTTPServer, api_url: str
) -> None:
    httpserver.expect_request("/senders", query_string="domain=mail.nexk-it.com").respond_with_json(
        {"senders": [{"id": 7, "name": "old name", "email": "no-reply@mail.nexk-it.com", "active": True}]}
    )
    httpserver.expect_request("/senders/7", method="PUT", json={"name": "myNexK"}).respond_with_data(
        "", status=204
    )

    result = configure(SenderProvider(api_url=api_url)).create(
        {"name": "myNexK", "email": "no-reply@mail.nexk-it.com"}
    )

    assert result.id == "7" and result.outs["sender_id"] == 7
    httpserver.check_assertions()


def test_sender_email_change_replaces_and_name_change_updates() -> None:
    provider = SenderProvider()
    old = {"name": "a", "email": "x@mail.nexk-it.com"}

    assert provider.diff("7", old, {**old, "email": "y@mail.nexk-it.com"}).replaces == ["email"]
    assert provider.diff("7", old, {**old, "name": "b"}).replaces == []


def test_template_is_created_with_brevo_field_names(httpserver: HTTPServer, api_url: str) -> None:
    httpserver.expect_request("/smtp/templates", method="GET").respond_with_json(
        {"count": 0, "templates": []}
    )
    httpserver.expect_request(
        "/smtp/templates",
        method="POST",
        json={
            "templateName": "mynexk.ticket_created.en",
            "subject": "[{{ params.ticket_ref }}] received",
            "htmlContent": "<p>hi</p>",
            "sender": {"name": "myNexK", "email": "no-reply@mail.nexk-it.com"},
            "tag": "ticket_created",
            "isActive": True,
        },
    ).respond_with_json({"id": 12}, status=201)
    props = {
        "template_name": "mynexk.ticket_created.en",
        "subject": "[{{ params.ticket_ref }}] received",
        "html_content": "<p>hi</p>",
        "sender_name": "myNexK",
        "sender_email": "no-reply@mail.nexk-it.com",
        "tag": "ticket_created",
        "is_active": True,
    }

    result = configure(TransactionalTemplateProvider(api_url=api_url)).create(props)

    assert result.id == "12" and result.outs["template_id"] == 12
    httpserver.check_assertions()


def test_template_create_adopts_and_updates_a_template_with_the_same_name(
    httpserver: HTTPServer, api_url: str
) -> None:
    httpserver.expect_request("/smtp/templates", method="GET").respond_with_json(
        {"count": 2, "templates": [{"id": 3, "name": "other"}, {"id": 9, "name": "mynexk.agent_reply.fr"}]}
    )
    httpserver.expect_request("/smtp/templates/9", method="PUT").respond_with_data("", status=204)
    props = {
        "template_name": "mynexk.agent_reply.fr",
        "subject": "s",
        "html_content": "h",
        "sender_email": "a@b.be",
    }

    result = configure(TransactionalTemplateProvider(api_url=api_url)).create(props)

    assert result.id == "9"
    assert [r.method for r, _ in httpserver.log] == ["GET", "PUT"]


def test_webhook_is_created_for_transactional_events_with_bearer_auth(
    httpserver: HTTPServer, api_url: str
) -> None:
    httpserver.expect_request("/webhooks", method="GET", query_string="type=transactional").respond_with_json(
        {"webhooks": []}
    )
    httpserver.expect_request(
        "/webhooks",
        method="POST",
        json={
            "url": "https://my.nexk-it.com/api/webhooks/brevo",
            "events": ["delivered", "hardBounce"],
            "description": "myNexK prod",
            "auth": {"type": "bearer", "token": "tok"},
            "type": "transactional",
            "channel": "email",
        },
    ).respond_with_json({"id": 42}, status=201)
    props = {
        "url": "https://my.nexk-it.com/api/webhooks/brevo",
        "type": "transactional",
        "events": ["delivered", "hardBounce"],
        "description": "myNexK prod",
        "auth_token": "tok",
    }

    result = configure(WebhookProvider(api_url=api_url)).create(props)

    assert result.id == "42"
    httpserver.check_assertions()


def test_webhook_check_rejects_unknown_events_and_plain_http() -> None:
    failures = (
        WebhookProvider()
        .check({}, {"url": "http://x", "type": "transactional", "events": ["delivered", "teleported"]})
        .failures
    )

    assert sorted(f.property for f in failures) == ["events", "url"]


def test_brevo_rate_limit_is_retried_honouring_retry_after(httpserver: HTTPServer, api_url: str) -> None:
    httpserver.expect_oneshot_request("/webhooks/42").respond_with_json(
        {"code": "too_many_requests"}, status=429, headers={"Retry-After": "0"}
    )
    httpserver.expect_oneshot_request("/webhooks/42").respond_with_json(
        {
            "id": 42,
            "url": "https://my.nexk-it.com/api/webhooks/brevo",
            "type": "transactional",
            "events": ["spam"],
        }
    )
    provider = configure(WebhookProvider(api_url=api_url, backoff_seconds=0))

    assert provider.read("42", {"url": "u"}).outs["events"] == ["spam"]


def test_brevo_error_names_the_resource_and_the_apis_message(httpserver: HTTPServer, api_url: str) -> None:
    httpserver.expect_request("/senders", method="GET").respond_with_json({"senders": []})
    httpserver.expect_request("/senders", method="POST").respond_with_json(
        {"code": "invalid_parameter", "message": "Sender email is not valid"}, status=400
    )

    with pytest.raises(
        VendorApiError, match=r"Brevo sender x@mail\.nexk-it\.com: POST /senders .* Sender email is not valid"
    ):
        configure(SenderProvider(api_url=api_url)).create({"name": "n", "email": "x@mail.nexk-it.com"})


# ------------------------------------------------------------------------------------------ SmtpRelayAccount


def account(relay: dict | None) -> dict:
    """Brevo's GET /v3/account answer (abridged: the fields around `relay` as the API reference shows them)."""
    answer = {
        "email": "it@nexk-it.com",
        "firstName": "NexK",
        "lastName": "IT",
        "companyName": "NexK IT Solutions",
        "address": {"street": "Rue Neuve 1", "city": "Brussels", "zipCode": "1000", "country": "Belgium"},
        "plan": [{"type": "free", "creditsType": "sendLimit", "credits": 300}],
    }
    if relay is not None:
        answer["relay"] = relay
    return answer


ENABLED_RELAY = {
    "enabled": True,
    "data": {"userName": "8a1b2c001@smtp-brevo.com", "relay": "smtp-relay.brevo.com", "port": 587},
}


def test_smtp_relay_account_outputs_brevos_login_host_and_port(httpserver: HTTPServer, api_url: str) -> None:
    httpserver.expect_request("/account", method="GET", headers=KEY).respond_with_json(account(ENABLED_RELAY))

    result = configure(SmtpRelayAccountProvider(api_url=api_url)).create({})

    assert result.id == "brevo-smtp-relay"
    assert result.outs == {"login": "8a1b2c001@smtp-brevo.com", "host": "smtp-relay.brevo.com", "port": 587}
    assert [(r.method, r.path) for r, _ in httpserver.log] == [("GET", "/account")]


def test_smtp_relay_account_refresh_reads_brevo_again(httpserver: HTTPServer, api_url: str) -> None:
    moved = {**ENABLED_RELAY, "data": {**ENABLED_RELAY["data"], "userName": "9f9e9d042@smtp-brevo.com"}}
    httpserver.expect_request("/account").respond_with_json(account(moved))
    old = {"login": "8a1b2c001@smtp-brevo.com", "host": "smtp-relay.brevo.com", "port": 587}

    result = configure(SmtpRelayAccountProvider(api_url=api_url)).read("brevo-smtp-relay", old)

    assert result.id == "brevo-smtp-relay" and result.outs["login"] == "9f9e9d042@smtp-brevo.com"


def test_smtp_relay_account_shows_a_change_only_when_brevo_reports_another_relay(
    httpserver: HTTPServer, api_url: str
) -> None:
    httpserver.expect_request("/account").respond_with_json(account(ENABLED_RELAY))
    provider = configure(SmtpRelayAccountProvider(api_url=api_url))
    # As the engine hands back the state: numbers are floats.
    state = {"login": "8a1b2c001@smtp-brevo.com", "host": "smtp-relay.brevo.com", "port": 587.0}

    unchanged = provider.diff("brevo-smtp-relay", state, {})
    changed = provider.diff("brevo-smtp-relay", {**state, "login": "ops@nexk-it.com"}, {})

    assert unchanged.changes is False and unchanged.replaces == []
    assert changed.changes is True and changed.replaces == [] and "login" not in changed.stables
    assert provider.update("brevo-smtp-relay", state, {}).outs["login"] == "8a1b2c001@smtp-brevo.com"


def test_smtp_relay_account_refuses_a_disabled_relay_saying_to_activate_it(
    httpserver: HTTPServer, api_url: str
) -> None:
    disabled = {"enabled": False, "data": {"userName": "", "relay": "", "port": 0}}
    httpserver.expect_request("/account").respond_with_json(account(disabled))

    with pytest.raises(VendorApiError) as error:
        configure(SmtpRelayAccountProvider(api_url=api_url)).create({})

    message = str(error.value)
    assert message.startswith("Brevo SMTP relay account: ")
    assert "activate the transactional (SMTP) relay in Brevo, then pulumi up" in message


def test_smtp_relay_account_refuses_an_answer_without_relay_data(
    httpserver: HTTPServer, api_url: str
) -> None:
    httpserver.expect_request("/account").respond_with_json(account({"enabled": True}))

    with pytest.raises(
        VendorApiError, match=r"Brevo SMTP relay account: .*relay\.data\.userName.*then pulumi up"
    ):
        configure(SmtpRelayAccountProvider(api_url=api_url)).create({})


def test_smtp_relay_account_without_a_relay_at_all_is_refused_as_disabled(
    httpserver: HTTPServer, api_url: str
) -> None:
    httpserver.expect_request("/account").respond_with_json(account(None))

    with pytest.raises(VendorApiError, match=r"activate the transactional \(SMTP\) relay in Brevo"):
        configure(SmtpRelayAccountProvider(api_url=api_url)).read("brevo-smtp-relay", {})


def test_an_unauthorized_brevo_key_says_to_check_the_brevo_api_key(
    httpserver: HTTPServer, api_url: str
) -> None:
    httpserver.expect_request("/account").respond_with_json(
        {"code": "unauthorized", "message": "Key not found"}, status=401
    )

    with pytest.raises(VendorApiError) as error:
        configure(SmtpRelayAccountProvider(api_url=api_url)).create({})

    message = str(error.value)
    assert message.startswith("Brevo SMTP relay account: GET /account failed with HTTP 401: Key not found")
    assert "check the Brevo API key" in message and "brevoApiKey" in message and "BREVO_API_KEY" in message
    assert TOKEN not in message and error.value.status == 401


def test_smtp_relay_account_retries_brevo_server_errors(httpserver: HTTPServer, api_url: str) -> None:
    httpserver.expect_oneshot_request("/account").respond_with_json({"message": "Bad gateway"}, status=502)
    httpserver.expect_oneshot_request("/account").respond_with_json(account(ENABLED_RELAY))

    outs = configure(SmtpRelayAccountProvider(api_url=api_url, backoff_seconds=0)).create({}).outs

    assert outs["login"] == "8a1b2c001@smtp-brevo.com" and len(httpserver.log) == 2


def test_deleting_the_smtp_relay_account_only_forgets_it(httpserver: HTTPServer, api_url: str) -> None:
    configure(SmtpRelayAccountProvider(api_url=api_url)).delete(
        "brevo-smtp-relay", {"login": "x@smtp-brevo.com"}
    )

    assert httpserver.log == []


@pytest.mark.parametrize(
    "provider_class",
    [
        SenderDomainProvider,
        DomainAuthenticationProvider,
        SenderProvider,
        TransactionalTemplateProvider,
        WebhookProvider,
        SmtpRelayAccountProvider,
    ],
)
def test_brevo_providers_survive_dill_pickling_without_the_api_key(provider_class: type) -> None:
    # checkov:skip=CKV_SECRET_6: a fixture token; HTTP is mocked and nothing is sent
    provider = configure(provider_class(), token="xkeysib-very-secret")

    payload = base64.b64decode(serialize_provider(provider))
    restored = dill.loads(payload)  # noqa: S301 (our own payload, as Pulumi does)

    assert b"xkeysib-very-secret" not in payload
    assert restored._token is None and type(restored) is provider_class
