"""A view parked on the event it cannot apply, so that one bad event stops that view and no other.

When a view fails on an event (its handler raises, or its store refuses the row the event makes), the
runner applies the view's part of the batch again one event at a time: the view keeps every event
before the failing one (with its tracking, exactly once), and the failing event, who it belongs to and
the error are recorded in the view's own store, in `parked_views`. A parked view is skipped on every
later pass, by every runner, until it is rebuilt (`clusterlabel projections rebuild --views NAME`),
or its code changes shape; the other views keep catching up meanwhile.

A failure of the store itself (the connection, a lock) is no fault of the event: it parks nothing,
and the next pass tries the same batch again.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from eventsourcing.persistence import InterfaceError, OperationalError, Tracking
from pydantic import BaseModel

if TYPE_CHECKING:
    from clusterlabel.projections.view import Change, View

PARKED_DDL = (
    "CREATE TABLE IF NOT EXISTS {parked_views} (view TEXT PRIMARY KEY, application_name TEXT NOT NULL,"
    " position BIGINT NOT NULL, originator_id TEXT NOT NULL, originator_version BIGINT NOT NULL,"
    " event_type TEXT NOT NULL, error TEXT NOT NULL, parked_at TEXT NOT NULL)"
)
ERROR_CHARS = 2_000
# The error may quote the very text that broke the view: never store its control characters raw.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


class ParkedView(BaseModel):
    """A view stopped at an event it cannot apply; its position stays just before that event."""

    view: str
    position: int  # the failing event's notification id (its place in the log)
    originator_id: str
    originator_version: int
    event_type: str
    error: str
    parked_at: str


def is_store_failure(error: BaseException) -> bool:
    """The store failed (down, locked, connection lost), not the view on this event: retry, do not park."""
    return isinstance(error, (OperationalError, InterfaceError, sqlite3.OperationalError))


def error_text(error: BaseException) -> str:
    text = f"{type(error).__name__}: {error}"
    return _CONTROLS.sub(lambda found: f"\\x{ord(found.group()):02x}", text)[:ERROR_CHARS]


def find_failing_event(
    view: View, changes: Sequence[Change], application_name: str
) -> tuple[Change, BaseException] | None:
    """Apply the view's part of `changes` one event at a time, each with its tracking; the first event that
    fails twice in a row, and its error (None when all applied: the batch's failure did not recur)."""
    for change in changes:
        if not (view.every_event or change.kind in view.handlers):
            continue
        for attempt in (1, 2):
            try:
                view.apply([change], Tracking(application_name, change.id))
                break
            except Exception as error:
                if is_store_failure(error):
                    raise
                if attempt == 2:
                    return change, error
    return None


def park(view: View, cursor: Any, application_name: str, change: Change, error: BaseException, now: str) -> None:
    view.upsert(
        cursor,
        "parked_views",
        ["view"],
        [
            {
                "view": view.name,
                "application_name": application_name,
                "position": change.id,
                "originator_id": change.key,
                "originator_version": change.version,
                "event_type": change.kind,
                "error": error_text(error),
                "parked_at": now,
            }
        ],
    )


def parked_row(view: View) -> ParkedView | None:
    rows = view.fetch("SELECT * FROM {parked_views} WHERE view = ?", (view.name,))
    return ParkedView.model_validate(rows[0]) if rows else None
