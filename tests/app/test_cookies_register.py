"""The privacy policy's cookie section is true: the portal sets exactly the cookies compliance/cookies.yaml
names, each HttpOnly, first-party and with the lifetime the policy states.

A person's whole visit is walked through the real forms (sign-in page, sign-in, a new ticket with its
confirmation, sign-out) and every `Set-Cookie` of every response, redirects included, is read.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from fastapi.testclient import TestClient
from portal_testkit import World, csrf_of, sign_in

from compliance.register import load


@dataclass(frozen=True)
class SetCookie:
    name: str
    attributes: dict[str, str]

    @classmethod
    def parse(cls, header: str) -> SetCookie:
        first, *rest = [part.strip() for part in header.split(";")]
        attributes = {}
        for part in rest:
            key, _, value = part.partition("=")
            attributes[key.lower()] = value
        return cls(first.partition("=")[0], attributes)

    @property
    def deletes(self) -> bool:
        return self.attributes.get("max-age") == "0"


def visit(portal: TestClient, world: World) -> list[SetCookie]:
    seen: list[SetCookie] = []

    def record(response: httpx.Response) -> None:
        seen.extend(SetCookie.parse(h) for h in response.headers.get_list("set-cookie"))

    portal.event_hooks["response"].append(record)
    csrf_of(portal)
    sign_in(portal, world.people["member_a"])
    csrf = portal.cookies["nexk_csrf"]  # a new token, bound to the session, at sign-in
    page = portal.post(
        "/tickets",
        data={"subject": "Cookie walk", "description": "Which cookies?", "csrf_token": csrf},
    )
    assert page.status_code == 200, page.text
    signed_out = portal.post("/auth/sign-out", data={"csrf_token": csrf})
    assert signed_out.status_code == 200, signed_out.text
    return seen


def test_the_portal_sets_exactly_the_cookies_the_policy_names_with_their_lifetimes(
    portal: TestClient, world: World
) -> None:
    register = load().cookies
    declared = {c.name: c.max_age_seconds for c in register.cookies}
    seen = visit(portal, world)
    assert {c.name for c in seen} == set(declared), "compliance/cookies.yaml and the portal disagree"
    for cookie in seen:
        assert "httponly" in cookie.attributes, f"{cookie.name} is readable by scripts"
        assert "domain" not in cookie.attributes, f"{cookie.name} is shared beyond the portal's host"
        if cookie.deletes:
            continue
        max_age = cookie.attributes.get("max-age")
        expected = declared[cookie.name]
        assert (int(max_age) if max_age else None) == expected, (cookie.name, max_age, expected)
