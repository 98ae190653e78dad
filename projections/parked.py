"""A view parked on the event it cannot apply, so that one bad event stops that view and no other.

When a view fails on an event (its handler raises, or its store refuses the row the event makes), the
runner applies the view's part of the batch again one event at a time: the view keeps every event
before the failing one (with its tracking, exactly once), and the failing event, who it belongs to and
the error are recorded in the view's own store, in `parked_views`. A parked view is skipped on every
later pass, by every runner, until it is rebuilt (`clusterlabel projections rebuild --views NAME`),
or its code changes shape; the other views keep catching up meanwhile.

A failure of the store itself (the connection, a lock, the tracking or the commit) is no fault of the
event: it parks nothing, and the next pass tries the same batch again.
"""

from __future__ import annotations

import re
import sqlite3

from eventsourcing.persistence import InterfaceError, OperationalError
from pydantic import BaseModel

PARKED_DDL = (
    "CREATE TABLE IF NOT EXISTS {parked_views} (view TEXT PRIMARY KEY, application_name TEXT NOT NULL,"
    " position BIGINT NOT NULL, originator_id TEXT NOT NULL, originator_version BIGINT NOT NULL,"
    " event_type TEXT NOT NULL, error TEXT NOT NULL, parked_at TEXT NOT NULL)"
)
ERROR_CHARS = 2_000
# The error may quote the very text that broke the view: never store its control characters raw.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


class ParkedView(BaseModel):
    """A view stopped at an event it cannot apply (the view's own position stays before that event)."""

    view: str
    position: int  # the failing event's notification id (its place in the log)
    originator_id: str
    originator_version: int
    event_type: str
    error: str
    parked_at: str


WHILE_TRACKING = "raised while recording the view's tracking or committing its batch, not by an event"


def is_store_failure(error: BaseException) -> bool:
    """The store failed (down, locked, connection lost, or at the tracking and commit rather than at an
    event's rows), not the view on an event: retry, do not park."""
    return isinstance(error, (OperationalError, InterfaceError, sqlite3.OperationalError)) or (
        WHILE_TRACKING in getattr(error, "__notes__", ())
    )


def error_text(error: BaseException) -> str:
    text = f"{type(error).__name__}: {error}"
    return _CONTROLS.sub(lambda found: f"\\x{ord(found.group()):02x}", text)[:ERROR_CHARS]
