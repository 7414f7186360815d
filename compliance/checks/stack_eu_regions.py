"""CKV_NEXK_1: every region a Pulumi stack file configures is inside the EEA (the privacy policy promises it).

Any config key whose name contains "region" (`nexk:supabase.region`, `nexk:portal.functionRegions`, ...) is
checked, so a new vendor's region setting is covered without touching this check.
"""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories

from compliance.checks._stack import StackConfigCheck

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


class StackRegionsInEea(StackConfigCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Pulumi stack regions are in the EEA (privacy policy: hosting in the EU)",
            id="CKV_NEXK_1",
            categories=[CheckCategories.GENERAL_SECURITY],
        )

    def problem(self, path: tuple[str, ...], value: Any) -> str | None:
        if "region" not in path[-1].lower():
            return None
        values = value if isinstance(value, list) else [value]
        outside = [v for v in values if isinstance(v, str) and v not in EEA_REGIONS]
        if outside:
            return f"{'.'.join(path)}: {outside} outside the EEA (allowed: {sorted(EEA_REGIONS)})"
        return None


check = StackRegionsInEea()
