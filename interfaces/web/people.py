"""The people behind the accounts: their names, e-mail addresses and the language they read messages in.

Kept beside the event store, never in it: the log is append-only and shown in histories, so personal
data written there could not be erased (GDPR Art. 17) without rewriting events. Events name the account
(`account:<id>`); pages look the person up here. Erasure clears the row's name and address, and every
page then shows ERASED where the name stood; every event, case and label stays as it was.
"""

from __future__ import annotations

import string
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from clusterlabel.activities.personal_data import ERASED
from clusterlabel.interfaces.settings import Settings
from clusterlabel.interfaces.web.side_tables import SideStore, SideTable, open_side_table

COLUMNS = "account_id TEXT PRIMARY KEY, name TEXT, email TEXT UNIQUE, erased_at TEXT, language TEXT"
ENGLISH = "en"  # whoever chose no language reads English, the messages' first language


class EmailTaken(Exception):
    """Another account already signs in with this e-mail address."""


@dataclass(frozen=True)
class Person:
    account_id: UUID
    name: str
    email: str | None  # None once erased
    language: str = ENGLISH

    @property
    def erased(self) -> bool:
        return self.email is None


def normal_email(email: str) -> str:
    """One spelling per address, so that Maria@Example.org and maria@example.org are one person.

    Only ASCII letters fold in the part before the @: Unicode case mapping differs between languages
    (İ lowers to i with a dot above, ß has no capital of its own) and would make two addresses one.
    The domain folds whole, as the DNS (and IDNA) compare it."""
    local, _, domain = email.strip().rpartition("@")
    return f"{local.translate(_ASCII_LOWER)}@{domain.lower()}"


_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def open_people(settings: Settings) -> People:
    """The accounts' names and e-mail addresses, beside the event store (erasable; never in the log)."""
    return People(open_side_table(settings, "people", COLUMNS))


class People(SideStore):
    def __init__(self, table: SideTable) -> None:
        super().__init__(table)
        self._add_language_column()

    def _add_language_column(self) -> None:
        """A table made before people chose a language lacks its column (CREATE TABLE IF NOT EXISTS
        leaves an existing table as it is): add it, once, whichever process gets there first."""
        if self._has_language_column():
            return
        try:
            self._table.count("ALTER TABLE {} ADD COLUMN language TEXT", ())
        except Exception:
            if not self._has_language_column():  # not another process's ALTER racing ours
                raise

    def _has_language_column(self) -> bool:
        try:
            self._table.rows("SELECT language FROM {} LIMIT 1", ())
        except Exception:
            return False
        return True

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
        row = self._table.one("SELECT name, email, language FROM {} WHERE account_id = {p}", (str(account_id),))
        return None if row is None else _person(account_id, row)

    def choose_language(self, account_id: UUID, language: str) -> bool:
        """The language the person reads their messages in from now on; False if the account has no
        person here (or an erased one)."""
        changed = self._table.count(
            "UPDATE {} SET language = {p} WHERE account_id = {p} AND email IS NOT NULL", (language, str(account_id))
        )
        return changed == 1

    def account_with_email(self, email: str) -> UUID | None:
        # An address recorded before only ASCII folded was stored fully lower-cased: found that way too.
        for spelling in dict.fromkeys((normal_email(email), email.strip().lower())):
            row = self._table.one("SELECT account_id FROM {} WHERE email = {p}", (spelling,))
            if row is not None:
                return UUID(row[0])
        return None

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
            "UPDATE {} SET name = NULL, email = NULL, language = NULL, erased_at = {p} WHERE account_id = {p}",
            (datetime.now(UTC).isoformat(timespec="seconds"), str(account_id)),
        )
        return changed == 1


def _person(account_id: UUID, row: tuple[object, ...]) -> Person:
    name, email, language = row
    if email is None:
        return Person(account_id, ERASED, None)
    return Person(account_id, str(name), str(email), str(language or ENGLISH))
