"""Which records should have a running workflow, read from the event store itself (not a read model).

A case is open until its cluster records `CaseClosed` (its workflow closes it, after the label is issued
or the appeal window has passed), so every case a cluster lists in `open_cases` needs its workflow; so
does every label a cluster holds in force (`current_labels`, released when the label lapses or is
withdrawn, replaced when it is superseded) whose state is not final, and every message of the outbox
still queued (its delivery workflow sends it), and every complaint lodged and not yet closed (its workflow
keeps its deadlines). The clusters are found by their `Registered` event and
the messages by their events, read straight from the log by topic: a read model could lag, or be
parked, and a missed record would stay unreachable.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any
from uuid import UUID

import structlog
from eventsourcing.utils import get_topic
from pydantic import BaseModel

from clusterlabel.activities.application import CertificationApp
from clusterlabel.domain.base import NotFound
from clusterlabel.domain.case_lifecycle import CaseState
from clusterlabel.domain.cluster import Cluster
from clusterlabel.domain.complaint import Complaint
from clusterlabel.domain.label_lifecycle import FINAL
from clusterlabel.domain.notification import STATUS_AFTER, DeliveryStatus, Notification
from clusterlabel.domain.webhook_delivery import DELIVERY_STATUS_AFTER, WebhookDelivery, WebhookDeliveryStatus

PAGE = 1000
# Events stored before the project installed under one import name carry the bare `domain.` prefix
# (domain/__init__.py registers it as an alias): the topic filter names both spellings.
INSTALLED_PREFIX = "clusterlabel."


log = structlog.stdlib.get_logger(__name__)


class OpenRecords(BaseModel):
    """The records whose workflow must be running, in the order the clusters were registered."""

    case_ids: list[UUID] = []
    label_ids: list[UUID] = []
    message_ids: list[UUID] = []
    webhook_delivery_ids: list[UUID] = []
    complaint_ids: list[UUID] = []


def stored_topics(aggregate: type, event: str) -> list[str]:
    """The topics an aggregate's event is stored under (`@event("Registered")` names a nested class)."""
    topic = f"{get_topic(aggregate)}.{event}"
    return [topic, topic.removeprefix(INSTALLED_PREFIX)]


def cluster_ids(app: CertificationApp) -> Iterator[UUID]:
    """Every registered cluster, oldest first, page by page from the log."""
    for notification in _stored(app, stored_topics(Cluster, "Registered")):
        yield UUID(str(notification.originator_id))


def waiting_messages(app: CertificationApp) -> list[UUID]:
    """Every message of the outbox still queued (never sent, or queued again after failing), oldest first."""
    return _still_queued(app, Notification, STATUS_AFTER, DeliveryStatus.QUEUED)


def waiting_webhook_deliveries(app: CertificationApp) -> list[UUID]:
    """Every delivery to a webhook still queued, oldest first."""
    return _still_queued(app, WebhookDelivery, DELIVERY_STATUS_AFTER, WebhookDeliveryStatus.QUEUED)


def _still_queued(app: CertificationApp, aggregate: type, status_after: Mapping[str, Any], queued: Any) -> list[UUID]:
    """The records whose last status event (by class name, as `status_after` maps it) left them queued."""
    topics = [topic for name in status_after for topic in stored_topics(aggregate, name)]
    status: dict[UUID, Any] = {}
    for notification in _stored(app, topics):
        status[UUID(str(notification.originator_id))] = status_after[notification.topic.rpartition(".")[2]]
    return [record_id for record_id, now in status.items() if now is queued]


def complaint_ids(app: CertificationApp) -> list[UUID]:
    """Every complaint lodged, oldest first."""
    return [UUID(str(stored.originator_id)) for stored in _stored(app, stored_topics(Complaint, "Lodged"))]


def open_complaints(app: CertificationApp) -> list[UUID]:
    """Every complaint lodged and not closed, oldest first (read by topic, as the messages are)."""
    closed = {UUID(str(stored.originator_id)) for stored in _stored(app, stored_topics(Complaint, "Closed"))}
    return [complaint_id for complaint_id in complaint_ids(app) if complaint_id not in closed]


QUEUEING_TOPICS = [*stored_topics(Notification, "Queued"), *stored_topics(Notification, "Requeued")]
WEBHOOK_QUEUEING_TOPICS = stored_topics(WebhookDelivery, "Queued")


def queued_after(app: CertificationApp, position: int, topics: list[str] = QUEUEING_TOPICS) -> tuple[list[UUID], int]:
    """The messages queued (or queued again) after `position` in the log, oldest first, and the position
    read up to: the log's head when the page was not full, so that a later look starts there. With
    WEBHOOK_QUEUEING_TOPICS, the deliveries to webhooks queued."""
    head = app.recorder.max_notification_id() or 0
    page = app.recorder.select_notifications(
        start=position, limit=PAGE, stop=max(head, position), topics=topics, inclusive_of_start=False
    )
    found = [UUID(str(notification.originator_id)) for notification in page]
    return found, (page[-1].id if len(page) == PAGE else max(head, position))


def _stored(app: CertificationApp, topics: list[str]) -> Iterator[Any]:
    """The stored events of these topics, oldest first, page by page from the log."""
    start = 1
    while True:
        page = app.recorder.select_notifications(start=start, limit=PAGE, topics=topics)
        yield from page
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
    records.message_ids.extend(waiting_messages(app))
    records.webhook_delivery_ids.extend(waiting_webhook_deliveries(app))
    records.complaint_ids.extend(open_complaints(app))
    return records


def _in_force(app: CertificationApp, label_id: UUID) -> bool:
    try:
        return app.get_label(label_id).state not in FINAL
    except NotFound:  # one inconsistent record must not stop the reconciliation of every other
        log.warning("a cluster names a label the store does not hold", label_id=str(label_id))
        return False


def concluded_in_store(app: CertificationApp, case_id: UUID) -> bool:
    """Whether the store says nothing is left of the case now but its closing (an award's label issued)."""
    case = app.get_case(case_id)
    return case.is_concluded(app.clock()) and (case.state is not CaseState.AWARDED or case.label_id is not None)


def label_ended_in_store(app: CertificationApp, label_id: UUID) -> bool:
    """Whether the store says the label's workflow has nothing left to do (Label.settled, as its view says
    `final`). A label this store does not hold is not ended here."""
    try:
        return app.get_label(label_id).settled
    except NotFound:
        return False


# Whether a record of each kind (as the reconciler names them) is still open now: a case open, a label
# still in force, a message or a webhook's delivery still queued, a complaint not yet closed.
_STILL_OPEN: dict[str, Callable[[CertificationApp, UUID], bool]] = {
    "case": lambda app, case_id: case_id in app.get_cluster(app.get_case(case_id).cluster_id).open_cases,
    "label": lambda app, label_id: app.get_label(label_id).state not in FINAL,
    "message": lambda app, message_id: app.load(message_id, Notification).waiting,
    "webhook_delivery": lambda app, delivery_id: app.load(delivery_id, WebhookDelivery).waiting,
    "complaint": lambda app, complaint_id: app.load(complaint_id, Complaint).is_open,
}


def still_open(app: CertificationApp, kind: str, record_id: UUID) -> bool:
    """Whether the record of `kind` is still open now (a second look before reporting it)."""
    return _STILL_OPEN[kind](app, record_id)
