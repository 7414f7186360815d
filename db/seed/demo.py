"""The demo world of `make dev`: three organizations, a dozen tickets and four people who can sign in.

`ensure_demo_world(url)` is idempotent. The first run draws passwords (secrets.token_urlsafe) and TOTP
secrets for this machine, writes them to `.nexk/demo-logins.json` (mode 600; `.nexk/` is git-ignored) and
creates the rows; later runs read the file and change nothing. If the database was rebuilt, the same
logins are recreated from the file; if the file was lost, new passwords are drawn and the hashes updated.

Logins: a client member and a client admin of Dewolf Logistics NV (members do not share tickets there), a
NexK agent assigned to every demo organization and a NexK admin; both staff have a verified TOTP factor.
Demo e-mail addresses use the reserved `.test` domain, so nothing can ever be delivered to them.
"""

from __future__ import annotations

import json
import os
import secrets
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import bcrypt
import psycopg
import pyotp

from db.rows import one
from db.seed.belgium import DEMO_PREFIXES, enterprise_number
from db.seed.world import COLUMNS, DEFAULT_EPOCH, reference_rows
from nexk.paths import state_dir

TOTP_ISSUER = "myNexK"
BCRYPT_ROUNDS = 10  # GoTrue uses 10 too; keeps the first `make dev` quick
_NS = uuid.UUID("d3a0b7e2-5c1f-4a8e-9b6d-2f4e8c7a1d05")


def _id(key: str) -> str:
    return str(uuid.uuid5(_NS, key))


@dataclass(frozen=True)
class DemoLogin:
    role: str
    email: str
    password: str
    totp_secret: str | None = None
    totp_uri: str | None = None


@dataclass(frozen=True)
class DemoWorld:
    logins: list[DemoLogin]
    organizations: list[str]
    logins_file: Path
    created: bool  # False when an existing world was found unchanged


