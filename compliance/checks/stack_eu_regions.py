"""CKV_NEXK_1: every region a Pulumi stack file configures is inside the EEA (the privacy policy promises it).

Any config key whose name contains "region" (`nexk:supabase.region`, `nexk:portal.functionRegions`, ...) is
checked, so a new vendor's region setting is covered without touching this check.
"""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.yaml_doc.base_yaml_check import BaseYamlCheck
from checkov.yaml_doc.enums import BlockType

from compliance.checks._stack import is_stack_file, walk

# Regions located in the EEA: AWS-style codes (Supabase), Vercel function regions, vendors' "eu".
EEA_REGIONS = frozenset(
    {
        "eu-central-1",  # Frankfurt
        "eu-west-1",  # Ireland
        "eu-west-3",  # Paris
        "eu-north-1",  # Stockholm
        "eu-south-1",  # Milan
        "eu-south-2",  # Spain
        "fra1",  # Vercel Frankfurt
        "cdg1",  # Vercel Paris
        "arn1",  # Vercel Stockholm
        "dub1",  # Vercel Dublin
        "eu",
    }
)


class StackRegionsInEea(BaseYamlCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Pulumi stack regions are in the EEA (privacy policy: hosting in the EU)",
            id="CKV_NEXK_1",
            categories=[CheckCategories.GENERAL_SECURITY],
            supported_entities=["config"],
            block_type=BlockType.OBJECT,
        )

    def scan_entity_conf(
        self, conf: dict[str, Any], entity_type: str
    ) -> CheckResult | tuple[CheckResult, dict]:
        if not is_stack_file(self.entity_path):
            return CheckResult.UNKNOWN
        for path, value, holder in walk(conf):
            if "region" not in path[-1].lower():
                continue
            values = value if isinstance(value, list) else [value]
            outside = [v for v in values if isinstance(v, str) and v not in EEA_REGIONS]
            if outside:
                self.details.append(
                    f"{'.'.join(path)}: {outside} outside the EEA (allowed: {sorted(EEA_REGIONS)})"
                )
                # The holding block carries the line marks: the report points at the offending setting.
                return CheckResult.FAILED, holder
        return CheckResult.PASSED


check = StackRegionsInEea()
