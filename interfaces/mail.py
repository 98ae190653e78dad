"""Where a worker's messages go, assembled from the settings: the addresses of each recipient, the way
out (an SMTP server, or a Maildir under the data directory), the sender and the pace.

An address is looked up when a message is sent: the accounts (a read model) say which accounts a
recipient has, the people table beside the event store holds each account's address now.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID

from limits import parse

from clusterlabel.activities.delivery import Mailroom
from clusterlabel.activities.mail import (
    Address,
    MaildirTransport,
    NoAddress,
    SmtpServer,
    SmtpTransport,
    TokenBucket,
    Transport,
)
from clusterlabel.domain.account import Role, actor_of
from clusterlabel.domain.notices import APPEALS_PANEL, CLUSTER, COMPLAINANT, DECIDERS, EXPERT, SECRETARIAT, addressee
from clusterlabel.interfaces.settings import Settings
from clusterlabel.interfaces.web.complainants import Complainants
from clusterlabel.interfaces.web.people import People
from clusterlabel.projections.queries import ReadModels


@dataclass(frozen=True)
class Directory:
    """Every address of a recipient, now: an expert's accounts, a cluster's contacts, the secretariat's
    team address (or, without one, its officers) and for `deciders` or `appeals-panel` the accounts holding
    that role too (each address once), a complainant's address (kept with the complaint)."""

    models: ReadModels
    people: People
    secretariat_email: str | None
    complainants: Complainants | None = None

    def of(self, recipient: str) -> list[Address]:
        try:
            kind, record_id = addressee(recipient)
        except ValueError as error:
            raise NoAddress(f"no address: {error}") from None
        if kind == SECRETARIAT and self.secretariat_email:
            return [Address(self.secretariat_email, SECRETARIAT)]
        if kind == COMPLAINANT and record_id is not None:
            return self._complainant(record_id)
        if kind in _ROLE_OF:
            return self._with_the_secretariat(self._emails(self.models.accounts_holding(_ROLE_OF[kind])))
        found = self._emails(self._accounts(kind, record_id))
        if not found:
            raise NoAddress(f"no address: {_nobody[kind].format(id=record_id)}")
        return found

    def _accounts(self, kind: str, record_id: UUID | None) -> list[UUID]:
        if kind == EXPERT and record_id is not None:
            return self.models.accounts_of_expert(record_id)
        if kind == CLUSTER and record_id is not None:
            return self.models.cluster_contacts(record_id)
        return self.models.accounts_holding(Role.OFFICER)

    def _with_the_secretariat(self, holders: list[Address]) -> list[Address]:
        """The secretariat's addresses and the role holders' not among them; the holders' alone when the
        secretariat has none (NoAddress when neither has one)."""
        try:
            secretariat = self.of(SECRETARIAT)
        except NoAddress:
            if holders:
                return holders
            raise
        known = {address.email.lower() for address in secretariat}
        return [*secretariat, *(holder for holder in holders if holder.email.lower() not in known)]

    def _complainant(self, complaint_id: UUID) -> list[Address]:
        # Reached as the complaint's complainant: the events never hold the address itself.
        email = self.complainants.email_of(complaint_id) if self.complainants is not None else None
        if email is None:
            raise NoAddress(f"no address: {_nobody[COMPLAINANT].format(id=complaint_id)}")
        return [Address(email, f"{COMPLAINANT}:{complaint_id}")]

    def _emails(self, account_ids: Iterable[UUID]) -> list[Address]:
        people = (self.people.get(account_id) for account_id in account_ids)
        return [
            Address(person.email, actor_of(person.account_id), person.language)
            for person in people
            if person and person.email
        ]


_ROLE_OF = {DECIDERS: Role.DECIDER, APPEALS_PANEL: Role.APPEALS}
_nobody = {
    EXPERT: "expert {id} has no active account with an e-mail address",
    CLUSTER: "cluster {id} has no active contact with an e-mail address",
    COMPLAINANT: "the complainant of complaint {id} left no e-mail address, or it was erased",
    SECRETARIAT: "set CLUSTERLABEL_SECRETARIAT_EMAIL, or open an officer's account with an e-mail address",
}


def transport(settings: Settings) -> Transport:
    """The SMTP server of CLUSTERLABEL_SMTP_URL, or else the Maildir under the data directory."""
    if settings.smtp_url is None:
        return MaildirTransport(settings.maildir())
    return SmtpTransport(SmtpServer.from_url(settings.smtp_url))


def open_mailroom(
    settings: Settings, models: ReadModels, people: People, complainants: Complainants | None = None
) -> Mailroom:
    limit = parse(settings.mail_rate_limit)
    return Mailroom(
        addresses=Directory(models, people, settings.secretariat_email, complainants),
        transport=transport(settings),
        sender=settings.mail_from,
        pace=TokenBucket(limit.amount, limit.get_expiry()),
        public_url=settings.public_url,
    )