# (key, name, enterprise-number prefix, shared tickets, SLA plan code)
ORGANIZATIONS = (
    ("brasserie", "Brasserie Vandenbroucke SRL", DEMO_PREFIXES.start + 11, True, "premium"),
    ("dewolf", "Dewolf Logistics NV", DEMO_PREFIXES.start + 42, False, "standard"),
    ("lambert", "Atelier Lambert SC", DEMO_PREFIXES.start + 77, False, "basic"),
)
# (key, role, organization key, first name, surname, language, e-mail, can sign in)
PEOPLE = (
    (
        "member",
        "client_member",
        "dewolf",
        "Lotte",
        "Peeters",
        "nl",
        "lotte.peeters@dewolf-logistics.test",
        True,
    ),
    (
        "client_admin",
        "client_admin",
        "dewolf",
        "Marc",
        "Dewolf",
        "nl",
        "marc.dewolf@dewolf-logistics.test",
        True,
    ),
    ("agent", "agent", None, "Sofie", "Janssens", "en", "sofie.janssens@nexk.test", True),
    ("admin", "admin", None, "Thomas", "Dubois", "fr", "thomas.dubois@nexk.test", True),
    (
        "colleague",
        "client_member",
        "dewolf",
        "Pieter",
        "Maes",
        "nl",
        "pieter.maes@dewolf-logistics.test",
        False,
    ),
    (
        "brewer",
        "client_admin",
        "brasserie",
        "Julie",
        "Vandenbroucke",
        "fr",
        "julie@brasserie-vandenbroucke.test",
        False,
    ),
    (
        "taster",
        "client_member",
        "brasserie",
        "Karim",
        "Benali",
        "fr",
        "karim.benali@brasserie-vandenbroucke.test",
        False,
    ),
    (
        "lambert",
        "client_admin",
        "lambert",
        "Claire",
        "Lambert",
        "fr",
        "claire.lambert@atelier-lambert.test",
        False,
    ),
)
# (requester, subject, status, priority, days ago, [(author, internal, body)])
TICKETS = (
    (
        "member",
        "Outlook blijft om wachtwoord vragen",
        "open",
        "high",
        2,
        [
            ("member", False, "Sinds vanochtend vraagt Outlook elke tien minuten mijn wachtwoord."),
            (
                "agent",
                False,
                "Dag Lotte, kun je Outlook even afsluiten en opnieuw starten? We resetten je token.",
            ),
            ("agent", True, "Token cache corrupt after the Windows update; same as at Brasserie last week."),
        ],
    ),
    (
        "member",
        "Nieuwe laptop voor stagiair",
        "new",
        "normal",
        0,
        [
            ("member", False, "Volgende maandag start een stagiair. Kunnen jullie een laptop voorzien?"),
        ],
    ),
    (
        "colleague",
        "Printer magazijn offline",
        "pending",
        "normal",
        5,
        [
            ("colleague", False, "De printer in het magazijn drukt niets meer af."),
            ("agent", False, "Kun je een foto sturen van de foutmelding op het display?"),
        ],
    ),
    (
        "client_admin",
        "Toegang voor nieuwe boekhouder",
        "resolved",
        "low",
        12,
        [
            (
                "client_admin",
                False,
                "Graag een account voor onze nieuwe boekhouder, met toegang tot Exact Online.",
            ),
            ("agent", False, "Het account is aangemaakt; de uitnodiging is verstuurd."),
            ("client_admin", False, "Werkt, bedankt!"),
        ],
    ),
    (
        "client_admin",
        "VPN onbereikbaar voor iedereen",
        "closed",
        "urgent",
        40,
        [
            ("client_admin", False, "Niemand kan nog inloggen op de VPN."),
            ("admin", True, "Certificate expired on the firewall; renewing now."),
            ("admin", False, "Het certificaat van de firewall is vernieuwd, de VPN werkt opnieuw."),
        ],
    ),
    (
        "brewer",
        "La caisse ne s'allume plus",
        "open",
        "urgent",
        1,
        [
            ("brewer", False, "La caisse enregistreuse du bar ne démarre plus depuis ce matin."),
            ("agent", False, "Nous envoyons un technicien cet après-midi."),
        ],
    ),
    (
        "taster",
        "Wi-Fi de la salle de dégustation",
        "pending",
        "low",
        8,
        [
            ("taster", False, "Le Wi-Fi des clients coupe toutes les dix minutes."),
            ("agent", False, "Pouvez-vous redémarrer le point d'accès et nous dire si cela continue ?"),
            ("agent", True, "Access point firmware is two versions behind."),
        ],
    ),
    (
        "brewer",
        "Commande de deux écrans",
        "resolved",
        "normal",
        20,
        [
            ("brewer", False, "Nous voudrions commander deux écrans 27 pouces."),
            ("agent", False, "Les écrans sont livrés et installés."),
        ],
    ),
    (
        "taster",
        "Mot de passe oublié",
        "closed",
        "normal",
        90,
        [
            ("taster", False, "J'ai oublié mon mot de passe."),
            ("agent", False, "Un lien de réinitialisation vous a été envoyé."),
        ],
    ),
    (
        "lambert",
        "Sauvegarde du serveur en échec",
        "open",
        "high",
        3,
        [
            ("lambert", False, "Le rapport de sauvegarde indique un échec depuis trois nuits."),
            ("agent", True, "NAS disk 2 reports SMART errors; order a replacement."),
        ],
    ),
    (
        "lambert",
        "Licence Adobe Acrobat",
        "new",
        "low",
        0,
        [
            ("lambert", False, "Il nous faut une licence Acrobat supplémentaire."),
        ],
    ),
    (
        "member",
        "Teams-geluid valt weg",
        "resolved",
        "normal",
        30,
        [
            ("member", False, "In Teams-vergaderingen valt het geluid soms weg."),
            ("agent", False, "We hebben de audiodriver bijgewerkt. Laat je weten of het nog gebeurt?"),
            ("member", False, "Niet meer gebeurd, bedankt."),
        ],
    ),
)


