"""Importing labels awarded before the engine existed (domain/label_import.py reads the file).

All or nothing: every row is checked against the file and against the store (its code taken by
another label, its cluster holding a label at that level already) before the first is recorded, and
one bad row refuses the whole file. A row already imported from the same source is left as it is, so
that running the same file again records nothing twice.

Each label is saved with its cluster's `LabelGranted` in one go: the cluster then holds it in force,
so the reconciler starts its lifecycle workflow like any label's (reminders, expiry, renewal window).
Partners' webhooks are told of it in the same save, as of a label the engine issues: a partner who later
hears of its suspension or expiry has heard of its issue first, and a retried import tells nobody twice.
"""

from __future__ import annotations

from uuid import UUID

from pydantic import BaseModel

from clusterlabel.activities import webhooks
from clusterlabel.activities.application import CertificationApp
from clusterlabel.activities.open_records import cluster_ids
from clusterlabel.domain.base import InvalidInput, NotFound, Problem, RecordedAggregate
from clusterlabel.domain.cluster import Cluster, ClusterProfile
from clusterlabel.domain.command_base import Envelope
from clusterlabel.domain.label import Label, label_id_for
from clusterlabel.domain.label_import import ImportLabel, award_problems, imported_label, refused_file

# What an import cannot know about a cluster it registers: recorded as nothing, so the cluster is not
# eligible for a new application until an officer updates its profile with the facts.
UNKNOWN_SECTOR = "not recorded"
_UNKNOWN_ELIGIBILITY = {"members": 0, "member_types": [], "staff_fte": 0.0, "eccp_listed": False}


class ImportedRow(BaseModel):
    row: int
    label_code: str
    label_id: UUID
    cluster_name: str
    verification_code: str
    imported: bool  # False: imported from the same source before, left as it was


def import_labels(
    app: CertificationApp, commands: list[ImportLabel], actor: str, *, check_only: bool = False
) -> list[ImportedRow]:
    """Import every row or none; each row's label as stored (the verification code to hand to the cluster).
    `check_only` checks the rows against the store and records nothing (InvalidInput, or an empty list)."""
    clusters = _clusters_by_name(app)
    now = app.clock()  # the import's instant: no row may be awarded after it
    problems: list[Problem] = []
    todo: list[tuple[ImportLabel, ImportLabel | None]] = []  # as read, as it will be imported
    for command in commands:
        resolved, row_problems = _resolve(app, command, clusters)
        if resolved is not None:  # a row imported before stands as it was: running the file again records nothing
            row_problems = award_problems(command, now) + row_problems
        problems += row_problems
        todo.append((command, resolved))
    if problems:
        raise refused_file(problems)
    if check_only:
        return []
    return [_import(app, command, resolved, actor) for command, resolved in todo]


def _import(app: CertificationApp, command: ImportLabel, resolved: ImportLabel | None, actor: str) -> ImportedRow:
    label_id = label_id_for(command.label_code)
    if resolved is not None:
        import_label(app, label_id, resolved, Envelope(actor=actor, key=command.key, at=app.clock()))
    label = app.get_label(label_id)
    return ImportedRow(
        row=command.row,
        label_code=label.label_code,
        label_id=label.id,
        cluster_name=label.cluster_name,
        verification_code=label.verification_code,
        imported=resolved is not None,
    )


def _clusters_by_name(app: CertificationApp) -> dict[tuple[str, str], Cluster]:
    """Every registered cluster by its name (in any case and spacing) and country."""
    found: dict[tuple[str, str], Cluster] = {}
    for cluster_id in cluster_ids(app):
        cluster = app.get_cluster(cluster_id)
        found.setdefault((" ".join(cluster.name.casefold().split()), cluster.country), cluster)
    return found


def _resolve(
    app: CertificationApp, command: ImportLabel, clusters: dict[tuple[str, str], Cluster]
) -> tuple[ImportLabel | None, list[Problem]]:
    """The row's command naming its cluster; None when the same source imported it already."""
    row = command.row
    try:
        existing = app.find_label(command.label_code)
    except NotFound:
        existing = None
    if existing is not None:
        if existing.imported_from == command.source:
            return None, []
        taken_by = f"imported from {existing.imported_from!r}" if existing.imported_from else "issued by this engine"
        return None, [_problem(row, "label_code", f"{command.label_code} is already a label {taken_by}")]
    cluster = clusters.get(command.cluster_match)
    if cluster is None:
        if not command.website:
            message = f"{command.cluster_name} ({command.country}) is not registered: give its website to register it"
            return None, [_problem(row, "website", message)]
        return command, []
    held = cluster.current_labels.get(command.level)
    if held is not None:
        held_code = app.get_label(held).label_code
        message = f"{cluster.name} ({cluster.country}) already holds the {command.level} label {held_code}"
        return None, [_problem(row, "level", message)]
    return command.model_copy(update={"cluster_id": cluster.id}), []


def _problem(row: int, column: str, message: str) -> Problem:
    return Problem(f"row {row}, {column}: {message}", ("row", row, column))


# ---- the handler (activities/handlers.py maps ImportLabel to it) ------------------------------------


def import_label(app: CertificationApp, label_id: UUID, command: ImportLabel, env: Envelope) -> Label:
    """The label, granted to its cluster (registered first when the import names a new one), and announced to
    partners' webhooks, in one save."""

    def build() -> list[RecordedAggregate]:
        # import_labels checked the rows already; a command handled on its own (handlers.py) was not
        refused = award_problems(command, env.instant())
        if refused:
            raise refused_file(refused)
        cluster = _cluster_for(app, command, env)
        label = imported_label(
            command=command,
            cluster=cluster,
            verification_code=app.new_verification_code(),
            policy=app.policy,
            actor=env.actor,
        )
        cluster.grant_label(label.id, command.level, None, *env.who())
        return [label, cluster, *webhooks.announce(app, label, env)]

    created = app.created(label_id, build)
    assert isinstance(created, Label)
    return created


def _cluster_for(app: CertificationApp, command: ImportLabel, env: Envelope) -> Cluster:
    if command.cluster_id is not None:
        return app.get_cluster(command.cluster_id)
    registered_by_import = Cluster.create_id(command.cluster_key)
    try:
        return app.get_cluster(registered_by_import)  # an earlier row of the same file named it
    except NotFound:
        pass
    if not command.website:
        raise InvalidInput(f"cluster {command.cluster_name!r} is not registered and the row gives no website")
    profile = ClusterProfile.model_validate(
        {
            "name": command.cluster_name,
            "country": command.country,
            "sector": command.sector or UNKNOWN_SECTOR,
            "website": command.website,
            **_UNKNOWN_ELIGIBILITY,
        }
    )
    return Cluster(profile.model_dump(mode="json"), env.actor, command.cluster_key)
