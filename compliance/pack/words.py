"""The evidence pack's own wording in English, French and Dutch (Belgian usage).

The register's values (purposes, data subjects, countries, regions, transfer mechanisms) take their wording
from compliance/templates/labels.yaml like every other document; these are the pack's headings and captions.
"""

from __future__ import annotations

LANGUAGES = ("en", "fr", "nl")

WORDS: dict[str, dict[str, str]] = {
    "title": {
        "en": "myNexK: evidence pack for auditors",
        "fr": "myNexK : dossier de preuves pour l'audit",
        "nl": "myNexK: bewijsdossier voor auditors",
    },
    "intro": {
        "en": "Everything below is generated from the repository: the GDPR register (compliance/), the "
        "infrastructure stacks as the program declares them, the results of the last test run and the git "
        "history. Generated from commit {commit}.",
        "fr": "Tout ce qui suit est généré à partir du dépôt : le registre RGPD (compliance/), les stacks "
        "d'infrastructure telles que le programme les déclare, les résultats de la dernière exécution des "
        "tests et l'historique git. Généré à partir du commit {commit}.",
        "nl": "Alles hieronder wordt gegenereerd uit de repository: het AVG-register (compliance/), de "
        "infrastructuurstacks zoals het programma ze declareert, de resultaten van de laatste testrun en de "
        "git-geschiedenis. Gegenereerd op basis van commit {commit}.",
    },
    "contents": {"en": "Contents", "fr": "Sommaire", "nl": "Inhoud"},
    "flows": {"en": "1. Data flows", "fr": "1. Flux de données", "nl": "1. Gegevensstromen"},
    "flows_intro": {
        "en": "Who sends personal data, through which subprocessor, to which region, under which transfer "
        "mechanism, and which categories of data. Regions: as registered, and as the production stack deploys them.",
        "fr": "Qui transmet des données personnelles, par quel sous-traitant, vers quelle région, sous quel "
        "mécanisme de transfert, et quelles catégories de données. Régions : telles qu'enregistrées et telles "
        "que la stack de production les déploie.",
        "nl": "Wie persoonsgegevens doorgeeft, via welke subverwerker, naar welke regio, onder welk "
        "doorgiftemechanisme, en welke categorieën gegevens. Regio's: zoals geregistreerd en zoals de "
        "productiestack ze uitrolt.",
    },
    "portal": {"en": "myNexK portal", "fr": "portail myNexK", "nl": "myNexK-portaal"},
    "who": {"en": "Who", "fr": "Qui", "nl": "Wie"},
    "subprocessor": {"en": "Subprocessor", "fr": "Sous-traitant", "nl": "Subverwerker"},
    "country": {"en": "Country", "fr": "Pays", "nl": "Land"},
    "region": {"en": "Region (register)", "fr": "Région (registre)", "nl": "Regio (register)"},
    "deployed": {"en": "Region (prod stack)", "fr": "Région (stack prod)", "nl": "Regio (prod-stack)"},
    "no_region_setting": {
        "en": "no region setting (contractual)",
        "fr": "aucun réglage de région (contractuel)",
        "nl": "geen regio-instelling (contractueel)",
    },
    "transfer": {"en": "Transfer mechanism", "fr": "Mécanisme de transfert", "nl": "Doorgiftemechanisme"},
    "within_eea": {
        "en": "none (within the EEA)",
        "fr": "aucun (au sein de l'EEE)",
        "nl": "geen (binnen de EER)",
    },
    "categories": {"en": "Data categories", "fr": "Catégories de données", "nl": "Gegevenscategorieën"},
    "settings": {
        "en": "2. Reviewable settings of each stack",
        "fr": "2. Réglages vérifiables de chaque stack",
        "nl": "2. Controleerbare instellingen per stack",
    },
    "settings_intro": {
        "en": "Each setting as declared, with the file and line where it is set.",
        "fr": "Chaque réglage tel que déclaré, avec le fichier et la ligne où il est défini.",
        "nl": "Elke instelling zoals gedeclareerd, met het bestand en de regel waar ze wordt ingesteld.",
    },
    "stack": {"en": "Stack", "fr": "Stack", "nl": "Stack"},
    "setting": {"en": "Setting", "fr": "Réglage", "nl": "Instelling"},
    "value": {"en": "Value", "fr": "Valeur", "nl": "Waarde"},
    "where": {
        "en": "Set in (file:line)",
        "fr": "Défini dans (fichier:ligne)",
        "nl": "Ingesteld in (bestand:regel)",
    },
    "ropa": {
        "en": "3. Record of processing activities (GDPR Art. 30)",
        "fr": "3. Registre des activités de traitement (art. 30 RGPD)",
        "nl": "3. Register van de verwerkingsactiviteiten (art. 30 AVG)",
    },
    "purpose": {"en": "Purpose", "fr": "Finalité", "nl": "Doeleinde"},
    "legal_basis": {"en": "Legal basis", "fr": "Base juridique", "nl": "Rechtsgrond"},
    "data_subjects": {"en": "Data subjects", "fr": "Personnes concernées", "nl": "Betrokkenen"},
    "recipients": {"en": "Recipients", "fr": "Destinataires", "nl": "Ontvangers"},
    "transfers": {
        "en": "Third-country transfers",
        "fr": "Transferts vers des pays tiers",
        "nl": "Doorgiften naar derde landen",
    },
    "retention": {
        "en": "4. Retention schedule",
        "fr": "4. Durées de conservation",
        "nl": "4. Bewaartermijnen",
    },
    "data": {"en": "Data", "fr": "Données", "nl": "Gegevens"},
    "period": {"en": "Period", "fr": "Durée", "nl": "Termijn"},
    "starts": {"en": "Starts", "fr": "Point de départ", "nl": "Begint"},
    "reason": {"en": "Reason", "fr": "Motif", "nl": "Reden"},
    "at_end": {"en": "At the end", "fr": "À l'échéance", "nl": "Na afloop"},
    "security": {
        "en": "5. Security measures (GDPR Art. 32)",
        "fr": "5. Mesures de sécurité (art. 32 RGPD)",
        "nl": "5. Beveiligingsmaatregelen (art. 32 AVG)",
    },
    "measure": {"en": "Measure", "fr": "Mesure", "nl": "Maatregel"},
    "implemented_by": {"en": "Implemented by", "fr": "Mise en œuvre par", "nl": "Geïmplementeerd door"},
    "tested_by": {"en": "Tested by", "fr": "Testée par", "nl": "Getest door"},
    "claims": {
        "en": "6. Claims traceability matrix",
        "fr": "6. Matrice de traçabilité des engagements",
        "nl": "6. Traceerbaarheidsmatrix van de toezeggingen",
    },
    "claims_intro": {
        "en": "Each claim of the published privacy policy, the code that enforces it, the tests that prove it "
        "and their result in the last test run ({report}: {date}, commit {commit}).",
        "fr": "Chaque engagement de la politique de confidentialité publiée, le code qui le met en œuvre, les "
        "tests qui le prouvent et leur résultat lors de la dernière exécution des tests ({report} : {date}, "
        "commit {commit}).",
        "nl": "Elke toezegging uit de gepubliceerde privacyverklaring, de code die ze afdwingt, de tests die ze "
        "bewijzen en hun resultaat in de laatste testrun ({report}: {date}, commit {commit}).",
    },
    "no_report": {
        "en": "No test report was found at {report}: run `make test` first; every result below reads "
        "\u201cno report\u201d.",
        "fr": "Aucun rapport de tests n'a été trouvé dans {report} : lancez d'abord `make test` ; chaque "
        "résultat ci-dessous indique \u00ab no report \u00bb.",
        "nl": "Er is geen testrapport gevonden in {report}: voer eerst `make test` uit; elk resultaat hieronder "
        "luidt \u201cno report\u201d.",
    },
    "register_language": {
        "en": "Descriptions are quoted from the register (compliance/), which is kept in English.",
        "fr": "Les descriptions sont citées du registre (compliance/), tenu en anglais.",
        "nl": "De beschrijvingen zijn overgenomen uit het register (compliance/), dat in het Engels wordt bijgehouden.",
    },
    "not_recorded": {
        "en": "not recorded (the run did not include db/tests, whose conftest stamps it)",
        "fr": "non enregistré (l'exécution n'incluait pas db/tests, dont le conftest l'inscrit)",
        "nl": "niet geregistreerd (de run omvatte db/tests niet, waarvan de conftest hem vastlegt)",
    },
    "claim": {"en": "Claim", "fr": "Engagement", "nl": "Toezegging"},
    "result": {"en": "Result", "fr": "Résultat", "nl": "Resultaat"},
    "summary_results": {
        "en": "{passed} of {total} tests passed, {failed} failed, {missing} not in the report.",
        "fr": "{passed} tests réussis sur {total}, {failed} en échec, {missing} absents du rapport.",
        "nl": "{passed} van de {total} tests geslaagd, {failed} mislukt, {missing} niet in het rapport.",
    },
    "history": {
        "en": "7. History of the register and the stack settings",
        "fr": "7. Historique du registre et des réglages des stacks",
        "nl": "7. Geschiedenis van het register en de stackinstellingen",
    },
    "history_intro": {
        "en": "Every commit that changed the register or a stack file (newest first, at most {limit}).",
        "fr": "Chaque commit qui a modifié le registre ou un fichier de stack (du plus récent au plus ancien, "
        "{limit} au maximum).",
        "nl": "Elke commit die het register of een stackbestand wijzigde (nieuwste eerst, hoogstens {limit}).",
    },
    "date": {"en": "Date", "fr": "Date", "nl": "Datum"},
    "commit": {"en": "Commit", "fr": "Commit", "nl": "Commit"},
    "change": {"en": "What changed", "fr": "Modification", "nl": "Wijziging"},
    "files": {"en": "Files", "fr": "Fichiers", "nl": "Bestanden"},
    "languages": {"en": "Other languages", "fr": "Autres langues", "nl": "Andere talen"},
}

