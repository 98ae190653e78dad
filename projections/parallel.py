"""Catching up in several processes at once: the views split into groups, one process each
(projections/factory.catch_up_in_processes runs them).

A group's process is one more runner on its views, so nothing new is needed for exactly-once:
each view commits a batch with its tracking, under its own lock. What parallelism buys is
cores: every process reads the log, but each applies only its own views, and the views'
Python work (the bulk of a catch-up) no longer queues behind one interpreter lock.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from clusterlabel.projections.view import View

Progress = Callable[[str, int, int], None]  # (view name, position, log head)
PROGRESS_SECONDS = 0.2


@dataclass(frozen=True)
class ViewSource:
    """Where one application's events and views live: enough for another process to open them."""

    # As the application reads it (CLUSTERLABEL_X already in place of X), with the chain's key: never shown.
    env: Mapping[str, str] = field(repr=False)
    views_dir: Path | None
    batch_size: int

    @property
    def shared(self) -> bool:
        """Another process can open the same event store and views (not so for in-memory stores)."""
        module = self.env.get("PERSISTENCE_MODULE") or "eventsourcing.popo"
        if module.endswith("postgres"):
            return True
        db_name = self.env.get("SQLITE_DBNAME") or ""
        return module.endswith("sqlite") and self.views_dir is not None and "memory" not in db_name


def default_processes() -> int:
    return max(1, min(len(os.sched_getaffinity(0)), 8))


def split(views: Sequence[View], groups: int) -> list[list[str]]:
    """View names in `groups` groups of about equal work: heaviest first, each to the lightest group."""
    bins: list[tuple[float, list[str]]] = [(0.0, []) for _ in range(max(1, min(groups, len(views))))]
    for view in sorted(views, key=lambda view: -view.cost):
        load, names = min(bins, key=lambda entry: entry[0])
        bins.remove((load, names))
        bins.append((load + view.cost, [*names, view.name]))
    return [names for _, names in bins if names]