def logins_file() -> Path:
    return state_dir() / "demo-logins.json"


def _draw_logins() -> list[DemoLogin]:
    logins = []
    for _key, role, _org, _first, _last, _lang, email, can_sign_in in PEOPLE:
        if not can_sign_in:
            continue
        password = secrets.token_urlsafe(18)
        secret = pyotp.random_base32() if role in ("agent", "admin") else None
        uri = pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=TOTP_ISSUER) if secret else None
        logins.append(DemoLogin(role, email, password, secret, uri))
    return logins


def _write_logins(path: Path, logins: list[DemoLogin]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "comment": "myNexK demo logins for this machine only (make dev). Never commit this file.",
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "logins": [asdict(login) for login in logins],
    }
    fd = os.open(path.with_suffix(".tmp"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(payload, handle, indent=2)
    os.chmod(path.with_suffix(".tmp"), 0o600)
    path.with_suffix(".tmp").replace(path)


def _read_logins(path: Path) -> list[DemoLogin] | None:
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        logins = [DemoLogin(**item) for item in data["logins"]]
    except (ValueError, KeyError, TypeError):
        return None  # unreadable: draw new logins and update the hashes
    expected = {(role, email) for _k, role, _o, _f, _l, _g, email, can in PEOPLE if can}
    return logins if {(login.role, login.email) for login in logins} == expected else None


def _hash(password: str) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=BCRYPT_ROUNDS)).decode()


def _insert_totp_factor(conn: psycopg.Connection, key: str, secret: str) -> None:
    """Give the person `key` a verified TOTP factor, as if they had enrolled an authenticator app."""
    conn.execute(
        "insert into auth.mfa_factors (id, user_id, friendly_name, factor_type, status, secret)"
        " values (%s, %s, 'Authenticator app', 'totp', 'verified', %s)",
        (_id(f"factor:{key}"), _id(f"user:{key}"), secret),
    )


def _insert_world(conn: psycopg.Connection, logins: dict[str, DemoLogin]) -> None:
    for table, rows in reference_rows(DEFAULT_EPOCH).items():
        columns = COLUMNS[table]
        with conn.cursor() as cur:
            cur.executemany(
                f"insert into {table} ({', '.join(columns)}) values ({', '.join(['%s'] * len(columns))})"  # noqa: S608 - names from COLUMNS
                " on conflict do nothing",
                rows,
            )
    plans: dict[str, uuid.UUID] = dict(conn.execute("select code, id from public.sla_plans").fetchall())
    for key, name, prefix, shared, plan in ORGANIZATIONS:
        conn.execute(
            "insert into public.organizations (id, name, enterprise_number, contract_start, sla_plan_id,"
            " shared_tickets) values (%s, %s, %s, current_date - 400, %s, %s)",
            (_id(f"org:{key}"), name, enterprise_number(prefix), plans[plan], shared),
        )
    for key, role, org, first, last, language, email, _can in PEOPLE:
        login = logins.get(email)
        conn.execute(
            "insert into auth.users (id, aud, role, email, encrypted_password, email_confirmed_at,"
            " raw_app_meta_data, raw_user_meta_data) values (%s, 'authenticated', 'authenticated', %s, %s, now(),"
            " %s, %s)",
            (
                _id(f"user:{key}"),
                email,
                _hash(login.password) if login else None,
                json.dumps({"provider": "email", "providers": ["email"], "nexk_demo": True}),
                json.dumps({"full_name": f"{first} {last}"}),
            ),
        )
        conn.execute(
            "insert into public.profiles (id, organization_id, role, first_name, surname, email, language, position)"
            " values (%s, %s, %s, %s, %s, %s, %s, %s)",
            (
                _id(f"user:{key}"),
                _id(f"org:{org}") if org else None,
                role,
                first,
                last,
                email,
                language,
                {"agent": "Support engineer", "admin": "Service desk manager"}.get(role),
            ),
        )
        if login and login.totp_secret:
            _insert_totp_factor(conn, key, login.totp_secret)
    for key, *_ in ORGANIZATIONS:
        conn.execute(
            "insert into public.agent_assignments (id, agent_id, organization_id) values (%s, %s, %s)",
            (_id(f"assignment:{key}"), _id("user:agent"), _id(f"org:{key}")),
        )
    people = {key: org for key, _r, org, *_ in PEOPLE}
    for number, (requester, subject, status, priority, days_ago, messages) in enumerate(TICKETS):
        ticket = _id(f"ticket:{number}")
        staff = [author for author, *_ in messages if author in ("agent", "admin")]
        conn.execute(
            "insert into public.tickets (id, organization_id, requester_id, assignee_id, subject, description,"
            " status, priority, created_at) values (%s, %s, %s, %s, %s, %s, %s, %s,"
            " now() - make_interval(days => %s, hours => 2))",
            (
                ticket,
                _id(f"org:{people[requester]}"),
                _id(f"user:{requester}"),
                _id(f"user:{staff[0]}") if staff else None,
                subject,
                messages[0][2],
                status,
                priority,
                days_ago,
            ),
        )
        for position, (author, internal, body) in enumerate(messages):
            # Triggers on: the first public staff reply stamps first_response_at, the audit log records it.
            conn.execute(
                "insert into public.ticket_messages (id, ticket_id, author_id, body, internal, created_at)"
                " values (%s, %s, %s, %s, %s, now() - make_interval(days => %s, hours => 2)"
                " + make_interval(mins => %s))",
                (
                    _id(f"message:{number}:{position}"),
                    ticket,
                    _id(f"user:{author}"),
                    body,
                    internal,
                    days_ago,
                    20 * position + 1,
                ),
            )


