"""Ticket texts in French, Dutch and English: templates that Faker fills into per-seed pools.

Faker per row is far too slow for millions of messages, so `TextPools` renders a few thousand texts once per
seed; the world then combines pool entries by index. Texts never contain tabs, carriage returns or
backslashes (only "\n"), which keeps COPY escaping trivial.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from faker import Faker

from db.seed.belgium import FAKER_LOCALES, phone_number

APPS = (
    "Outlook",
    "Teams",
    "SharePoint",
    "OneDrive",
    "Exact Online",
    "Odoo",
    "FortiClient VPN",
    "Citrix Workspace",
    "Sage BOB 50",
    "Windows 11",
    "the ERP",
    "Adobe Acrobat",
)
CITIES = (
    "Brussel",
    "Bruxelles",
    "Antwerpen",
    "Gent",
    "Liège",
    "Namur",
    "Leuven",
    "Brugge",
    "Mons",
    "Hasselt",
)

ISSUES: dict[str, tuple[tuple[str, str], ...]] = {
    "fr": (
        (
            "{app} ne démarre plus",
            "Depuis ce matin, {app} refuse de démarrer sur le poste de {person}. Le message d'erreur indique « code {n} ». Nous avons déjà redémarré le PC.",
        ),
        (
            "Imprimante hors ligne au bureau de {city}",
            "L'imprimante du deuxième étage à {city} est hors ligne depuis {time}. Plus personne ne peut imprimer les factures.",
        ),
        (
            "Accès VPN impossible",
            "{person} ne parvient plus à se connecter au VPN depuis son domicile. Le client affiche « authentification échouée » après la saisie du code.",
        ),
        (
            "Nouveau collaborateur : création de compte",
            "Un nouveau collaborateur, {person}, commence lundi. Pouvez-vous créer son compte, sa boîte mail et ses accès à {app} ?",
        ),
        (
            "Boîte mail pleine",
            "La boîte mail de {person} est pleine ({n} Mo). Les messages entrants sont refusés. Pouvez-vous augmenter le quota ?",
        ),
        (
            "Lenteur de {app}",
            "{app} est très lent depuis la mise à jour de {time}. Chaque action prend plusieurs secondes pour toute l'équipe de {city}.",
        ),
        (
            "Wi-Fi instable en salle de réunion",
            "Le Wi-Fi décroche toutes les dix minutes dans la salle de réunion. Les appels Teams sont coupés.",
        ),
        (
            "Mot de passe oublié",
            "{person} a oublié son mot de passe et son compte est verrouillé après {n} tentatives.",
        ),
        (
            "Demande de licence {app}",
            "Nous avons besoin d'une licence supplémentaire pour {app} pour {person}, à partir du mois prochain.",
        ),
        (
            "Écran noir après mise à jour",
            "Après la mise à jour de Windows, l'écran du portable de {person} reste noir au démarrage.",
        ),
    ),
    "nl": (
        (
            "{app} start niet meer op",
            "Sinds vanochtend start {app} niet meer op bij {person}. De foutmelding vermeldt 'code {n}'. De pc is al herstart.",
        ),
        (
            "Printer offline op kantoor {city}",
            "De printer op de tweede verdieping in {city} staat sinds {time} offline. Niemand kan nog facturen afdrukken.",
        ),
        (
            "Geen VPN-toegang",
            "{person} kan thuis niet meer inloggen op de VPN. De client toont 'authenticatie mislukt' na het ingeven van de code.",
        ),
        (
            "Nieuwe medewerker: account aanmaken",
            "Maandag start {person} bij ons. Kunnen jullie een account, mailbox en toegang tot {app} voorzien?",
        ),
        (
            "Mailbox vol",
            "De mailbox van {person} is vol ({n} MB). Inkomende mails worden geweigerd. Kan het quotum verhoogd worden?",
        ),
        (
            "{app} is traag",
            "Sinds de update van {time} is {app} erg traag. Elke actie duurt enkele seconden voor het hele team in {city}.",
        ),
        (
            "Wifi valt weg in vergaderzaal",
            "De wifi valt om de tien minuten weg in de vergaderzaal. Teams-gesprekken worden onderbroken.",
        ),
        (
            "Wachtwoord vergeten",
            "{person} is het wachtwoord vergeten en het account is geblokkeerd na {n} pogingen.",
        ),
        (
            "Licentie {app} aanvragen",
            "We hebben vanaf volgende maand een extra licentie voor {app} nodig voor {person}.",
        ),
        (
            "Zwart scherm na update",
            "Na de Windows-update blijft het scherm van de laptop van {person} zwart bij het opstarten.",
        ),
    ),
    "en": (
        (
            "{app} no longer starts",
            "Since this morning {app} will not start on {person}'s computer. The error says 'code {n}'. We already rebooted.",
        ),
        (
            "Printer offline at the {city} office",
            "The second-floor printer in {city} has been offline since {time}. Nobody can print invoices.",
        ),
        (
            "Cannot connect to the VPN",
            "{person} can no longer connect to the VPN from home. The client shows 'authentication failed' after the code is entered.",
        ),
        (
            "New starter: account needed",
            "{person} joins us on Monday. Could you create an account, a mailbox and access to {app}?",
        ),
        (
            "Mailbox full",
            "{person}'s mailbox is full ({n} MB) and incoming mail bounces. Can the quota be raised?",
        ),
        (
            "{app} is slow",
            "Since the update of {time}, {app} is very slow. Every action takes seconds for the whole {city} team.",
        ),
        (
            "Wi-Fi drops in the meeting room",
            "The Wi-Fi drops every ten minutes in the meeting room and Teams calls are cut off.",
        ),
        (
            "Forgotten password",
            "{person} forgot their password and the account is locked after {n} attempts.",
        ),
        ("Licence request for {app}", "We need one more {app} licence for {person} from next month."),
        (
            "Black screen after update",
            "After the Windows update, {person}'s laptop shows a black screen at start-up.",
        ),
    ),
}

CLIENT_REPLIES: dict[str, tuple[str, ...]] = {
    "fr": (
        "Merci pour votre retour. Le problème persiste chez {person}.",
        "C'est résolu de notre côté, merci !",
        "Pouvez-vous nous rappeler au {phone} ? Nous sommes disponibles jusqu'à {time}.",
        "Nous avons testé votre proposition, mais {app} affiche toujours l'erreur {n}.",
        "Je joins une capture d'écran. Cela arrive surtout le matin.",
    ),
    "nl": (
        "Bedankt voor de feedback. Het probleem blijft bestaan bij {person}.",
        "Bij ons is het opgelost, bedankt!",
        "Kunnen jullie ons terugbellen op {phone}? We zijn bereikbaar tot {time}.",
        "We hebben jullie voorstel getest, maar {app} toont nog steeds fout {n}.",
        "Ik voeg een schermafbeelding toe. Het gebeurt vooral 's ochtends.",
    ),
    "en": (
        "Thanks for getting back to us. The problem persists for {person}.",
        "It is solved on our side, thank you!",
        "Could you call us back on {phone}? We are available until {time}.",
        "We tried your suggestion but {app} still shows error {n}.",
        "I attach a screenshot. It happens mostly in the morning.",
    ),
}

STAFF_REPLIES: dict[str, tuple[str, ...]] = {
    "fr": (
        "Nous avons bien reçu votre demande et nous l'analysons.",
        "Pouvez-vous redémarrer {app} et nous dire si l'erreur {n} réapparaît ?",
        "Nous avons appliqué un correctif à distance. Pouvez-vous vérifier de votre côté ?",
        "Un technicien passera à {city} demain matin.",
        "Le compte de {person} est débloqué ; un nouveau mot de passe a été envoyé.",
    ),
    "nl": (
        "We hebben je aanvraag goed ontvangen en bekijken ze.",
        "Kun je {app} herstarten en laten weten of fout {n} terugkomt?",
        "We hebben op afstand een oplossing toegepast. Kun je het even nakijken?",
        "Morgenvroeg komt een technieker langs in {city}.",
        "Het account van {person} is gedeblokkeerd; een nieuw wachtwoord is verstuurd.",
    ),
    "en": (
        "We have received your request and are looking into it.",
        "Could you restart {app} and tell us whether error {n} comes back?",
        "We applied a fix remotely. Could you check on your side?",
        "A technician will visit the {city} office tomorrow morning.",
        "{person}'s account is unlocked; a new password has been sent.",
    ),
}

# NexK's own notes: never shown to clients.
INTERNAL_NOTES: tuple[str, ...] = (
    "Internal: same symptom as ticket #{n} last month; likely the {app} update.",
    "Internal: escalated to second line, {person} follows up.",
    "Internal: customer called twice today, keep them informed.",
    "Internal: licence order placed with the distributor, ref {n}.",
    "Internal: check the firewall logs in {city} before replying.",
)

CONTACT = {
    "fr": "Personne de contact : {person}, {phone}.",
    "nl": "Contactpersoon: {person}, {phone}.",
    "en": "Contact person: {person}, {phone}.",
}

GREETINGS = {
    "fr": ("Bonjour,", "Bonjour {name},", "Madame, Monsieur,"),
    "nl": ("Hallo,", "Beste {name},", "Goedemorgen,"),
    "en": ("Hello,", "Dear {name},", "Hi {name},"),
}
SIGNOFFS = {
    "fr": ("Cordialement,", "Bien à vous,", "Merci d'avance,"),
    "nl": ("Met vriendelijke groeten,", "Groeten,", "Alvast bedankt,"),
    "en": ("Kind regards,", "Best regards,", "Thanks in advance,"),
}


def _clean(text: str) -> str:
    return text.replace("\\", "/").replace("\t", " ").replace("\r", "")


@dataclass(frozen=True)
class LanguagePools:
    subjects: tuple[str, ...]
    descriptions: tuple[str, ...]
    client_replies: tuple[str, ...]
    staff_replies: tuple[str, ...]
    internal_notes: tuple[str, ...]
    greetings: tuple[str, ...]
    signoffs: tuple[str, ...]


class TextPools:
    """Per-language pools of finished texts, rendered once per seed with a seeded Faker."""

    def __init__(self, seed: int, size: int = 400) -> None:
        self.by_language: dict[str, LanguagePools] = {}
        for index, (language, locale) in enumerate(sorted(FAKER_LOCALES.items())):
            fake = Faker(locale)
            fake.seed_instance(seed * 31 + index)
            # Seeded synthetic data, not secrets: a reproducible PRNG is the point.
            rng = random.Random(f"texts:{seed}:{language}")  # noqa: S311

            def values(fake: Faker = fake, rng: random.Random = rng) -> dict[str, object]:
                return {
                    "app": rng.choice(APPS),
                    "city": rng.choice(CITIES),
                    "person": f"{fake.first_name()} {fake.last_name()}",
                    "n": rng.randrange(100, 100_000),
                    "phone": phone_number(rng),
                    "time": f"{rng.randrange(8, 18)}:{rng.choice(('00', '15', '30', '45'))}",
                }

            def fill(template: str) -> str:
                return _clean(template.format(**values()))

            issues = []
            for _ in range(size):
                subject, description = ISSUES[language][rng.randrange(len(ISSUES[language]))]
                drawn = values()
                contact = CONTACT[language].format(**drawn)
                issues.append(
                    (
                        _clean(subject.format(**drawn))[:200],
                        _clean(f"{description.format(**drawn)}\n\n{contact}"),
                    )
                )
            self.by_language[language] = LanguagePools(
                subjects=tuple(subject for subject, _ in issues),
                descriptions=tuple(description for _, description in issues),
                client_replies=tuple(fill(rng.choice(CLIENT_REPLIES[language])) for _ in range(size)),
                staff_replies=tuple(fill(rng.choice(STAFF_REPLIES[language])) for _ in range(size)),
                internal_notes=tuple(fill(rng.choice(INTERNAL_NOTES)) for _ in range(size // 2)),
                greetings=GREETINGS[language],
                signoffs=SIGNOFFS[language],
            )
