"""Translations are complete for what the database renders, not only for the template strings: every value
a check constraint allows in a column people read has a label in en/fr/nl (app/i18n/labels.py), and every
page, rendered as each role in French and in Dutch over a world that holds every such value, shows no
English label, no raw stored value, no English weekday or Belgian holiday name, and no catalogue msgid left
untranslated. (tests/app/test_i18n.py proves the other half: every marked string has a translation.)"""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import holidays
import psycopg
import pytest
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient
from portal_testkit import World, csrf_of, sign_in

from app import i18n
from app.i18n import labels

REPO_ROOT = Path(__file__).resolve().parents[2]
# Columns with a check constraint listing allowed values, and the label kind that names their values on
# pages. A new constrained column must be added to one of the two maps below.
SHOWN = {
    "public.tickets.status": "ticket_status",
    "public.tickets.priority": "priority",
    "public.sla_policies.priority": "priority",
    "public.profiles.role": "role",
    "private.invitations.role": "role",
    "public.dsr_requests.type": "dsr_type",
    "public.dsr_requests.status": "dsr_status",
    "public.audit_log.action": "audit_action",
    "private.processing_objections.purpose": "objection_purpose",
    "private.processing_objections.status": "objection_status",
    "public.profiles.theme": "theme",
}
NOT_SHOWN = {
    "public.profiles.language": "shown as each language's own name (English, Français, Nederlands)",
    "private.notifications.language": "the outbox: read by the notifications worker only",
    "private.notifications.status": "the outbox: read by the notifications worker only",
    "private.notifications.kind": "the outbox: read by the notifications worker only",
    "private.notifications.template_key": "Brevo template keys, never shown",
    "private.dsr_events.outcome": "the DSR journal: exported as data (nexk dsr export), not shown on pages",
    "private.storage_deletions.reason": "the storage sweeper's queue: never shown",
    "private.rate_limit_rules.counts": "attempt limits: decided in the database, never shown",
}
CONSTRAINT_VALUES = re.compile(r"\((\w+) = ANY \(ARRAY\[(.*?)\]\)\)")
WEEKDAYS = re.compile(r"\b(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)s?\b")


def constrained_values(db: psycopg.Connection) -> dict[str, set[str]]:
    """schema.table.column -> the values its check constraints allow (`column in ('a', 'b')`)."""
    rows = db.execute(
        """select n.nspname || '.' || t.relname, pg_get_constraintdef(c.oid)
           from pg_constraint as c
           inner join pg_class as t on c.conrelid = t.oid
           inner join pg_namespace as n on t.relnamespace = n.oid
           where c.contype = 'c' and n.nspname in ('public', 'private')"""
    ).fetchall()
    found: dict[str, set[str]] = {}
    for table, definition in rows:
        for column, values in CONSTRAINT_VALUES.findall(definition):
            found.setdefault(f"{table}.{column}", set()).update(re.findall(r"'([^']*)'::text", values))
    return found


def test_every_value_a_check_constraint_allows_in_a_read_column_has_a_label(db: psycopg.Connection) -> None:
    found = constrained_values(db)
    assert found, "expected the check constraints of the schema"
    unclassified = sorted(set(found) - set(SHOWN) - set(NOT_SHOWN))
    assert unclassified == [], "add these columns to SHOWN (with labels) or NOT_SHOWN (with the reason)"
    missing = {
        column: sorted(found[column] - labels.KINDS[kind].keys())
        for column, kind in SHOWN.items()
        if found.get(column, set()) - labels.KINDS[kind].keys()
    }
    assert missing == {}
    assert not [
        enum
        for enum in db.execute(
            """select t.typname from pg_type as t inner join pg_namespace as n on t.typnamespace = n.oid
           where t.typtype = 'e' and n.nspname in ('public', 'private')"""
        ).fetchall()
    ], "enum types in public/private: give their values labels and list them here"


@pytest.mark.parametrize("language", ["fr", "nl"])
def test_every_label_has_a_reviewed_translation(language: str) -> None:
    with i18n.catalogue_path(language).open("rb") as po:
        catalog = read_po(po, locale=language)
    translated = {m.id: m for m in catalog if m.id and m.string and not m.fuzzy}
    untranslated = sorted(
        text for kind in labels.KINDS.values() for text in kind.values() if text not in translated
    )
    assert untranslated == []


def test_kinds_share_no_value_with_two_meanings() -> None:
    meanings: dict[str, set[str]] = {}
    for kind in labels.KINDS.values():
        for value, text in kind.items():
            meanings.setdefault(value, set()).add(text)
    assert {v: t for v, t in meanings.items() if len(t) > 1} == {}


