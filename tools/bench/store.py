"""The write and read sides on the event store, each against the bare eventsourcing library.

append: whole Bronze case lifecycles through CertificationApp, against a bare aggregate
that replays the very same pattern of saves (same aggregates per save, same events per
aggregate), so the ratio is the price of the domain's rules and the idempotency checks.
projection: every view catching up from zero, against reading and decoding the same
notifications.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import psycopg
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from psycopg.sql import SQL, Identifier

from clusterlabel.activities.application import CertificationApp
from clusterlabel.activities.handlers import handle
from clusterlabel.activities.registrations import new_id
from clusterlabel.domain.base import Level
from clusterlabel.domain.case_lifecycle import Outcome
from clusterlabel.domain.catalogue import IndicatorScore
from clusterlabel.domain.catalogue_shelf import load_catalogue
from clusterlabel.domain.cluster import ClusterProfile
from clusterlabel.domain.command_base import Command, Envelope
from clusterlabel.domain.commands import (
    AnswerProposal,
    CloseCase,
    IssueLabel,
    ProposeExpert,
    RecordAgreement,
    RecordDecision,
    Screen,
    SubmitApplication,
    SubmitAssessment,
)
from clusterlabel.domain.expert import ExpertProfile
from clusterlabel.domain.record_commands import RegisterCluster, RegisterExpert
from clusterlabel.interfaces.event_store_env import postgres_connection_args
from clusterlabel.projections.chain_key import new_secret
from clusterlabel.projections.factory import open_read_models
from clusterlabel.projections.parallel import default_processes
from clusterlabel.projections.runner import BATCH_SIZE
from clusterlabel.tools.bench.lag import AgainstBaseline

SaveShape = list[tuple[UUID, int]]  # (aggregate id, events saved) for each aggregate of one save


class RecordingApp(CertificationApp):
    """The real application, noting the shape of every save for the baseline to repeat."""

    name = CertificationApp.name  # the same tables (on PostgreSQL they are named after the application)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.saves: list[SaveShape] = []

    def save(self, *objs: Any, **kwargs: Any) -> Any:
        self.saves.append([(obj.id, len(obj.pending_events)) for obj in objs if obj is not None])
        return super().save(*objs, **kwargs)


class Tally(Aggregate):
    """The bare baseline: an aggregate that only counts."""

    @event("Started")
    def __init__(self) -> None:
        self.count = 0

    @event("Counted")
    def count_one(self) -> None:
        self.count += 1


@dataclass
class StoreFigures(AgainstBaseline):
    events: int
    seconds: float
    baseline_seconds: float
    extra: dict[str, float] = field(default_factory=dict)

    @property
    def done(self) -> float:
        return self.events


def sqlite_env(directory: Path, name: str) -> dict[str, str]:
    """The env of a SQLite event store in `directory`."""
    return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(directory / f"{name}.sqlite")}


class BenchStores:
    """Where each part of the bench keeps its events: SQLite files in the run's directory, or
    (given a PostgreSQL env) a fresh schema per store in that database, dropped at the end."""

    def __init__(self, directory: Path, postgres: Mapping[str, str] | None = None) -> None:
        self.directory = directory
        self.postgres = dict(postgres) if postgres is not None else None
        self.run = uuid4().hex[:8]
        self.schemas: list[str] = []

    @property
    def kind(self) -> str:
        return "sqlite" if self.postgres is None else "postgres"

    def env(self, name: str) -> dict[str, str]:
        if self.postgres is None:
            return {**sqlite_env(self.directory, name), "SQLITE_LOCK_TIMEOUT": "30"}
        schema = f"bench_{self.run}_{name.replace('-', '_')}"
        with self._connect() as connection:
            connection.execute(SQL("CREATE SCHEMA {}").format(Identifier(schema)))
        self.schemas.append(schema)
        # The chain view needs a key on PostgreSQL (projections/chain_key.py); one per store is enough here.
        return {**self.postgres, "POSTGRES_SCHEMA": schema, "CHAIN_KEY": new_secret()}

    def settle(self, env: Mapping[str, str]) -> None:
        """On PostgreSQL, VACUUM (ANALYZE) every table of the store `env` names: its events and its views.

        Why: a store that grew over years has had its statistics gathered and its pages marked all-visible
        by autovacuum many times; one bulk-written a minute ago has neither, and its reads are planned
        blind and check every row's visibility (PostgreSQL's manual advises ANALYZE after a bulk load).
        Measured without it, the history's p99 was 20 to 23 ms; after it, 13 to 17 (one store, 1,000 requests)."""
        if self.postgres is None:
            return
        schema = env["POSTGRES_SCHEMA"]
        with self._connect() as connection:
            listed = connection.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema,))
            for (table,) in listed.fetchall():
                connection.execute(SQL("VACUUM (ANALYZE) {}.{}").format(Identifier(schema), Identifier(table)))

    def close(self) -> None:
        if self.postgres is None or not self.schemas:
            return
        with self._connect() as connection:
            for schema in self.schemas:
                connection.execute(SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(Identifier(schema)))
        self.schemas.clear()

    def _connect(self) -> psycopg.Connection[Any]:
        assert self.postgres is not None
        return psycopg.connect(**postgres_connection_args(self.postgres))  # autocommit: VACUUM needs it


def postgres_unreachable(env: Mapping[str, str]) -> str | None:
    """Why no PostgreSQL server answers as `env` says, or None when one does."""
    try:
        psycopg.connect(**postgres_connection_args(env)).close()
    except psycopg.OperationalError as error:
        return str(error).strip().splitlines()[0]
    return None


