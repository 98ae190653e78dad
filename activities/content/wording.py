"""What a message of the outbox says, worded when it is read: its subject, its text and its HTML, in the
reader's language where a translation exists, with a link to the page where the reader acts.

A message names its kind and the data its kind's template needs (`Notification.data`); each kind has a
template (`templates/<kind>.jinja`) whose blocks — subject, paragraphs, action — the text and the HTML
layouts lay out alike. A message queued before templates (no data) says its stored English text, and
still links to its case or label. `render` is the one way to word a message: the mail and the in-app
inbox both call it.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Any
from uuid import UUID

import structlog
from babel.dates import format_date, format_datetime
from babel.numbers import format_currency
from babel.support import NullTranslations, Translations
from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template, UndefinedError
from markupsafe import Markup
from pydantic import BaseModel, ConfigDict

from clusterlabel.domain.label_lifecycle import last_valid_day
from clusterlabel.domain.notification import Notification

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
LOCALES = HERE / "locale"
DOMAIN = "messages"
DEFAULT_LANGUAGE = "en"
log = structlog.stdlib.get_logger(__name__)


def N_(message: str) -> str:
    """Marks a string for the catalogue (pybabel extract) where it is defined; translated where it is used."""
    return message


# What the domain names in English, as a reader reads it (translated when worded).
LEVEL_NAMES = {"bronze": N_("Bronze"), "silver": N_("Silver"), "gold": N_("Gold")}
# A level's full name, and a label's status, as a certificate prints them.
LEVEL_TITLES = {
    "bronze": N_("Striving for Cluster Excellence"),
    "silver": N_("Cluster Management Excellence — Silver"),
    "gold": N_("Cluster Management Excellence — Gold"),
}
STATUS_NAMES = {
    "active": N_("valid"),
    "suspended": N_("suspended"),
    "expired": N_("expired"),
    "lapsed": N_("lapsed"),
    "superseded": N_("superseded"),
    "withdrawn": N_("withdrawn"),
}
STEP_NAMES = {
    "screening": N_("screening"),
    "response": N_("expert's answer"),
    "agreement": N_("agreement to the experts"),
    "audit": N_("audit"),
    "decision": N_("decision"),
    "appeal": N_("appeal"),
    "appeal_decision": N_("decision on the appeal"),
}
# What an invoice charges for (domain/fees.py names it so), as the reader's language says it.
ITEM_NAMES = {
    "Bronze label audit on site": N_("Bronze label audit on site"),
    "Bronze label audit by video": N_("Bronze label audit by video"),
    "Silver label audit": N_("Silver label audit"),
    "Gold label audit": N_("Gold label audit"),
    "Gold label renewal audit": N_("Gold label renewal audit"),
}
WRAP_AT = 76  # the plain text's lines, as mail readers expect them; a link is never broken
STORED = "stored"  # the template of a message queued before templates: its stored text
KINDS = frozenset(path.stem for path in TEMPLATES.glob("*.jinja")) - {STORED}  # the kinds with a template


@cache
def languages() -> list[str]:
    """The languages a message can be read in: English, and each one the catalogue has a translation for."""
    found = sorted(path.parent.parent.name for path in LOCALES.glob(f"*/LC_MESSAGES/{DOMAIN}.mo"))
    return [DEFAULT_LANGUAGE, *(language for language in found if language != DEFAULT_LANGUAGE)]


def worded_in(language: str) -> str:
    """The language a reader of `language` reads a message in: theirs where the catalogue has it, else English."""
    return language if language in languages() else DEFAULT_LANGUAGE


class MessageContent(BaseModel):
    """What a message says, as it was queued: its kind, the data its template words, and the English text
    stored with it (all a message queued before templates has)."""

    model_config = ConfigDict(frozen=True)

    kind: str
    subject: str
    body: str
    data: dict[str, str] = {}
    case_id: UUID | None = None
    label_id: UUID | None = None

    @classmethod
    def of(cls, message: Notification) -> MessageContent:
        return cls.model_validate(message, from_attributes=True)

    @property
    def templated(self) -> bool:
        return bool(self.data) and self.kind in KINDS


class Worded(BaseModel):
    """A message as one reader reads it."""

    language: str
    subject: str
    text: str
    html: str
    link: str | None  # the page where the reader acts, or None when the message names none


def render(content: MessageContent, language: str, public_url: str) -> Worded:
    """The message in `language` (English when the catalogue has no translation into it), its links built
    on `public_url` (CLUSTERLABEL_PUBLIC_URL: never a request's Host). One its kind's template no longer
    fits (queued before a field the template reads was added, unguarded) reads as it was stored, in English,
    rather than failing its delivery and the reader's inbox."""
    try:
        return render_template(content, language, public_url)
    except UndefinedError as error:
        if not content.templated:
            raise
        # Seen in the log: a template that no longer fits the messages of its kind words them all in English.
        log.warning("message worded as stored: its template reads data it lacks", kind=content.kind, error=str(error))
        return render_template(content, language, public_url, as_stored=True)


def render_template(content: MessageContent, language: str, public_url: str, *, as_stored: bool = False) -> Worded:
    """The message worded by its kind's template (`as_stored`: by the text stored with it); a template that reads
    data the message lacks raises UndefinedError (StrictUndefined), as a test must see it."""
    language = worded_in(language)
    link = page_of(content, public_url)
    name = f"{content.kind if content.templated and not as_stored else STORED}.jinja"
    stored = {"stored_subject": content.subject, "stored_body": content.body}
    values = {**content.data, **stored, "link": link, "language": language}
    text_template = _environment(language, html=False).get_template(name)
    return Worded(
        language=language,
        subject=_block(text_template, "subject", {**values, "layout": "layout.txt"}).strip(),
        text=text_template.render(**values, layout="layout.txt").strip() + "\n",
        html=_environment(language, html=True).get_template(name).render(**values, layout="layout.html"),
        link=link,
    )


def page_of(content: MessageContent, public_url: str) -> str | None:
    """Where the reader acts: the offer on their assignments, a complaint on its page, a label's
    renewal on its page, else the case or the label the message is about."""
    base = public_url.rstrip("/")
    code = content.data.get("label_code")
    if content.kind == "offer":
        return f"{base}/ui/assignments"
    if content.kind == "eligibility_review":
        return f"{base}/ui/clusters/{content.data['cluster_id']}"
    if "complaint_id" in content.data:
        return f"{base}/ui/complaints/{content.data['complaint_id']}"
    if code and content.kind == "expiry_reminder":
        return f"{base}/ui/labels/{code}#renew"
    if code:
        return f"{base}/ui/labels/{code}"
    if content.label_id is not None:
        return f"{base}/ui/labels/{content.label_id}"
    if content.case_id is not None:
        return f"{base}/ui/cases/{content.case_id}"
    return None


def document_environment(language: str) -> Environment:
    """Where a document's template (the certificate, the benchmarking report) is rendered: HTML, every value
    escaped, its strings from the catalogue in `language` (English where the catalogue lacks it)."""
    return _environment(worded_in(language), html=True)


def _block(template: Template, name: str, values: dict[str, Any]) -> str:
    return "".join(template.blocks[name](template.new_context(values)))


@cache
def translations(language: str) -> NullTranslations:
    """The catalogue's translations into `language` (none, so English, for a language it lacks)."""
    return Translations.load(str(LOCALES), [language], DOMAIN)


@cache
def _environment(language: str, html: bool) -> Environment:
    """One environment per language and form: the HTML one escapes every value, the text one none."""
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=html,
        extensions=["jinja2.ext.i18n"],
        undefined=StrictUndefined,  # a template naming data its notice lacks fails loudly, in the test
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.policies["ext.i18n.trimmed"] = True  # a sentence's line breaks in a template are not its msgid's
    catalogue = translations(language)
    environment.install_gettext_translations(catalogue, newstyle=True)  # type: ignore[attr-defined]
    environment.filters.update(
        when=_when(language),
        level=_named(LEVEL_NAMES, catalogue.gettext),
        step=_named(STEP_NAMES, catalogue.gettext),
        item=_named(ITEM_NAMES, catalogue.gettext),
        money=lambda cents, currency: format_currency(int(cents) / 100, currency, locale=language),
        day=_day(language),
        last_day=lambda value: written_day(last_valid_day(datetime.fromisoformat(value)), language),
        paragraphs=_paragraphs,
        wrap=lambda text: textwrap.fill(text, WRAP_AT, break_long_words=False, break_on_hyphens=False),
    )
    return environment


def _when(language: str) -> Callable[[str], str]:
    def when(value: str) -> str:
        return format_datetime(datetime.fromisoformat(value), "long", tzinfo=UTC, locale=language)

    return when


def _day(language: str) -> Callable[[str], str]:
    def day(value: str) -> str:
        # A day alone (a payment's, as the bank statement says) is no instant: no time zone moves it.
        moment = date.fromisoformat(value) if len(value) == len("2026-01-31") else datetime.fromisoformat(value)
        return written_day(moment, language)

    return day


def written_day(moment: datetime | date, language: str) -> str:
    """A date as the language writes it in full ("1 March 2027", "1. März 2027"); an instant's in UTC."""
    day = moment.astimezone(UTC).date() if isinstance(moment, datetime) else moment
    return format_date(day, "long", locale=language)


def _named(names: dict[str, str], gettext: Callable[[str], str]) -> Callable[[str], str]:
    return lambda value: gettext(names.get(value, value))


def _paragraphs(text: str) -> list[str]:
    """A block's paragraphs, one a line (a sentence in `trans` is trimmed to one); escaped text stays
    escaped, piece by piece."""
    pieces = [piece.strip() for piece in str(text).splitlines() if piece.strip()]
    return [Markup(piece) for piece in pieces] if isinstance(text, Markup) else pieces