def test_weekdays_days_and_holidays_come_in_the_viewers_language() -> None:
    from datetime import date

    shown = {}
    for language in i18n.LANGUAGES:
        i18n.activate(language)
        shown[language] = (
            labels.weekday_names()[0],
            labels.format_day(date(2026, 12, 25)),
            labels.holiday_name(date(2026, 12, 25), "Christmas Day"),
            labels.holiday_name(date(2026, 12, 24), "Christmas Eve"),  # typed by an admin: kept
        )
    i18n.activate("en")
    assert shown == {
        "en": ("Monday", "25 Dec 2026", "Christmas Day", "Christmas Eve"),
        "fr": ("Lundi", "25 déc. 2026", "Noël", "Christmas Eve"),
        "nl": ("Maandag", "25 dec 2026", "Kerstmis", "Christmas Eve"),
    }


# --- Every page, as each role, in French and Dutch ------------------------------------------------------


class _Visible(HTMLParser):
    """The text a person reads (text nodes and the attributes read aloud or shown), minus what is in another
    language on purpose (elements with their own `lang`, e.g. the language names) and code/ids."""

    SPOKEN = ("aria-label", "title", "placeholder", "alt", "data-label")

    def __init__(self, page_language: str) -> None:
        super().__init__()
        self.page_language = page_language
        self.stack: list[tuple[str, bool]] = []
        self.texts: list[str] = []

    def _skipping(self) -> bool:
        return any(skip for _, skip in self.stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        other_language = values.get("lang") not in (None, self.page_language) and tag != "html"
        skip = tag in ("script", "style", "code") or other_language
        if tag not in ("input", "meta", "link", "br", "img", "hr"):
            self.stack.append((tag, skip))
        if not (skip or self._skipping()):
            self.texts += [v.strip() for k, v in attrs if k in self.SPOKEN and v and v.strip()]

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data: str) -> None:
        if data.strip() and not self._skipping():
            self.texts.append(" ".join(data.split()))


@pytest.fixture(scope="module")
def forbidden() -> dict[str, dict[str, str]]:
    """Per language: English text that must not be shown (msgid -> why), from the catalogue and the labels."""
    out: dict[str, dict[str, str]] = {}
    for language in ("fr", "nl"):
        with i18n.catalogue_path(language).open("rb") as po:
            catalog = read_po(po, locale=language)
        english: dict[str, str] = {}
        for m in catalog:
            if not m.id or isinstance(m.id, tuple) or "{" in m.id or "%(" in m.id:
                continue
            if m.string and m.string != m.id:
                english[m.id] = "untranslated catalogue text"
        out[language] = english
    return out


def _stored_values() -> set[str]:
    values = {value for column, kind in SHOWN.items() for value in labels.KINDS[kind]} | set(
        labels.AUDIT_TABLE
    )
    return values | {v.replace("_", " ") for v in values}


def problems(html: str, language: str, english: dict[str, str]) -> list[str]:
    parser = _Visible(language)
    parser.feed(html)
    found = []
    stored = _stored_values()
    public_holidays = set(holidays.country_holidays("BE", years=range(2025, 2028), language="en_US").values())
    whole = " | ".join(parser.texts)
    for text in parser.texts:
        if text in stored:
            found.append(f"raw stored value {text!r}")
        if text in english:
            found.append(f"{english[text]}: {text!r}")
        if text in public_holidays:
            found.append(f"English holiday name {text!r}")
    found += [f"English weekday {m!r}" for m in WEEKDAYS.findall(whole)]
    found += [
        f"untranslated catalogue text inside {msgid!r}"
        for msgid in english
        if len(msgid.split()) >= 3 and msgid in whole
    ]
    return found


