"""The label lifecycle replayed on a view row; shared by the registry and the expiry calendar.

The row follows the state each event leads to and the status a reader sees at `now` by the
domain's own rules (domain/label.py: label_state_after, label_status_at), so the view keeps
the label's data and never restates its lifecycle.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from clusterlabel.domain.label_lifecycle import LabelState, RenewalWindow, label_state_after, label_status_at
from clusterlabel.projections.view import Change, RowPerAggregateView
from clusterlabel.projections.view_store import Row

LABEL_COLUMNS = (
    "label_id TEXT PRIMARY KEY, label_code TEXT NOT NULL, verification_code TEXT, cluster_id TEXT, "
    "cluster_name TEXT, country TEXT, level TEXT, case_id TEXT, catalogue_version TEXT, valid_from TEXT, "
    "valid_until TEXT, renewable_until TEXT, state TEXT, state_since TEXT, supersedes TEXT, "
    "superseded_by TEXT, renewal_case_id TEXT, held_until TEXT, suspended_until TEXT, imported_from TEXT, "
    "version BIGINT"
)


def status_at(row: Row, now: datetime) -> tuple[LabelState, datetime]:
    """A label row's (status, since) at `now`, by the domain's rule."""
    held = row["held_until"]
    window = RenewalWindow(
        _instant(row["renewable_until"]), row["renewal_case_id"] is not None, _instant(held) if held else None
    )
    return label_status_at(row["state"], _instant(row["state_since"]), _instant(row["valid_until"]), now, window)


def _instant(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp)


# The label's events a label row follows (the others leave it as it is).
LABEL_EVENTS = (
    "Issued",
    "Expired",
    "RenewalWindowClosed",
    "RenewalStarted",
    "RenewalAbandoned",
    "Superseded",
    "Suspended",
    "Restored",
    "Withdrawn",
    "LabelAppealUpheld",
)


class LabelRowsView(RowPerAggregateView, key="label_id", started_by="Issued", aggregate="Label", follows=LABEL_EVENTS):
    """A view with one row per label in its first table, kept by the label's events. A subclass lists
    the statements that follow that table's (its indexes, its other tables) as `more_ddl`."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "ddl" in cls.__dict__:
            raise TypeError(f"{cls.__name__}: the label table is declared here; give what follows it as more_ddl")
        label_table = f"CREATE TABLE IF NOT EXISTS {{{cls.view_tables[0]}}} ({LABEL_COLUMNS})"
        cls.ddl = (label_table, *cls.more_ddl)

    def started(self, change: Change) -> Row:
        return _issued(change)

    def follow(self, row: Row, change: Change) -> None:
        if change.event_type != "Issued":
            _LABEL_DATA[change.event_type](row, change)
            _follow(row, change)
        row["version"] = change.version


def _issued(change: Change) -> Row:
    return {
        "label_id": change.key,
        **change.columns("label_code", "verification_code", "cluster_id", "cluster_name", "country", "level"),
        **change.columns("case_id", "catalogue_version", "valid_from", "valid_until", "renewable_until"),
        "state": LabelState.ACTIVE.value,
        "state_since": change["valid_from"],
        "supersedes": change["supersedes"],
        "superseded_by": None,
        "renewal_case_id": None,
        "held_until": None,
        "suspended_until": None,
        "imported_from": change.get("imported_from"),
    }


def _follow(row: Row, change: Change) -> None:
    """Enter the state the event leads to, if it leads to one, from the event's instant on."""
    state = label_state_after(change.event_type, _instant(change["at"]), _instant(row["valid_until"]))
    if state is not None:
        row["state"] = state.value
        row["state_since"] = change["at"]


def _nothing(row: Row, change: Change) -> None:
    pass


# What each event changes in the row besides its state.
_LABEL_DATA = {
    "Expired": lambda row, change: row.update(suspended_until=None),
    "RenewalWindowClosed": _nothing,
    "RenewalStarted": lambda row, change: row.update(renewal_case_id=change["case_id"]),
    "RenewalAbandoned": lambda row, change: row.update(renewal_case_id=None, held_until=change["at"]),
    "Superseded": lambda row, change: row.update(superseded_by=change["new_label_id"], renewal_case_id=None),
    "Suspended": lambda row, change: row.update(suspended_until=change["until"]),
    "Restored": lambda row, change: row.update(suspended_until=None, held_until=change["at"]),
    "Withdrawn": lambda row, change: row.update(suspended_until=None),
    "LabelAppealUpheld": lambda row, change: row.update(suspended_until=None, held_until=change["at"]),
}
