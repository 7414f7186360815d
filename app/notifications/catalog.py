"""The portal's e-mail notifications as Brevo templates, read from `app/notifications/emails/` (versioned in
git). The portal owns them (it decides what each notification says and which parameters it sends); the
infrastructure provisions them in Brevo from this catalogue (infra/brevo_mail.py).

Each notification exists in every language; all languages of one notification must use the same Brevo
parameters (`{{ params.NAME }}`), so the portal can send any language with one set of values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from nexk.errors import NexkError

TEMPLATES_DIR = Path(__file__).resolve().parent / "emails"
PARAM = re.compile(r"\{\{\s*params\.([a-z_]+)\s*\}\}")


class TemplateError(NexkError):
    """A notification template is missing, or its languages disagree."""


class _Notification(BaseModel):
    model_config = ConfigDict(extra="forbid")
    audience: Literal["client", "agent"]
    subject: dict[str, str]


class _Catalog(BaseModel):
    model_config = ConfigDict(extra="forbid")
    languages: list[str]
    notifications: dict[str, _Notification]


@dataclass(frozen=True)
class EmailTemplate:
    notification: str
    language: str
    audience: str
    subject: str
    html: str

    @property
    def template_name(self) -> str:
        """Unique in the Brevo account: the portal looks templates up by this name."""
        return f"mynexk.{self.notification}.{self.language}"

    @property
    def params(self) -> frozenset[str]:
        return frozenset(PARAM.findall(self.subject + self.html))


def load_templates(directory: Path = TEMPLATES_DIR) -> list[EmailTemplate]:
    try:
        catalog = _Catalog.model_validate(
            yaml.safe_load((directory / "notifications.yaml").read_text("utf-8"))
        )
    except (OSError, ValidationError) as exc:
        raise TemplateError(f"{directory / 'notifications.yaml'}: {exc}") from exc
    layout = (directory / "layout.html").read_text("utf-8")
    footers: dict[str, str] = yaml.safe_load((directory / "footer.yaml").read_text("utf-8"))
    templates: list[EmailTemplate] = []
    for name, notification in catalog.notifications.items():
        for language in catalog.languages:
            body_path = directory / language / f"{name}.html"
            if language not in notification.subject:
                raise TemplateError(f"{directory / 'notifications.yaml'}: {name} has no {language} subject")
            if not body_path.exists():
                raise TemplateError(
                    f"{body_path}: missing ({name} must exist in {', '.join(catalog.languages)})"
                )
            html = (
                layout.replace("{{ language }}", language)
                .replace("{{ body }}", body_path.read_text("utf-8").strip())
                .replace("{{ footer }}", footers[language])
            )
            templates.append(
                EmailTemplate(name, language, notification.audience, notification.subject[language], html)
            )
        params = {t.language: t.params for t in templates if t.notification == name}
        if len(set(params.values())) > 1:
            detail = ", ".join(f"{lang}: {sorted(p)}" for lang, p in params.items())
            raise TemplateError(f"{name}: languages use different parameters ({detail})")
    return templates
