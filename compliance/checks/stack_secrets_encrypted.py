"""CKV_NEXK_2: a Pulumi stack file holds secrets only as `secure:` ciphertext, never in plain text."""

from __future__ import annotations

import re
from typing import Any

from checkov.common.models.enums import CheckCategories

from compliance.checks._stack import StackConfigCheck

SECRET_NAME = re.compile(
    r"(password|passwd|secret|token|api_?key|smtp_?key|private_?key|credential)", re.IGNORECASE
)


class StackSecretsEncrypted(StackConfigCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Pulumi stack secrets are encrypted (`pulumi config set --secret`), never plain text",
            id="CKV_NEXK_2",
            categories=[CheckCategories.SECRETS],
        )

    def problem(self, path: tuple[str, ...], value: Any) -> str | None:
        # Only a non-empty string can be a leaked secret (passwordMinLength: 12 is a setting, not one).
        if SECRET_NAME.search(path[-1].replace("-", "_")) and isinstance(value, str) and value:
            return f"{'.'.join(path)} is plain text: set it with `pulumi config set --secret`"
        return None


check = StackSecretsEncrypted()
