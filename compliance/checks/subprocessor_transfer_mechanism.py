"""CKV_NEXK_3: a subprocessor outside the EEA has a transfer mechanism (GDPR Art. 44-46: SCC, adequacy, BCR)."""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.yaml_doc.base_yaml_check import BaseYamlCheck
from checkov.yaml_doc.enums import BlockType

from nexk.subprocessors import EEA_COUNTRIES

MECHANISMS = {"SCC", "adequacy", "BCR"}


class SubprocessorTransferMechanism(BaseYamlCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Subprocessors outside the EEA have a transfer mechanism (SCC, adequacy decision or BCR)",
            id="CKV_NEXK_3",
            categories=[CheckCategories.GENERAL_SECURITY],
            supported_entities=["subprocessors"],
            block_type=BlockType.ARRAY,
        )

    def scan_entity_conf(self, conf: dict[str, Any], entity_type: str) -> CheckResult:
        if not isinstance(conf, dict) or "country" not in conf:
            return CheckResult.UNKNOWN
        if conf["country"] in EEA_COUNTRIES:
            return CheckResult.PASSED
        if conf.get("transfer_mechanism") in MECHANISMS:
            return CheckResult.PASSED
        self.details.append(
            f"{conf.get('name', conf.get('key'))} is in {conf['country']} (outside the EEA) with transfer_mechanism "
            f"{conf.get('transfer_mechanism')!r}: use one of {sorted(MECHANISMS)}"
        )
        return CheckResult.FAILED


check = SubprocessorTransferMechanism()