@pytest.fixture
def full_world(world: World, db: psycopg.Connection) -> World:
    """The portal test world plus every stored value people can read: tickets of each status and priority,
    DSR requests of each type and status, an objection of each purpose, audit entries of each action, the
    opening hours of each weekday, a Belgian public holiday stored under its English name, pending
    invitations, a deactivated person."""
    world.person("boss", "admin", totp=True)
    member = world.people["member_a"]
    for number, status in enumerate(labels.TICKET_STATUS):
        for priority in labels.PRIORITY:
            key = f"{status}-{priority}"
            ticket = world.ticket(key, "member_a", subject=f"Dossier {number}{len(key)}", priority=priority)
            db.execute("update public.tickets set status = %s where id = %s", (status, ticket))
    for index, dsr_type in enumerate(labels.DSR_TYPE):
        status = list(labels.DSR_STATUS)[index % len(labels.DSR_STATUS)]
        request_id = db.execute("select private.dsr_open(%s, %s)", (member.id, dsr_type)).fetchone()[0]
        done = status in ("completed", "rejected")
        db.execute(
            "update public.dsr_requests set status = %s, completed_at = case when %s then now() end where id = %s",
            (status, done, request_id),
        )
    for status in ("completed", "rejected"):
        request_id = db.execute("select private.dsr_open(%s, 'erasure')", (member.id,)).fetchone()[0]
        db.execute(
            "update public.dsr_requests set status = %s, completed_at = now() where id = %s",
            (status, request_id),
        )
    calendar = db.execute(
        "select calendar_id from public.sla_plans where id = %s", (world.plan_id,)
    ).fetchone()[0]
    for day in range(1, 8):
        db.execute(
            "insert into public.business_hours (calendar_id, day_of_week, opens_at, closes_at)"
            " values (%s, %s, '08:30', '17:30')",
            (calendar, day),
        )
    db.execute(
        "insert into public.holidays (calendar_id, day, name) values (%s, '2026-12-25', 'Christmas Day'),"
        " (%s, '2026-12-24', 'Kerstavond / Réveillon')",
        (calendar, calendar),
    )
    for priority in labels.PRIORITY:
        db.execute(
            "insert into public.sla_policies (plan_id, priority, first_response_minutes, next_response_minutes,"
            " resolution_minutes) values (%s, %s, 60, 120, 480)",
            (world.plan_id, priority),
        )
    for role, org in (("client_admin", world.orgs["a"]), ("agent", None)):
        db.execute(
            """insert into private.invitations (email, organization_id, role, first_name, surname, nonce_hash)
               values (%s, %s, %s, 'Pending', 'Person', repeat(left(md5(%s), 1), 64))""",
            (f"pending-{role}@example.test", org, role, role),
        )
    gone = world.person("gone_a", "client_member", "a")
    db.execute("update public.profiles set deactivated_at = now() where id = %s", (gone.id,))
    return world


CLIENT_PAGES = [
    "/tickets",
    "/tickets?status=closed",
    "/tickets/new",
    "/tickets/{a1}",
    "/profile",
    "/my-data",
    "/privacy",
    "/nowhere",
    "/tickets/{b1}",
    "/tickets/{a1}/status",
]
# A client admin's own pages (app/routes/team.py): their company and the confirmation of a deactivation.
CLIENT_ADMIN_PAGES = [*CLIENT_PAGES, "/team", "/team/people/{member_a}/deactivate"]
AGENT_PAGES = [
    "/agent/queue",
    "/agent/queue?status=resolved&status=closed",
    "/tickets/{a1}",
    "/profile",
    "/my-data",
    "/privacy",
    "/nowhere",
    "/tickets/{a1}/status",
]
ADMIN_PAGES = (
    AGENT_PAGES
    + [
        "/admin",
        "/admin/organizations",
        "/admin/organizations/{org_a}",
        "/admin/staff",
        "/admin/assignments",
        "/admin/sla",
        "/admin/dsr?closed=true",
        "/admin/audit",
        "/dev/mail",
    ]
    + [f"/admin/audit?action={action}" for action in labels.AUDIT_ACTION]
)
ANONYMOUS_PAGES = [
    "/auth/sign-in",
    "/auth/forgot",
    "/auth/reset?token=0123456789abcdef",
    "/auth/invite?token=0123456789abcdef",
    "/privacy",
    "/nowhere",
]
# GET routes that are not pages: files and the JSON API.
NOT_PAGES = {"/attachments/{attachment_id}", "/my-data/export", "/favicon.ico", "/auth/mfa", "/"}


def test_every_page_route_is_walked_by_the_translation_walk() -> None:
    """A new page joins the lists above (or NOT_PAGES): the walk below only proves the pages it renders."""
    declared = set()
    for source in (REPO_ROOT / "app" / "routes").rglob("*.py"):
        if source.name == "api.py":
            continue
        declared |= set(re.findall(r'@router\.get\("([^"]+)"', source.read_text(encoding="utf-8")))
    walked = {p.split("?")[0] for p in CLIENT_ADMIN_PAGES + ADMIN_PAGES + ANONYMOUS_PAGES}
    walked = {
        p.replace("{a1}", "{ticket_id}")
        .replace("{b1}", "{ticket_id}")
        .replace("{org_a}", "{org_id}")
        .replace("{member_a}", "{person_id}")
        for p in walked
    }
    assert sorted(declared - walked - NOT_PAGES) == []


