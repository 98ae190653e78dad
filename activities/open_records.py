"""Which records should have a running workflow, read from the event store itself (not a read model).

A case is open until its cluster records `CaseClosed` (its workflow closes it, after the label is issued
or the appeal window has passed), so every case a cluster lists in `open_cases` needs its workflow; so
does every label a cluster holds in force (`current_labels`, released when the label lapses or is
withdrawn, replaced when it is superseded) whose state is not final. The clusters are found by their
`Registered` event, read straight from the log by topic: a read model could lag, or be parked, and a
missed record would stay unreachable.
"""

from __future__ import annotations

from collections.abc import Iterator
from uuid import UUID

import structlog
from eventsourcing.utils import get_topic
from pydantic import BaseModel

from clusterlabel.activities.application import CertificationApp
from clusterlabel.domain.base import NotFound
from clusterlabel.domain.cluster import Cluster
from clusterlabel.domain.label import FINAL

PAGE = 1000
# Events stored before the project installed under one import name carry the bare `domain.` prefix
# (domain/__init__.py registers it as an alias): the topic filter names both spellings.
INSTALLED_PREFIX = "clusterlabel."


log = structlog.stdlib.get_logger(__name__)


class OpenRecords(BaseModel):
    """The records whose workflow must be running, in the order the clusters were registered."""

    case_ids: list[UUID] = []
    label_ids: list[UUID] = []


def stored_topics(aggregate: type, event: str) -> list[str]:
    """The topics an aggregate's event is stored under (`@event("Registered")` names a nested class)."""
    topic = f"{get_topic(aggregate)}.{event}"
    return [topic, topic.removeprefix(INSTALLED_PREFIX)]


def cluster_ids(app: CertificationApp) -> Iterator[UUID]:
    """Every registered cluster, oldest first, page by page from the log."""
    topics = stored_topics(Cluster, "Registered")
    start = 1
    while True:
        page = app.recorder.select_notifications(start=start, limit=PAGE, topics=topics)
        yield from (UUID(str(notification.originator_id)) for notification in page)
        if len(page) < PAGE:
            return
        start = page[-1].id + 1


def open_records(app: CertificationApp) -> OpenRecords:
    """The open cases and the labels in force, as the store has them now."""
    records = OpenRecords()
    for cluster_id in cluster_ids(app):
        cluster = app.get_cluster(cluster_id)
        records.case_ids.extend(cluster.open_cases)
        records.label_ids.extend(label_id for label_id in cluster.current_labels.values() if _in_force(app, label_id))
    return records


def _in_force(app: CertificationApp, label_id: UUID) -> bool:
    try:
        return app.get_label(label_id).state not in FINAL
    except NotFound:  # one inconsistent record must not stop the reconciliation of every other
        log.warning("a cluster names a label the store does not hold", label_id=str(label_id))
        return False


def still_open(app: CertificationApp, case_id: UUID | None = None, label_id: UUID | None = None) -> bool:
    """Whether a case is still open, or a label still in force, now (a second look before reporting it)."""
    if case_id is not None:
        return case_id in app.get_cluster(app.get_case(case_id).cluster_id).open_cases
    assert label_id is not None
    return app.get_label(label_id).state not in FINAL
