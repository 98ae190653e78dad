"""Catching up in several processes at once: the views split into groups, one process each.

A group's process is one more runner on its views, so nothing new is needed for exactly-once:
each view commits a batch with its tracking, under its own lock. What parallelism buys is
cores: every process reads the log, but each applies only its own views, and the views'
Python work (the bulk of a catch-up) no longer queues behind one interpreter lock.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_EXCEPTION, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

from projections.view import View

Progress = Callable[[str, int, int], None]  # (view name, position, log head)
PROGRESS_SECONDS = 0.2


@dataclass(frozen=True)
class ViewSource:
    """Where one application's events and views live: enough for another process to open them."""

    env: Mapping[str, str]  # as the application reads it: CLUSTERLABEL_X already in place of X
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


def catch_up_in_processes(
    source: ViewSource, groups: Sequence[Sequence[str]], positions: Callable[[], dict[str, int]], head: int, progress: Progress | None
) -> int:
    """Each group caught up to at least `head` by a process of its own; the events read, summed."""
    with ProcessPoolExecutor(max_workers=len(groups), mp_context=_context()) as pool:
        futures = [pool.submit(_catch_up_group, dict(source.env), source.views_dir, list(names), source.batch_size) for names in groups]
        pending = set(futures)
        while pending:
            _, pending = wait(pending, timeout=PROGRESS_SECONDS, return_when=FIRST_EXCEPTION)
            if progress is not None:
                for name, position in positions().items():
                    progress(name, position, head)
            if any(future.done() and future.exception() is not None for future in futures):
                break
        return sum(future.result() for future in futures)  # raises the first group's error


def _context() -> multiprocessing.context.BaseContext:
    # fork starts a process at once, but only a single-threaded parent can fork safely
    # (a lock held by another thread would stay held in the child); else spawn.
    single = threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if single else "spawn")


def _catch_up_group(env: dict[str, str], views_dir: Path | None, names: list[str], batch_size: int) -> int:
    from projections.factory import open_read_models  # in the child: the factory imports this module

    # The parent opened every store and view already: creating tables again in each process
    # would only race the others over the same names.
    env = {**env, "CREATE_TABLE": "no"}
    with open_read_models(env, views_dir=views_dir, only=names, batch_size=batch_size) as models:
        return models.runner.run_until_caught_up()