def _sync_credentials(conn: psycopg.Connection, logins: list[DemoLogin]) -> bool:
    """Make the stored hashes and TOTP secrets match `logins`; True when something had to change."""
    changed = False
    for login in logins:
        key = next(k for k, _r, _o, _f, _l, _g, email, _c in PEOPLE if email == login.email)
        row = conn.execute(
            "select encrypted_password from auth.users where id = %s", (_id(f"user:{key}"),)
        ).fetchone()
        stored = row[0] if row else None
        if not stored or not bcrypt.checkpw(login.password.encode(), stored.encode()):
            conn.execute(
                "update auth.users set encrypted_password = %s, email_confirmed_at = coalesce(email_confirmed_at,"
                " now()) where id = %s",
                (_hash(login.password), _id(f"user:{key}")),
            )
            changed = True
        if login.totp_secret:
            factor = conn.execute(
                "select secret, status from auth.mfa_factors where id = %s", (_id(f"factor:{key}"),)
            ).fetchone()
            if factor != (login.totp_secret, "verified"):
                conn.execute(
                    "delete from auth.mfa_factors where user_id = %s and factor_type = 'totp'",
                    (_id(f"user:{key}"),),
                )
                _insert_totp_factor(conn, key, login.totp_secret)
                changed = True
    return changed


def ensure_demo_world(url: str, path: Path | None = None) -> DemoWorld:
    """Create the demo world on first use; afterwards return its logins and change nothing."""
    path = path or logins_file()
    logins = _read_logins(path)
    fresh_logins = logins is None
    if logins is None:
        logins = _draw_logins()
    with psycopg.connect(url) as conn:
        conn.execute("select pg_advisory_xact_lock(hashtext('nexk.demo'))")
        exists = one(
            conn.execute(
                "select exists (select from public.organizations where id = %s)", (_id("org:dewolf"),)
            ).fetchone()
        )[0]
        if not exists:
            _insert_world(conn, {login.email: login for login in logins})
            created = True
        else:
            created = _sync_credentials(conn, logins)
        if fresh_logins:
            _write_logins(path, logins)
        conn.commit()
    return DemoWorld(
        logins=logins,
        organizations=[name for _k, name, *_ in ORGANIZATIONS],
        logins_file=path,
        created=created,
    )
