"""The people behind the accounts: their names and e-mail addresses.

Kept beside the event store, never in it: the log is append-only and shown in histories, so personal
data written there could not be erased (GDPR Art. 17) without rewriting events. Events name the account
(`account:<id>`); pages look the person up here. Erasure clears the row's name and address, and every
page then shows ERASED where the name stood; every event, case and label stays as it was.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from clusterlabel.interfaces.settings import Settings
from clusterlabel.interfaces.web.side_tables import SideStore, open_side_table

ERASED = "erased person"
COLUMNS = "account_id TEXT PRIMARY KEY, name TEXT, email TEXT UNIQUE, erased_at TEXT"


class EmailTaken(Exception):
    """Another account already signs in with this e-mail address."""


@dataclass(frozen=True)
class Person:
    account_id: UUID
    name: str
    email: str | None  # None once erased

    @property
    def erased(self) -> bool:
        return self.email is None


def normal_email(email: str) -> str:
    """One spelling per address, so that Maria@Example.org and maria@example.org are one person."""
    return email.strip().lower()


def open_people(settings: Settings) -> People:
    return People(open_side_table(settings, "people", COLUMNS))


class People(SideStore):
    def check_email_free(self, email: str, account_id: UUID | None = None) -> None:
        holder = self.account_with_email(email)
        if holder is not None and holder != account_id:
            raise EmailTaken(f"another account already uses the e-mail address {normal_email(email)}")

    def add(self, account_id: UUID, name: str, email: str) -> None:
        """Record the account's person; a retry with the same data is a no-op. The caller checked the
        address is free before recording the account (AccountBook.open); the UNIQUE constraint settles
        a race between two openings with one address."""
        try:
            self._table.count(
                "INSERT INTO {} (account_id, name, email) VALUES ({p}, {p}, {p}) ON CONFLICT (account_id) DO NOTHING",
                (str(account_id), name, normal_email(email)),
            )
        except Exception as error:  # the UNIQUE email lost a race with another account's insert
            if self.account_with_email(email) not in (None, account_id):
                raise EmailTaken(f"another account already uses the e-mail address {normal_email(email)}") from error
            raise

    def get(self, account_id: UUID) -> Person | None:
        row = self._table.one("SELECT name, email FROM {} WHERE account_id = {p}", (str(account_id),))
        return None if row is None else _person(account_id, row)

    def account_with_email(self, email: str) -> UUID | None:
        row = self._table.one("SELECT account_id FROM {} WHERE email = {p}", (normal_email(email),))
        return None if row is None else UUID(row[0])

    def account_ids(self, limit: int, offset: int) -> list[UUID]:
        """The accounts with a person here, by name (erased people last)."""
        rows = self._table.rows(
            "SELECT account_id FROM {} ORDER BY name IS NULL, name, account_id LIMIT {p} OFFSET {p}", (limit, offset)
        )
        return [UUID(row[0]) for row in rows]

    def names(self, account_ids: Iterable[UUID]) -> dict[UUID, str]:
        """The names of these accounts' people (ERASED for an erased one; absent when unknown)."""
        found = {}
        for account_id in set(account_ids):
            person = self.get(account_id)
            if person is not None:
                found[account_id] = person.name
        return found

    def erase(self, account_id: UUID) -> bool:
        """Forget the person's name and address for good; False if the account has no person here."""
        changed = self._table.count(
            "UPDATE {} SET name = NULL, email = NULL, erased_at = {p} WHERE account_id = {p}",
            (datetime.now(UTC).isoformat(timespec="seconds"), str(account_id)),
        )
        return changed == 1


def _person(account_id: UUID, row: tuple[object, ...]) -> Person:
    name, email = row
    if email is None:
        return Person(account_id, ERASED, None)
    return Person(account_id, str(name), str(email))
