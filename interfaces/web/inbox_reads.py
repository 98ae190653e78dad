"""Which messages each person has opened in their inbox: one row per reader and message, beside the event
store (side_tables.py).

Beside the log, not in it: that a person opened a message is no fact of the certification (the log says
that the message was queued and sent, which is what a case's history shows), it changes with every
click, and it is about one person's reading, which the log (append-only, kept for years) should not
hold. A reader is named as the event log names the caller (`account:<id>`; `secretariat` for the
machine administrator), so that two people holding one role each keep their own read state.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from clusterlabel.interfaces.settings import Settings
from clusterlabel.interfaces.web import side_tables
from clusterlabel.interfaces.web.side_tables import SideStore, instant_text, open_side_table

COLUMNS = (
    "reader TEXT NOT NULL, notification_id TEXT NOT NULL, recipient TEXT NOT NULL, read_at TEXT NOT NULL, "
    "PRIMARY KEY (reader, notification_id)"
)


def open_inbox_reads(settings: Settings) -> InboxReads:
    """Which messages each person has opened in their inbox, beside the event store (no fact of the log)."""
    return InboxReads(open_side_table(settings, "inbox_reads", COLUMNS))


class InboxReads(SideStore):
    def mark_read(self, reader: str, notification_id: str, recipient: str) -> None:
        """Note that `reader` opened the message (to `recipient`, one of theirs); opening it again changes nothing."""
        self._table.count(
            "INSERT INTO {} (reader, notification_id, recipient, read_at) VALUES ({p}, {p}, {p}, {p}) "
            "ON CONFLICT (reader, notification_id) DO NOTHING",
            (reader, notification_id, recipient, instant_text(side_tables.wall_clock())),
        )

    def read_among(self, reader: str, notification_ids: Sequence[str]) -> set[str]:
        """Which of these messages the reader has opened."""
        if not notification_ids:
            return set()
        rows = self._table.rows("SELECT notification_id FROM {} WHERE reader = {p}", (reader,))
        wanted = set(notification_ids)
        return {row[0] for row in rows if row[0] in wanted}

    def count_read(self, reader: str, recipients: Collection[str]) -> int:
        """How many messages to `recipients` the reader has opened (the header's unread count subtracts it)."""
        if not recipients:
            return 0
        marks = ", ".join("{p}" for _ in recipients)
        row = self._table.one(
            f"SELECT COUNT(*) FROM {{}} WHERE reader = {{p}} AND recipient IN ({marks})", (reader, *recipients)
        )
        return int(row[0]) if row else 0
