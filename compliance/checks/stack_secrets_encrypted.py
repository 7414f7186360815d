"""CKV_NEXK_2: a Pulumi stack file holds secrets only as `secure:` ciphertext, never in plain text."""

from __future__ import annotations

import re
from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.yaml_doc.base_yaml_check import BaseYamlCheck
from checkov.yaml_doc.enums import BlockType

from compliance.checks._stack import is_stack_file, walk

SECRET_NAME = re.compile(
    r"(password|passwd|secret|token|api_?key|smtp_?key|private_?key|credential)", re.IGNORECASE
)


class StackSecretsEncrypted(BaseYamlCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Pulumi stack secrets are encrypted (`pulumi config set --secret`), never plain text",
            id="CKV_NEXK_2",
            categories=[CheckCategories.SECRETS],
            supported_entities=["config"],
            block_type=BlockType.OBJECT,
        )

    def scan_entity_conf(
        self, conf: dict[str, Any], entity_type: str
    ) -> CheckResult | tuple[CheckResult, dict]:
        if not is_stack_file(self.entity_path):
            return CheckResult.UNKNOWN
        for path, value, holder in walk(conf):
            # Only a non-empty string can be a leaked secret (passwordMinLength: 12 is a setting, not one).
            if SECRET_NAME.search(path[-1].replace("-", "_")) and isinstance(value, str) and value:
                self.details.append(
                    f"{'.'.join(path)} is plain text: set it with `pulumi config set --secret`"
                )
                return CheckResult.FAILED, holder
        return CheckResult.PASSED


check = StackSecretsEncrypted()
