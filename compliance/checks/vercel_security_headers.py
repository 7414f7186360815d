"""CKV_NEXK_4: the portal's deploy config (vercel.json) sends the security headers on every path.

CSP (with frame-ancestors), HSTS of at least one year (TLS only: the policy's "TLS 1.3 encryption in
transit"), nosniff, a Referrer-Policy and X-Frame-Options, on a header rule whose source covers all paths.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.json_doc.base_json_check import BaseJsonCheck
from checkov.json_doc.enums import BlockType

ALL_PATHS = {"/(.*)", "/:path*", "/(.*)?"}
ONE_YEAR = 31_536_000


def _problems(headers: dict[str, str]) -> list[str]:
    problems = []
    csp = headers.get("content-security-policy", "")
    if not csp:
        problems.append("Content-Security-Policy is missing")
    elif "frame-ancestors" not in csp:
        problems.append("Content-Security-Policy has no frame-ancestors directive")
    hsts = re.search(r"max-age=(\d+)", headers.get("strict-transport-security", ""))
    if not hsts:
        problems.append("Strict-Transport-Security is missing")
    elif int(hsts.group(1)) < ONE_YEAR:
        problems.append(f"Strict-Transport-Security max-age is {hsts.group(1)}, below one year")
    if headers.get("x-content-type-options", "").lower() != "nosniff":
        problems.append("X-Content-Type-Options: nosniff is missing")
    if not headers.get("referrer-policy"):
        problems.append("Referrer-Policy is missing")
    if headers.get("x-frame-options", "").upper() not in {"DENY", "SAMEORIGIN"}:
        problems.append("X-Frame-Options (DENY or SAMEORIGIN) is missing")
    return problems


class VercelSecurityHeaders(BaseJsonCheck):
    def __init__(self) -> None:
        super().__init__(
            name="The portal's vercel.json sends CSP, HSTS, nosniff, Referrer-Policy and X-Frame-Options on every path",
            id="CKV_NEXK_4",
            categories=[CheckCategories.NETWORKING],
            supported_entities=["*"],
            block_type=BlockType.DOCUMENT,
        )

    def scan_entity_conf(self, conf: dict[str, Any], entity_type: str) -> CheckResult:
        if Path(self.entity_path.split(":", 1)[0]).name != "vercel.json" or not isinstance(conf, dict):
            return CheckResult.UNKNOWN
        headers: dict[str, str] = {}
        for rule in conf.get("headers") or []:
            if isinstance(rule, dict) and rule.get("source") in ALL_PATHS:
                for header in rule.get("headers") or []:
                    if isinstance(header, dict) and "key" in header:
                        headers[str(header["key"]).lower()] = str(header.get("value", ""))
        problems = _problems(headers)
        if problems:
            self.details.append("; ".join(problems) + " (on a header rule with source /(.*))")
            return CheckResult.FAILED
        return CheckResult.PASSED


check = VercelSecurityHeaders()
