"""BrevoMail under the program's mocks: the sender's validation code and what ops are told to do by hand."""

from __future__ import annotations

from infra.brevo_mail import sender_next_step
from infra.mocks import run_program, stack_config

SENDER = "pulumi-python:dynamic/brevo:Sender"


def test_the_sender_gets_the_emailed_code_from_the_stack_secret_brevo_sender_otp() -> None:
    config, secret_keys, _missing = stack_config("dev")
    config = {**config, "nexk:brevoSenderOtp": "123456"}

    run = run_program("dev", config, secret_keys | {"nexk:brevoSenderOtp"})

    sender = run.of_type(SENDER)[0]
    assert sender.get("otp") == "123456" and sender.is_secret("otp")


def test_without_the_code_the_sender_is_declared_without_one() -> None:
    config, secret_keys, _missing = stack_config("staging")

    sender = run_program("staging", config, secret_keys).of_type(SENDER)[0]

    assert sender.get("otp") is None


def test_the_next_step_output_tells_ops_where_the_code_goes_until_brevo_reports_the_sender_active() -> None:
    pending = sender_next_step(False, "no-reply@mail.nexk-it.com")

    assert "no-reply@mail.nexk-it.com" in pending
    assert "pulumi config set --secret brevoSenderOtp <code>" in pending and "pulumi up" in pending
    assert sender_next_step(True, "no-reply@mail.nexk-it.com").startswith("none")
