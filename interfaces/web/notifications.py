"""The outbox: every message the engine sends, its status and tries (admin or officer), and an officer's
retry of a message that failed (queued again: its delivery workflow tries anew)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from clusterlabel.activities.handlers import handle
from clusterlabel.domain.command_base import Envelope, command_key, fresh_occurrence
from clusterlabel.domain.notification import DeliveryStatus, Notification
from clusterlabel.domain.record_commands import RetryDelivery
from clusterlabel.interfaces.logs import get_logger
from clusterlabel.interfaces.web.auth import Officer, Principal, on_the_loop
from clusterlabel.interfaces.web.common import ERRORS, Key
from clusterlabel.interfaces.web.errors import ApiError
from clusterlabel.interfaces.web.schemas import Out
from clusterlabel.interfaces.web.services import Svc
from clusterlabel.workflows.starter import restart_delivery_workflow

log = get_logger(__name__)
router = APIRouter(tags=["notifications"], responses=ERRORS)
MAX_PAGE = 500


class NotificationOut(Out):
    id: UUID
    recipient: str = Field(
        description="secretariat, deciders, appeals-panel, expert:<id>, cluster:<id> or complainant:<complaint id>"
    )
    kind: str = Field(description="what the message is: offer, deadline_reminder, label_issued, … (one per template)")
    status: Literal["queued", "sent", "failed"]
    attempts: int = Field(description="tries so far, over every time it was queued")
    sent_at: datetime | None
    case_id: UUID | None = None
    label_id: UUID | None = None
    reason: str | None = Field(default=None, description="why its last delivery failed")


def secretariat_reader(principal: Principal) -> Principal:
    if not principal.reads_the_outbox:
        raise ApiError(403, "only an administrator or an officer may read the outbox")
    return principal


@router.get("/notifications", summary="The outbox's messages, latest first")
def notifications(
    svc: Svc,
    who: Annotated[Principal, Depends(on_the_loop(secretariat_reader))],
    status: Literal["queued", "sent", "failed"] | None = None,
    case_id: UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[NotificationOut]:
    svc.fresh()
    chosen = DeliveryStatus(status) if status else None
    entries = svc.models.messages(status=chosen, case_id=case_id, limit=limit, offset=offset)
    return [NotificationOut.model_validate(entry.model_dump()) for entry in entries]


@router.post("/notifications/{notification_id}/retry", summary="Send a failed message again (409 unless it failed)")
async def retry(notification_id: UUID, svc: Svc, who: Officer, key: Key = None) -> NotificationOut:
    client = svc.temporal()  # 503 before anything is recorded while the workflow engine starts
    occurrence = fresh_occurrence(key)
    envelope = Envelope(actor=who.actor, key=command_key("notification", notification_id, "retry", occurrence))
    message = await run_in_threadpool(handle, svc.app, notification_id, RetryDelivery(), envelope)
    assert isinstance(message, Notification)
    svc.wrote()
    try:
        await restart_delivery_workflow(client, notification_id, svc.task_queue, svc.app.policy)
    except Exception as error:  # queued all the same: the worker's relay (or the reconciler) starts it
        log.warning("delivery not started; the relay will", notification_id=str(notification_id), error=str(error))
    return _out(message)


def _out(message: Notification) -> NotificationOut:
    return NotificationOut.read_from(message, status=message.status.value, sent_at=None)
