"""The label lifecycle replayed on a view row; shared by the registry and the expiry calendar.

Mirrors domain/label.py: active → expired → lapsed, or superseded by a renewal; suspended ⇄
active; withdrawn. A view keeps the state and since when; the status a reader sees at `now`
also counts a label past its validity as expired before the expiry command has run.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar

from domain.label import LabelState
from projections.store import Row, stamp
from projections.view import Change, RowCache, View

LABEL_COLUMNS = (
    "label_id TEXT PRIMARY KEY, label_code TEXT NOT NULL, verification_code TEXT, cluster_id TEXT, "
    "cluster_name TEXT, country TEXT, level TEXT, case_id TEXT, catalogue_version TEXT, valid_from TEXT, "
    "valid_until TEXT, renewable_until TEXT, state TEXT, state_since TEXT, supersedes TEXT, "
    "superseded_by TEXT, renewal_case_id TEXT, suspended_until TEXT, version BIGINT"
)
IN_FORCE = (LabelState.ACTIVE.value, LabelState.SUSPENDED.value)


def status_at(row: Row, now: datetime) -> tuple[str, str]:
    """(status, since) at `now`: a label in force past its validity has expired."""
    if row["state"] in IN_FORCE and stamp(now) >= row["valid_until"]:
        return LabelState.EXPIRED.value, row["valid_until"]
    return row["state"], row["state_since"]


class LabelRowsView(View):
    """A view with one row per label, kept by the label's events."""

    label_table: ClassVar[str]

    handlers = {
        f"Label.{name}": "_label"
        for name in "Issued Expired RenewalWindowClosed RenewalStarted RenewalAbandoned Superseded Suspended Restored Withdrawn".split()
    }

    def begin_batch(self, cursor: Any, changes: Sequence[Change]) -> RowCache:
        changed = [change.key for change in changes if change.event_type != "Issued"]
        return RowCache(self, self.label_table, "label_id").prefetch(cursor, changed)

    def end_batch(self, cursor: Any, batch: RowCache) -> None:
        batch.flush(cursor)

    def _label(self, cursor: Any, batch: RowCache, change: Change) -> None:
        if change.event_type == "Issued":
            row: Row | None = _issued(change)
        else:
            row = batch.get(cursor, change.key)
            if row is None:
                return
            _LABEL_TRANSITIONS[change.event_type](row, change)
        assert row is not None
        row["version"] = change.version
        batch.put(row)


def _issued(change: Change) -> Row:
    return {
        "label_id": change.key,
        "label_code": change["label_code"],
        "verification_code": change["verification_code"],
        "cluster_id": change["cluster_id"],
        "cluster_name": change["cluster_name"],
        "country": change["country"],
        "level": change["level"],
        "case_id": change["case_id"],
        "catalogue_version": change["catalogue_version"],
        "valid_from": change["valid_from"],
        "valid_until": change["valid_until"],
        "renewable_until": change["renewable_until"],
        "state": LabelState.ACTIVE.value,
        "state_since": change["valid_from"],
        "supersedes": change["supersedes"],
        "superseded_by": None,
        "renewal_case_id": None,
        "suspended_until": None,
    }


def _enter(row: Row, state: LabelState, change: Change) -> None:
    row["state"] = state.value
    row["state_since"] = change["at"]


def _suspended(row: Row, change: Change) -> None:
    row["suspended_until"] = change["until"]
    _enter(row, LabelState.SUSPENDED, change)


def _restored(row: Row, change: Change) -> None:
    row["suspended_until"] = None
    _enter(row, LabelState.ACTIVE if change["at"] < row["valid_until"] else LabelState.EXPIRED, change)


def _superseded(row: Row, change: Change) -> None:
    row["superseded_by"] = change["new_label_id"]
    row["renewal_case_id"] = None
    _enter(row, LabelState.SUPERSEDED, change)


def _expired(row: Row, change: Change) -> None:
    row["suspended_until"] = None
    _enter(row, LabelState.EXPIRED, change)


def _withdrawn(row: Row, change: Change) -> None:
    row["suspended_until"] = None
    _enter(row, LabelState.WITHDRAWN, change)


_LABEL_TRANSITIONS = {
    "Expired": _expired,
    "RenewalWindowClosed": lambda row, change: _enter(row, LabelState.LAPSED, change),
    "RenewalStarted": lambda row, change: row.update(renewal_case_id=change["case_id"]),
    "RenewalAbandoned": lambda row, change: row.update(renewal_case_id=None),
    "Superseded": _superseded,
    "Suspended": _suspended,
    "Restored": _restored,
    "Withdrawn": _withdrawn,
}
