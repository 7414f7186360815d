"""The Brevo dynamic providers (brevo-python 5.x) against the stateful Brevo API v3 simulator."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import dill
import pytest
from infra_helpers import TOKEN, configure
from pulumi.dynamic.dynamic import serialize_provider

from infra.providers.brevo import (
    DomainAuthenticationProvider,
    SenderDomainProvider,
    SenderProvider,
    SmtpRelayAccountProvider,
    TransactionalTemplateProvider,
    WebhookProvider,
)
from infra.providers.http import VendorApiError
from infra.rehearsal import vendor_calls
from infra.rehearsal.brevo_sim import BrevoSimulator

DOMAIN = "mail.nexk-it.com"
SENDER = {"name": "myNexK", "email": f"no-reply@{DOMAIN}"}
TEMPLATE = {
    "template_name": "mynexk.ticket_created.en",
    "subject": "[{{ params.ticket_ref }}] received",
    "html_content": "<p>Your ticket was received.</p>",
    "sender_name": "myNexK",
    "sender_email": f"no-reply@{DOMAIN}",
    "tag": "ticket_created",
    "is_active": True,
}
WEBHOOK = {
    "url": "https://my.nexk-it.com/api/webhooks/brevo",
    "type": "transactional",
    "events": ["delivered", "hardBounce"],
    "description": "myNexK prod",
    "auth_token": "tok",
}


@pytest.fixture
def sim() -> Iterator[BrevoSimulator]:
    simulator = BrevoSimulator()
    with simulator.installed():
        yield simulator


def calls(sim: BrevoSimulator) -> list[tuple[str, str, int]]:
    """(method, path after /v3, status) of every request the simulator answered."""
    return [(method, url.split("/v3", 1)[1], status) for method, url, _body, status in sim.requests]


# ---------------------------------------------------------------------------------------------- SenderDomain


def test_sender_domain_is_created_and_exposes_its_dns_records(sim: BrevoSimulator) -> None:
    result = configure(SenderDomainProvider()).create({"name": DOMAIN})

    assert result.id == DOMAIN and result.outs["authenticated"] is False
    assert [(r["kind"], r["host_name"]) for r in result.outs["dns_records"]] == [
        ("brevo_code", "mail"),
        ("dkim_record", "mail._domainkey.mail"),
        ("dmarc_record", "_dmarc.mail"),
    ]
    assert calls(sim)[:2] == [
        ("GET", f"/senders/domains/{DOMAIN}", 404),
        ("POST", "/senders/domains", 201),
    ]


def test_sender_domain_create_adopts_a_domain_that_already_exists(sim: BrevoSimulator) -> None:
    provider = configure(SenderDomainProvider())
    provider.create({"name": DOMAIN})
    sim.requests.clear()

    provider.create({"name": DOMAIN})

    assert calls(sim) == [("GET", f"/senders/domains/{DOMAIN}", 200)]


def test_sender_domain_committed_before_a_502_is_adopted_not_created_twice(sim: BrevoSimulator) -> None:
    sim.fail_next("POST", "senders/domains", "5xx_after_commit")

    result = configure(SenderDomainProvider()).create({"name": DOMAIN})

    assert result.id == DOMAIN and list(sim.domains) == [DOMAIN]
    assert [c for c in calls(sim) if c[0] == "POST"] == [("POST", "/senders/domains", 502)]


def test_deleting_a_sender_domain_that_is_already_gone_succeeds(sim: BrevoSimulator) -> None:
    configure(SenderDomainProvider()).delete(DOMAIN, {"name": DOMAIN})

    assert calls(sim) == [("DELETE", f"/senders/domains/{DOMAIN}", 404)]


# ------------------------------------------------------------------------ DomainAuthentication (finding 1)


def test_first_up_reports_the_domain_unauthenticated_while_dns_is_unpublished_then_authenticates(
    sim: BrevoSimulator,
) -> None:
    # Brevo answers 400 to the authenticate call while the records are not in DNS (the SDK's
    # authenticate_domain raises BadRequestError): the first `up` of an external-DNS stack must still succeed.
    configure(SenderDomainProvider()).create({"name": DOMAIN})
    provider = configure(DomainAuthenticationProvider())
    props = {"domain": DOMAIN, "records": [], "require_authenticated": False}

    first = provider.create(dict(props)).outs

    assert ("PUT", f"/senders/domains/{DOMAIN}/authenticate", 400) in calls(sim)
    assert first["authenticated"] is False
    assert [r["host_name"] for r in first["pending_records"]] == [
        "mail",
        "mail._domainkey.mail",
        "_dmarc.mail",
    ]
    assert provider.diff("id", first, dict(props)).changes is True

    sim.publish_dns(DOMAIN)  # ops publish the records
    second = provider.update("id", first, dict(props)).outs

    assert second["authenticated"] is True and second["pending_records"] == []
    assert sim.domains[DOMAIN]["authenticated"] is True
    assert provider.diff("id", second, dict(props)).changes is False


def test_required_authentication_fails_telling_ops_which_records_to_publish(sim: BrevoSimulator) -> None:
    records = configure(SenderDomainProvider()).create({"name": DOMAIN}).outs["dns_records"]
    provider = configure(DomainAuthenticationProvider())

    with pytest.raises(VendorApiError) as error:
        provider.create({"domain": DOMAIN, "records": [], "require_authenticated": True})

    message = str(error.value)
    assert message.startswith(f"Brevo domain authentication {DOMAIN}: ")
    assert "DNS records not properly configured" in message and "Publish these DNS records" in message
    for record in records:
        assert f"TXT {record['host_name']} = {record['value']!r}" in message
    assert "run `pulumi up` again" in message


def test_an_already_authenticated_domain_is_not_asked_again(sim: BrevoSimulator) -> None:
    configure(SenderDomainProvider()).create({"name": DOMAIN})
    sim.publish_dns(DOMAIN)
    provider = configure(DomainAuthenticationProvider())
    provider.create({"domain": DOMAIN, "records": [], "require_authenticated": True})
    sim.requests.clear()

    outs = provider.create({"domain": DOMAIN, "records": [], "require_authenticated": True}).outs

    assert outs["authenticated"] is True and calls(sim) == [("GET", f"/senders/domains/{DOMAIN}", 200)]


# ------------------------------------------------------------------------------------ Sender (finding 4)


def test_a_new_sender_is_inactive_until_its_emailed_code_is_given_then_validated(sim: BrevoSimulator) -> None:
    provider = configure(SenderProvider())

    created = provider.create(dict(SENDER))

    assert created.outs["active"] is False and sim.senders[int(created.id)]["active"] is False
    assert provider.diff(created.id, created.outs, dict(SENDER)).changes is True  # every up looks again

    with_code = {**SENDER, "otp": str(sim.otp_for(int(created.id)))}
    updated = provider.update(created.id, created.outs, with_code).outs

    assert updated["active"] is True and sim.senders[int(created.id)]["active"] is True
    assert ("PUT", f"/senders/{created.id}/validate", 204) in calls(sim)
    assert provider.diff(created.id, updated, with_code).changes is False


def test_a_wrong_sender_code_says_how_to_get_a_new_one(sim: BrevoSimulator) -> None:
    provider = configure(SenderProvider())
    created = provider.create(dict(SENDER))
    wrong = f"{(sim.otp_for(int(created.id)) + 1) % 900000 + 100000}"

    with pytest.raises(VendorApiError) as error:
        provider.update(created.id, created.outs, {**SENDER, "otp": wrong})

    assert "Invalid OTP code provided" in str(error.value)
    assert "brevoSenderOtp is wrong or expired" in str(error.value) and error.value.status == 400


def test_a_sender_validated_in_brevos_web_interface_shows_active_on_refresh(sim: BrevoSimulator) -> None:
    provider = configure(SenderProvider())
    created = provider.create(dict(SENDER))
    sim.validate_sender_in_ui(int(created.id))
    sim.rename_sender_in_ui(int(created.id), "renamed in Brevo")

    read = provider.read(created.id, created.outs)

    assert read.outs["active"] is True and read.outs["name"] == "renamed in Brevo"
    assert provider.diff(created.id, read.outs, dict(SENDER)).changes is True  # the name drifted


def test_sender_create_adopts_the_existing_sender_with_the_same_address(sim: BrevoSimulator) -> None:
    provider = configure(SenderProvider())
    first = provider.create({**SENDER, "name": "old name"})

    again = provider.create(dict(SENDER))

    assert again.id == first.id and len(sim.senders) == 1
    assert sim.senders[int(first.id)]["name"] == "myNexK"


def test_sender_created_before_a_dropped_connection_is_adopted(sim: BrevoSimulator) -> None:
    sim.fail_next("POST", "senders", "drop_after_commit")

    result = configure(SenderProvider()).create(dict(SENDER))

    assert len(sim.senders) == 1 and int(result.id) in sim.senders


def test_sender_check_refuses_a_code_that_is_not_six_digits() -> None:
    failures = SenderProvider().check({}, {**SENDER, "otp": "12ab"}).failures

    assert [f.property for f in failures] == ["otp"]


def test_sender_email_change_replaces_and_name_change_updates() -> None:
    provider = SenderProvider()
    old = {**SENDER, "active": True}

    assert provider.diff("7", old, {**SENDER, "email": f"other@{DOMAIN}"}).replaces == ["email"]
    assert provider.diff("7", old, {**SENDER, "name": "b"}).replaces == []


# ------------------------------------------------------------------------ TransactionalTemplate (finding 3)


def test_removing_an_active_template_deactivates_it_then_deletes_it(sim: BrevoSimulator) -> None:
    provider = configure(TransactionalTemplateProvider())
    created = provider.create(dict(TEMPLATE))
    assert sim.templates[int(created.id)]["isActive"] is True

    provider.delete(created.id, created.outs)

    assert sim.templates == {}
    assert calls(sim)[-2:] == [
        ("PUT", f"/smtp/templates/{created.id}", 204),
        ("DELETE", f"/smtp/templates/{created.id}", 204),
    ]


def test_brevo_refuses_to_delete_an_active_template_with_405(sim: BrevoSimulator) -> None:
    created = configure(TransactionalTemplateProvider()).create(dict(TEMPLATE))
    api = configure(TransactionalTemplateProvider())

    with pytest.raises(VendorApiError, match="HTTP 405"):
        api.brevo(
            f"DELETE /smtp/templates/{created.id}",
            lambda client: client.transactional_emails.delete_smtp_template(int(created.id)),
            resource="template",
        )


def test_template_is_created_with_the_sdks_field_names(sim: BrevoSimulator) -> None:
    result = configure(TransactionalTemplateProvider()).create(dict(TEMPLATE))

    post = next(body for method, _url, body, _status in sim.requests if method == "POST")
    assert post == {
        "templateName": "mynexk.ticket_created.en",
        "subject": "[{{ params.ticket_ref }}] received",
        "htmlContent": "<p>Your ticket was received.</p>",
        "sender": {"name": "myNexK", "email": f"no-reply@{DOMAIN}"},
        "tag": "ticket_created",
        "isActive": True,
    }
    assert result.outs["template_id"] == int(result.id)


def test_template_create_adopts_and_updates_a_template_with_the_same_name(sim: BrevoSimulator) -> None:
    provider = configure(TransactionalTemplateProvider())
    provider.create({**TEMPLATE, "template_name": "other"})
    first = provider.create({**TEMPLATE, "subject": "old subject"})

    again = provider.create(dict(TEMPLATE))

    assert again.id == first.id and len(sim.templates) == 2
    assert sim.templates[int(first.id)]["subject"] == TEMPLATE["subject"]


def test_template_lookup_pages_through_brevos_list(
    sim: BrevoSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("infra.providers.brevo.TEMPLATE_PAGE_SIZE", 2)
    provider = configure(TransactionalTemplateProvider())
    wanted = provider.create(dict(TEMPLATE))
    for n in range(4):
        provider.create({**TEMPLATE, "template_name": f"mynexk.filler.{n}"})
    sim.requests.clear()

    assert provider.create(dict(TEMPLATE)).id == wanted.id
    pages = [path for method, path, _ in calls(sim) if method == "GET"]
    assert pages == [f"/smtp/templates?limit=2&offset={offset}" for offset in (0, 2, 4)]


@pytest.mark.parametrize("fault", ["5xx_after_commit", "drop_after_commit"])
def test_template_committed_before_a_failure_is_adopted_not_duplicated(
    sim: BrevoSimulator, fault: str
) -> None:
    sim.fail_next("POST", "smtp/templates", fault)

    result = configure(TransactionalTemplateProvider()).create(dict(TEMPLATE))

    assert list(sim.templates) == [int(result.id)]


def test_template_post_that_failed_before_commit_is_sent_again(sim: BrevoSimulator) -> None:
    sim.fail_next("POST", "smtp/templates", "5xx")

    result = configure(TransactionalTemplateProvider()).create(dict(TEMPLATE))

    assert list(sim.templates) == [int(result.id)]
    assert [c[2] for c in calls(sim) if c[0] == "POST"] == [502, 201]


def test_template_edited_in_brevo_is_seen_as_drift_and_updated_in_place(sim: BrevoSimulator) -> None:
    provider = configure(TransactionalTemplateProvider())
    created = provider.create(dict(TEMPLATE))
    sim.edit_template_in_ui(int(created.id), subject="edited in Brevo", is_active=False)

    read = provider.read(created.id, created.outs)
    diff = provider.diff(created.id, read.outs, dict(TEMPLATE))

    assert read.outs["subject"] == "edited in Brevo" and read.outs["is_active"] is False
    assert diff.changes is True and diff.replaces == []
    provider.update(created.id, read.outs, dict(TEMPLATE))
    assert sim.templates[int(created.id)]["subject"] == TEMPLATE["subject"]
    assert sim.templates[int(created.id)]["isActive"] is True


def test_template_deleted_in_brevo_reads_as_gone(sim: BrevoSimulator) -> None:
    provider = configure(TransactionalTemplateProvider())
    created = provider.create(dict(TEMPLATE))
    provider.delete(created.id, created.outs)

    assert provider.read(created.id, created.outs).id == ""


# --------------------------------------------------------------------------------------------------- Webhook


def test_webhook_is_created_for_transactional_events_with_bearer_auth(sim: BrevoSimulator) -> None:
    result = configure(WebhookProvider()).create(dict(WEBHOOK))

    post = next(body for method, _url, body, _status in sim.requests if method == "POST")
    assert post == {
        "url": WEBHOOK["url"],
        "events": ["delivered", "hardBounce"],
        "description": "myNexK prod",
        "auth": {"type": "bearer", "token": "tok"},
        "type": "transactional",
        "channel": "email",
    }
    assert result.outs["webhook_id"] == int(result.id)


def test_webhook_committed_before_a_502_is_adopted_not_duplicated(sim: BrevoSimulator) -> None:
    sim.fail_next("POST", "webhooks", "5xx_after_commit")

    result = configure(WebhookProvider()).create(dict(WEBHOOK))

    assert list(sim.webhooks) == [int(result.id)]


def test_webhook_deleted_in_brevo_reads_as_gone_and_a_changed_one_as_drift(sim: BrevoSimulator) -> None:
    provider = configure(WebhookProvider())
    created = provider.create(dict(WEBHOOK))
    sim.webhooks[int(created.id)]["events"] = ["spam"]

    drifted = provider.read(created.id, created.outs)
    assert (
        drifted.outs["events"] == ["spam"] and provider.diff(created.id, drifted.outs, dict(WEBHOOK)).changes
    )

    sim.delete_webhook_in_ui(int(created.id))
    assert provider.read(created.id, created.outs).id == ""


def test_webhook_events_listed_in_another_order_by_brevo_are_no_drift(sim: BrevoSimulator) -> None:
    provider = configure(WebhookProvider())
    created = provider.create(dict(WEBHOOK))
    sim.webhooks[int(created.id)]["events"] = list(reversed(WEBHOOK["events"]))

    read = provider.read(created.id, created.outs)

    assert provider.diff(created.id, read.outs, dict(WEBHOOK)).changes is False


def test_the_vendor_call_record_shows_the_webhook_token_as_sent_but_not_its_value(
    sim: BrevoSimulator,
) -> None:
    configure(WebhookProvider()).create({**WEBHOOK, "auth_token": "bearer-value-4711"})

    record = vendor_calls.log_path().read_text(encoding="utf-8")
    assert "bearer-value-4711" not in record
    assert any(
        body and body.get("auth") == {"type": "bearer", "token": "bearer-value-4711"}
        for _m, _u, body, _s in sim.requests
    )


def test_webhook_check_rejects_unknown_events_and_plain_http() -> None:
    failures = (
        WebhookProvider()
        .check({}, {"url": "http://x", "type": "transactional", "events": ["delivered", "teleported"]})
        .failures
    )

    assert sorted(f.property for f in failures) == ["events", "url"]


# ---------------------------------------------------------------------------------------- retries and limits


def test_a_429_burst_is_waited_out_until_brevos_reset(sim: BrevoSimulator) -> None:
    created = configure(WebhookProvider()).create(dict(WEBHOOK))
    sim.rate_limit_burst(3, reset_seconds=40)
    sim.requests.clear()

    read = configure(WebhookProvider()).read(created.id, created.outs)

    assert read.id == created.id
    assert [c[2] for c in calls(sim)] == [429, 200]  # waited the whole reset once, then went through
    assert sim.clock.now == pytest.approx(40)


def test_a_rate_limit_reset_beyond_the_wait_budget_stops_with_when_to_retry(sim: BrevoSimulator) -> None:
    sim.rate_limit_burst(1, reset_seconds=3600)

    with pytest.raises(VendorApiError, match=r"resets in 3600 s.*run `pulumi up` again after the reset"):
        configure(SmtpRelayAccountProvider()).create({})
    assert sim.clock.now == 0


def test_reads_are_retried_after_a_brevo_server_error(sim: BrevoSimulator) -> None:
    sim.fail_next("GET", "account", "5xx", count=2)

    outs = configure(SmtpRelayAccountProvider()).create({}).outs

    assert outs["login"] == "8a1b2c001@smtp-brevo.com"
    assert [c[2] for c in calls(sim)] == [502, 502, 200]


def test_brevo_error_names_the_resource_and_the_apis_message(sim: BrevoSimulator) -> None:
    provider = configure(TransactionalTemplateProvider())

    with pytest.raises(
        VendorApiError,
        match=r"Brevo transactional template t: POST /smtp/templates failed with HTTP 400: .*sender",
    ):
        provider.brevo_create(
            "POST /smtp/templates",
            lambda client: client.transactional_emails.create_smtp_template(
                template_name="t", subject="s", html_content="<p>long enough</p>", sender={"name": "n"}
            ),
            lambda: None,
            resource="transactional template t",
        )


# ------------------------------------------------------------------------------------------ SmtpRelayAccount


def test_smtp_relay_account_outputs_brevos_login_host_and_port(sim: BrevoSimulator) -> None:
    result = configure(SmtpRelayAccountProvider()).create({})

    assert result.id == "brevo-smtp-relay"
    assert result.outs == {"login": "8a1b2c001@smtp-brevo.com", "host": "smtp-relay.brevo.com", "port": 587}
    assert calls(sim) == [("GET", "/account", 200)]


def test_smtp_relay_account_shows_a_change_only_when_brevo_reports_another_relay(sim: BrevoSimulator) -> None:
    provider = configure(SmtpRelayAccountProvider())
    # As the engine hands back the state: numbers are floats.
    state = {"login": "8a1b2c001@smtp-brevo.com", "host": "smtp-relay.brevo.com", "port": 587.0}

    unchanged = provider.diff("brevo-smtp-relay", state, {})
    changed = provider.diff("brevo-smtp-relay", {**state, "login": "ops@nexk-it.com"}, {})

    assert unchanged.changes is False and unchanged.replaces == []
    assert changed.changes is True and changed.replaces == [] and "login" not in changed.stables
    assert provider.read("brevo-smtp-relay", {**state, "login": "x"}).outs["login"] == state["login"]


def test_smtp_relay_account_refuses_a_disabled_relay_saying_to_activate_it(sim: BrevoSimulator) -> None:
    sim.relay_enabled = False

    with pytest.raises(VendorApiError) as error:
        configure(SmtpRelayAccountProvider()).create({})

    assert str(error.value).startswith("Brevo SMTP relay account: ")
    assert "activate the transactional (SMTP) relay in Brevo, then pulumi up" in str(error.value)


def test_an_unauthorized_brevo_key_says_to_check_the_brevo_api_key(sim: BrevoSimulator) -> None:
    sim.api_key = "xkeysib-the-real-one"

    with pytest.raises(VendorApiError) as error:
        configure(SmtpRelayAccountProvider()).create({})

    message = str(error.value)
    assert message.startswith("Brevo SMTP relay account: GET /account failed with HTTP 401: Key not found")
    assert "check the Brevo API key" in message and "brevoApiKey" in message and "BREVO_API_KEY" in message
    assert TOKEN not in message and error.value.status == 401


def test_deleting_the_smtp_relay_account_only_forgets_it(sim: BrevoSimulator) -> None:
    configure(SmtpRelayAccountProvider()).delete("brevo-smtp-relay", {"login": "x@smtp-brevo.com"})

    assert sim.requests == []


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
    # checkov:skip=CKV_SECRET_6: a fixture token; nothing is sent
    provider = configure(provider_class(), token="xkeysib-very-secret")

    payload = base64.b64decode(serialize_provider(provider))
    restored = dill.loads(payload)  # noqa: S301 (our own payload, as Pulumi does)

    assert b"xkeysib-very-secret" not in payload
    assert restored._token is None and type(restored) is provider_class