def registered(app: CertificationApp, command: RegisterCluster | RegisterExpert, actor: str, key: str) -> UUID:
    """Register a cluster or an expert as the HTTP route does; the new record's id."""
    envelope = Envelope(actor=actor, key=key)
    return handle(app, new_id(command, envelope), command, envelope).id


def run_lifecycles(app: CertificationApp, count: int, first: int = 0) -> list[UUID]:
    """`count` Bronze cases from registration to label, through the application's commands; their ids.

    `first` numbers the cases on from an earlier call on the same store."""
    actor = "bench"
    catalogue = load_catalogue("bronze-2020")
    scores = [IndicatorScore(code=item.code, score=item.max_score) for item in catalogue.indicators]
    until = app.clock().replace(year=2100)
    experts = [
        registered(
            app,
            RegisterExpert(
                profile=ExpertProfile(name=f"Expert {n}", country="DE", languages=["en"], certified_until=until)
            ),
            actor,
            f"bench-expert-{n}",
        )
        for n in range(10)
    ]
    case_ids = []
    for n in range(first, first + count):
        key = f"bench-{n}"
        cluster_id = registered(app, RegisterCluster(profile=cluster_profile(n)), actor, f"{key}-cluster")

        def run(subject_id: UUID, command: Command, step: str, key: str = key) -> Any:
            return handle(app, subject_id, command, Envelope(actor=actor, key=f"{key}-{step}"))

        case_id = run(cluster_id, SubmitApplication(cluster_id=cluster_id, level=Level.BRONZE), "apply").id
        run(case_id, Screen(accepted=True, reason="complete"), "screen")
        expert_id = experts[n % len(experts)]
        run(case_id, ProposeExpert(expert_id=expert_id), "propose")
        run(case_id, AnswerProposal(expert_id=expert_id, accept=True), "accept")
        run(case_id, RecordAgreement(agreed=True), "agree")
        run(case_id, SubmitAssessment(expert_id=expert_id, indicators=scores, report="report"), "assess")
        run(
            case_id,
            RecordDecision(outcome=Outcome.AWARD, level=Level.BRONZE, rationale="ok"),
            "decide",
        )
        run(case_id, IssueLabel(), "label")
        run(case_id, CloseCase(), "close")
        case_ids.append(case_id)
    return case_ids


def cluster_profile(n: int) -> ClusterProfile:
    return ClusterProfile(
        name=f"Cluster {n}",
        country="LT",
        sector="maritime",
        website="https://cluster.example.org",
        members=30,
        member_types=["business", "research"],
        staff_fte=2.0,
        eccp_listed=True,
    )


def replay_saves(app: Application[UUID], saves: list[SaveShape]) -> None:
    """The same saves as the real run, on bare aggregates: load (or create), count, save."""
    twins: dict[UUID, UUID] = {}
    for shape in saves:
        changed = []
        for original_id, events in shape:
            if original_id in twins:
                tally: Any = app.repository.get(twins[original_id])
                remaining = events
            else:
                tally = Tally()
                twins[original_id] = tally.id
                remaining = events - 1
            for _ in range(remaining):
                tally.count_one()
            changed.append(tally)
        app.save(*changed)


def bench_append(stores: BenchStores, lifecycles: int) -> tuple[StoreFigures, dict[str, str], list[UUID]]:
    """The figures, the env of the store the real run filled, and the ids of its cases."""
    env = stores.env("append")
    app = RecordingApp(env=env)
    started = time.perf_counter()
    case_ids = run_lifecycles(app, lifecycles)
    seconds = time.perf_counter() - started
    events = sum(count for shape in app.saves for _, count in shape)

    baseline = Application[UUID](env=stores.env("append-baseline"))
    started = time.perf_counter()
    replay_saves(baseline, app.saves)
    baseline_seconds = time.perf_counter() - started
    return StoreFigures(events, seconds, baseline_seconds), env, case_ids


def bench_projection(env: Mapping[str, str], views_dir: Path, single_process: bool = True) -> StoreFigures:
    """All views from zero over the store `env` holds, against read-and-decode of the same log.

    Measured as `projections rebuild` does by default, the views split among one process per core;
    with `single_process`, first also in one process (as `serve` keeps its views), in `extra` (a full
    run leaves it out: over 1.7 million events it took a quarter of the bench's 40 minutes). The views
    stay in `views_dir`, caught up, for the queries measured next."""
    app = CertificationApp(env=env)
    head = app.recorder.max_notification_id() or 0
    started = time.perf_counter()
    _read_and_decode(app, batch=BATCH_SIZE)  # read as the runner reads
    baseline_seconds = time.perf_counter() - started

    processes = default_processes()
    extra = {"processes": float(processes)}
    with open_read_models(env, app, views_dir=views_dir) as models:
        if single_process:
            started = time.perf_counter()
            models.catch_up()
            extra["single_process_events_per_second"] = head / (time.perf_counter() - started)
            models.rebuild_tables()
        started = time.perf_counter()
        models.catch_up(processes=processes)
        seconds = time.perf_counter() - started
    return StoreFigures(head, seconds, baseline_seconds, extra)


def _read_and_decode(app: Application[UUID], batch: int) -> int:
    position, decoded = 0, 0
    while True:
        notifications = app.recorder.select_notifications(start=position, limit=batch, inclusive_of_start=False)
        if not notifications:
            return decoded
        for notification in notifications:
            app.mapper.to_domain_event(notification)
            decoded += 1
        position = notifications[-1].id
