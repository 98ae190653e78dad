"""Whoever lodged a complaint: their e-mail address, kept beside the event store, never in it.

The complainant has no account; the log names the complaint, and the outbox's messages to them name
`complainant:<complaint id>` (domain/notices.py), looked up here when a message is sent
(interfaces/mail.py). Like the accounts' people (people.py), an address here could be erased without
rewriting a single event (no route does it yet).
"""

from __future__ import annotations

from uuid import UUID

from clusterlabel.interfaces.settings import Settings
from clusterlabel.interfaces.web.people import normal_email
from clusterlabel.interfaces.web.side_tables import SideStore, open_side_table

COLUMNS = "complaint_id TEXT PRIMARY KEY, email TEXT, erased_at TEXT"


def open_complainants(settings: Settings) -> Complainants:
    """The complainants' e-mail addresses, beside the event store (erasable; never in the log)."""
    return Complainants(open_side_table(settings, "complainants", COLUMNS))


class Complainants(SideStore):
    def add(self, complaint_id: UUID, email: str) -> None:
        """Keep the complainant's address; a retried lodging keeps the first one."""
        self._table.count(
            "INSERT INTO {} (complaint_id, email) VALUES ({p}, {p}) ON CONFLICT (complaint_id) DO NOTHING",
            (str(complaint_id), normal_email(email)),
        )

    def email_of(self, complaint_id: UUID) -> str | None:
        row = self._table.one("SELECT email FROM {} WHERE complaint_id = {p}", (str(complaint_id),))
        return None if row is None or row[0] is None else str(row[0])
