"""Build the views and their runner from the same env dict the application uses.

SQLite (the default): one file per view in `<dir of SQLITE_DBNAME>/views/` (or `views_dir`),
since a SQLite file's tracking table holds one position per application. In-memory and POPO
applications get in-memory views. PostgreSQL: every view's tables and its `<view>_tracking`
table in POSTGRES_SCHEMA (VIEWS_POSTGRES_SCHEMA overrides), sharing one small pool.

The chain view makes its links with a key kept outside the database: the one given, else the env's
CHAIN_KEY, else (a SQLite file store) the key file beside the store, generated once; in-memory stores
get a key of their own. A PostgreSQL store without a key is refused: its chain would need one.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_EXCEPTION, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.application import Application
from eventsourcing.postgres import PostgresFactory
from eventsourcing.sqlite import SQLiteDatastore
from eventsourcing.utils import Environment

from clusterlabel.domain.catalogue import Catalogue
from clusterlabel.domain.catalogue_shelf import publish, published_catalogues
from clusterlabel.projections.accounts import AccountsView
from clusterlabel.projections.audit_history import AuditHistoryView
from clusterlabel.projections.benchmarking import BenchmarkingView
from clusterlabel.projections.case_status import CaseStatusView
from clusterlabel.projections.chain_key import KEY_ENV, KEY_FILE, ChainKey, MissingChainKey, key_file
from clusterlabel.projections.complaints import ComplaintsView
from clusterlabel.projections.event_chain import EventChainView
from clusterlabel.projections.expiry_calendar import ExpiryCalendarView
from clusterlabel.projections.invoices import InvoicesView
from clusterlabel.projections.notifications import NotificationsView
from clusterlabel.projections.parallel import PROGRESS_SECONDS, Progress, ViewSource
from clusterlabel.projections.queries import ReadModels
from clusterlabel.projections.registry import RegistryView
from clusterlabel.projections.runner import BATCH_SIZE, ViewRunner
from clusterlabel.projections.statistics import StatisticsView
from clusterlabel.projections.view import View
from clusterlabel.projections.view_store import PostgresViewStore, SQLiteViewStore
from clusterlabel.projections.webhooks import WebhooksView
from clusterlabel.projections.workload import WorkloadView

VIEW_CLASSES: tuple[type[View], ...] = (
    CaseStatusView,
    AuditHistoryView,
    EventChainView,
    RegistryView,
    ExpiryCalendarView,
    WorkloadView,
    BenchmarkingView,
    AccountsView,
    NotificationsView,
    WebhooksView,
    ComplaintsView,
    StatisticsView,
    InvoicesView,
)
APP_PREFIX = "CLUSTERLABEL_"


def open_read_models(
    env: Mapping[str, str] | None = None,
    app: Application[Any] | None = None,
    *,
    views_dir: Path | str | None = None,
    batch_size: int = BATCH_SIZE,
    poll_interval: float = 1.0,
    only: Sequence[str] | None = None,
    chain_key: ChainKey | None = None,
) -> ReadModels:
    """The read models of the application configured by `env` (built from it when not given).

    `only` names the views to open (all when None): a runner process can keep a few of them.
    `chain_key` is the key of the chain's links (see the module's docstring when None)."""
    settings = _flatten(os.environ if env is None else env)
    if app is None:
        app = StoredLog(env=env)
    view_classes = view_classes_named(only)
    if EventChainView in view_classes:
        chain_key = chain_key or chain_key_for(settings, views_dir)
        settings[KEY_ENV] = chain_key.secret  # so that processes catching up (ViewSource) use it too
    views = build_views(settings, views_dir, view_classes, chain_key)
    runner = ViewRunner(app, views, batch_size=batch_size, poll_interval=poll_interval)
    # Where the views live, so that other processes can open the same ones.
    source = ViewSource(settings, _views_dir(settings, views_dir), batch_size)
    return ReadModels(app, {view.name: view for view in views}, runner, source, catch_up_in_processes)


class StoredLog(Application[UUID]):
    """The application's event store, opened to read: the read side never builds the write side.

    Named as the write side (activities.application.CertificationApp) is, so that it reads the same
    tables under the same CLUSTERLABEL_ settings; a test checks that the names agree."""

    name = "clusterlabel"


def view_classes_named(names: Sequence[str] | None) -> tuple[type[View], ...]:
    if names is None:
        return VIEW_CLASSES
    known = {view_class.name: view_class for view_class in VIEW_CLASSES}
    unknown = sorted(set(names) - set(known))
    if unknown:
        raise ValueError(f"no view named {', '.join(unknown)}; the views are {', '.join(known)}")
    return tuple(view_class for view_class in VIEW_CLASSES if view_class.name in names)


def build_views(
    settings: Mapping[str, str],
    views_dir: Path | str | None = None,
    view_classes: Sequence[type[View]] = VIEW_CLASSES,
    chain_key: ChainKey | None = None,
) -> list[View]:
    module = settings.get("PERSISTENCE_MODULE", "eventsourcing.popo")
    if module.endswith("postgres"):
        views = _postgres_views(settings, view_classes)
    else:
        views = _sqlite_views(settings, views_dir, view_classes)
    for view in views:
        if isinstance(view, EventChainView):
            view.keyed(chain_key or chain_key_for(settings, views_dir))
    return views


def chain_key_for(settings: Mapping[str, str], views_dir: Path | str | None = None) -> ChainKey:
    """The chain's key when none is given: the env's, the key file beside a SQLite file store, or a new
    one for in-memory views (they go with the process). Never one kept in the database it protects."""
    if settings.get(KEY_ENV):
        return ChainKey(settings[KEY_ENV])
    module = settings.get("PERSISTENCE_MODULE", "eventsourcing.popo")
    if module.endswith("postgres"):
        raise MissingChainKey(
            "the chain view on PostgreSQL needs a key kept outside the database: set CLUSTERLABEL_CHAIN_KEY"
        )
    directory = _views_dir(settings, views_dir)
    return ChainKey.random() if directory is None else key_file(directory.parent / KEY_FILE)


def _sqlite_views(
    settings: Mapping[str, str], views_dir: Path | str | None, view_classes: Sequence[type[View]]
) -> list[View]:
    directory = _views_dir(settings, views_dir)
    lock_timeout = int(settings.get("SQLITE_LOCK_TIMEOUT") or 10)
    views = []
    for view_class in view_classes:
        if directory is None:
            db_name = f"file:clusterlabel-{view_class.name}-{uuid4().hex}?mode=memory&cache=shared"
        else:
            db_name = str(directory / f"{view_class.name}.sqlite")
        concrete = type(f"SQLite{view_class.__name__}", (view_class, SQLiteViewStore), {})
        view = concrete(datastore=SQLiteDatastore(db_name=db_name, lock_timeout=lock_timeout))
        view.create_table()
        views.append(view)
    return views


def _views_dir(settings: Mapping[str, str], views_dir: Path | str | None) -> Path | None:
    db_name = settings.get("SQLITE_DBNAME", "")
    if views_dir is not None:
        directory = Path(views_dir)
    elif db_name and ":memory:" not in db_name and "mode=memory" not in db_name:
        directory = Path(db_name.removeprefix("file:").split("?")[0]).resolve().parent / "views"
    else:
        return None
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def _postgres_views(settings: Mapping[str, str], view_classes: Sequence[type[View]]) -> list[View]:
    # One pool for all views: a few connections, not a pool per view.
    pool = {"VIEWS_POSTGRES_POOL_SIZE": "2", "VIEWS_POSTGRES_MAX_OVERFLOW": "6"}
    factory = PostgresFactory(Environment("VIEWS", {**pool, **settings}))
    views = []
    for view_class in view_classes:
        concrete = type(f"Postgres{view_class.__name__}", (view_class, PostgresViewStore), {})
        view = concrete(datastore=factory.datastore, tracking_table_name=f"{view_class.name}_tracking")
        view.create_table()
        views.append(view)
    return views


def _flatten(env: Mapping[str, str]) -> dict[str, str]:
    """The env as eventsourcing reads it for the application: CLUSTERLABEL_X overrides X."""
    plain = {key: value for key, value in env.items() if not key.startswith(APP_PREFIX)}
    prefixed = {key.removeprefix(APP_PREFIX): value for key, value in env.items() if key.startswith(APP_PREFIX)}
    return {**plain, **prefixed}


def catch_up_in_processes(
    source: ViewSource,
    groups: Sequence[Sequence[str]],
    positions: Callable[[], dict[str, int]],
    head: int,
    progress: Progress | None,
) -> int:
    """Each group caught up to at least `head` by a process of its own; the events read, summed."""
    # A spawned process knows only the shipped catalogues: it is handed the published ones.
    catalogues = {version: catalogue.model_dump_json() for version, catalogue in published_catalogues().items()}
    with ProcessPoolExecutor(max_workers=len(groups), mp_context=_context()) as pool:
        futures = [
            pool.submit(_catch_up_group, dict(source.env), source.views_dir, list(names), source.batch_size, catalogues)
            for names in groups
        ]
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


def _catch_up_group(
    env: dict[str, str], views_dir: Path | None, names: list[str], batch_size: int, catalogues: dict[str, str]
) -> int:
    publish({f"the parent's {version}": Catalogue.model_validate_json(text) for version, text in catalogues.items()})
    # The parent opened every store and view already: creating tables again in each process
    # would only race the others over the same names.
    env = {**env, "CREATE_TABLE": "no"}
    with open_read_models(env, views_dir=views_dir, only=names, batch_size=batch_size) as models:
        return models.runner.run_until_caught_up()