def _paths(world: World, pages: list[str]) -> Iterator[str]:
    for page in pages:
        yield page.format(
            a1=world.tickets["a1"],
            b1=world.tickets["b1"],
            org_a=world.orgs["a"],
            member_a=world.people["member_a"].id,
        )


ROLES = {"member_a": CLIENT_PAGES, "admin_a": CLIENT_ADMIN_PAGES, "agent": AGENT_PAGES, "boss": ADMIN_PAGES}


@pytest.mark.parametrize("language", ["fr", "nl"])
@pytest.mark.parametrize("who", list(ROLES))
def test_no_english_or_raw_value_on_any_page_of_a_role(
    portal: TestClient,
    full_world: World,
    db: psycopg.Connection,
    forbidden: dict[str, dict[str, str]],
    who: str,
    language: str,
) -> None:
    person = full_world.people[who]
    db.execute("update public.profiles set language = %s", (language,))
    sign_in(portal, person)
    if who == "boss":
        portal.get(f"/tickets/{full_world.tickets['a1']}")  # a read in the audit log
    found = {}
    for path in _paths(full_world, ROLES[who]):
        response = portal.get(path, headers={"Accept-Language": "en"})
        assert response.status_code in (200, 404, 405), (path, response.status_code)
        assert f'<html lang="{language}"' in response.text, path
        if issues := problems(response.text, language, forbidden[language]):
            found[path] = issues
    if who == "boss":
        member = full_world.people["member_a"]
        confirm = portal.post(
            f"/admin/people/{member.id}/access", data={"csrf_token": csrf_of(portal), "back": "/admin/staff"}
        )
        assert confirm.status_code == 200
        if issues := problems(confirm.text, language, forbidden[language]):
            found["confirm deactivate"] = issues
    assert found == {}


@pytest.mark.parametrize("language", ["fr", "nl"])
def test_no_english_on_the_pages_before_sign_in(
    portal: TestClient, full_world: World, forbidden: dict[str, dict[str, str]], language: str
) -> None:
    found = {}
    for path in ANONYMOUS_PAGES:
        response = portal.get(path, headers={"Accept-Language": f"{language}-BE"})
        assert f'<html lang="{language}"' in response.text, path
        if issues := problems(response.text, language, forbidden[language]):
            found[path] = issues
    assert found == {}


def test_the_walk_sees_english_raw_values_weekdays_and_holidays(
    portal: TestClient, world: World, forbidden: dict[str, dict[str, str]]
) -> None:
    """The checker itself: an English page, a raw stored value, an English weekday or holiday is reported."""
    english_page = portal.get("/auth/sign-in", headers={"Accept-Language": "en"}).text
    assert any("Sign in to myNexK" in p for p in problems(english_page, "fr", forbidden["fr"]))
    page = (
        '<html lang="fr"><td>client member</td><td data-label="Status">ouvert</td>'
        '<li>Monday 08:30</li><li>Christmas Day</li><p lang="en">English</p></html>'
    )
    assert sorted(problems(page, "fr", forbidden["fr"])) == [
        "English holiday name 'Christmas Day'",
        "English weekday 'Monday'",
        "raw stored value 'client member'",
        "untranslated catalogue text: 'Status'",
    ]


def test_the_admin_pages_show_stored_values_in_the_admins_language(
    portal: TestClient, full_world: World, db: psycopg.Connection
) -> None:
    boss = full_world.people["boss"]
    db.execute("update public.profiles set language = 'fr' where id = %s", (boss.id,))
    sign_in(portal, boss)
    sla = portal.get("/admin/sla").text
    assert (
        all(day in sla for day in ("Lundi", "Mardi", "Dimanche")) and "Noël" in sla and "25 déc. 2026" in sla
    )
    assert "Kerstavond / Réveillon" in sla  # typed by an admin: shown as typed
    assert "Urgente" in sla and "Basse" in sla
    dsr = portal.get("/admin/dsr?closed=true").text
    assert all(
        text in dsr for text in ("Effacement", "Portabilité", "Reçue", "Vérification de votre identité")
    )
    assert "Journalisation de sécurité" in dsr  # an objection purpose
    staff = portal.get(f"/admin/organizations/{full_world.orgs['a']}").text
    assert "Membre client" in staff and "Administrateur client" in staff
    audit = portal.get("/admin/audit?action=sign_in").text
    assert ">Connexion<" in audit
    assert '">Sessions de connexion</td>' in audit