# The reviewable settings by name (evidence.STACK_SETTINGS, CODE_SETTINGS, REPO_SETTINGS).
SETTINGS: dict[str, dict[str, str]] = {
    "supabase_region": {"en": "Database region (Supabase)", "fr": "Région de la base de données (Supabase)", "nl": "Regio van de database (Supabase)"},
    "function_regions": {"en": "Function regions (Vercel)", "fr": "Régions des fonctions (Vercel)", "nl": "Regio's van de functies (Vercel)"},
    "function_failover": {"en": "Failover to other regions (Vercel)", "fr": "Bascule vers d'autres régions (Vercel)", "nl": "Failover naar andere regio's (Vercel)"},
    "mfa": {"en": "Multi-factor authentication (TOTP)", "fr": "Authentification multifacteur (TOTP)", "nl": "Meervoudige authenticatie (TOTP)"},
    "ssl_enforcement": {"en": "TLS enforced on the database", "fr": "TLS imposé sur la base de données", "nl": "TLS verplicht op de database"},
    "pitr": {"en": "Point-in-time recovery", "fr": "Restauration à un instant donné (PITR)", "nl": "Herstel naar een tijdstip (PITR)"},
    "db_allowed_cidrs": {"en": "Network restrictions (IPv4)", "fr": "Restrictions réseau (IPv4)", "nl": "Netwerkbeperkingen (IPv4)"},
    "db_allowed_cidrs_v6": {"en": "Network restrictions (IPv6)", "fr": "Restrictions réseau (IPv6)", "nl": "Netwerkbeperkingen (IPv6)"},
    "sender_domain": {"en": "E-mail sender domain (Brevo)", "fr": "Domaine d'expédition des e-mails (Brevo)", "nl": "Afzenderdomein van de e-mails (Brevo)"},
    "preview_protection": {"en": "Preview deployments protected", "fr": "Protection des déploiements de prévisualisation", "nl": "Bescherming van previewdeployments"},
    "github_owner": {"en": "GitHub organisation", "fr": "Organisation GitHub", "nl": "GitHub-organisatie"},
    "protected_branch": {"en": "Protected branch", "fr": "Branche protégée", "nl": "Beschermde branch"},
    "required_approvals": {"en": "Approvals required to merge", "fr": "Approbations requises pour fusionner", "nl": "Vereiste goedkeuringen om te mergen"},
    "required_checks": {"en": "Required CI checks (merge gate)", "fr": "Contrôles CI requis (barrière de fusion)", "nl": "Vereiste CI-controles (mergepoort)"},
}  # fmt: skip

RESULTS: dict[str, dict[str, str]] = {
    "passed": {"en": "passed", "fr": "réussi", "nl": "geslaagd"},
    "failed": {"en": "failed", "fr": "échec", "nl": "mislukt"},
    "skipped": {"en": "skipped", "fr": "ignoré", "nl": "overgeslagen"},
    "not run": {"en": "not in the report", "fr": "absent du rapport", "nl": "niet in het rapport"},
    "no report": {"en": "no report", "fr": "pas de rapport", "nl": "geen rapport"},
}


def word(key: str, lang: str, **values: object) -> str:
    text = WORDS[key][lang]
    return text.format(**values) if values else text
