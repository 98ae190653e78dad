"""Each signed-in person's inbox: the messages addressed to them, unread first, each linked to the page of
its case or label; opening one marks it read for that person alone.

Whose messages are whose: an expert's are those to `expert:<their expert id>`, a cluster contact's those to
`cluster:<their cluster id>`, and the secretariat's (officers, deciders, the appeals panel,
administrators) those to `secretariat`: a message names a role or a record, never a person, so every
officer reads the same team message, each with their own read state (inbox_reads.py). A message that is
not addressed to the caller answers 404, as an unknown id does.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import Field

from clusterlabel.activities.content.wording import MessageContent, page_of, render
from clusterlabel.domain.account import Role
from clusterlabel.domain.base import NotFound
from clusterlabel.domain.notices import APPEALS_PANEL, CLUSTER, DECIDERS, EXPERT, SECRETARIAT, recipient
from clusterlabel.domain.notification import Notification
from clusterlabel.interfaces.web.access import not_found
from clusterlabel.interfaces.web.auth import Caller, Principal
from clusterlabel.interfaces.web.common import ERRORS, Key
from clusterlabel.interfaces.web.inbox_reads import InboxReads
from clusterlabel.interfaces.web.people import ENGLISH
from clusterlabel.interfaces.web.schemas import Out
from clusterlabel.interfaces.web.services import Services, Svc
from clusterlabel.projections.notifications import MessageEntry

router = APIRouter(tags=["inbox"], responses=ERRORS)
MAX_PAGE = 200


class InboxMessage(Out):
    id: UUID
    kind: str = Field(description="what the message is: offer, deadline_reminder, label_issued, … (one per template)")
    subject: str
    body: str
    case_id: UUID | None = None
    label_id: UUID | None = None
    link: str | None = Field(description="the page where the reader acts on it, as its e-mail links it")
    queued_at: datetime
    read: bool


class Inbox(Out):
    unread: int = Field(description="messages to the caller not opened yet")
    total: int
    messages: list[InboxMessage] = Field(description="unread first, then the latest first")


class MessageText(Out):
    subject: str
    body: str
    link: str | None


def recipients_of(who: Principal) -> list[str]:
    """The recipients whose messages the caller reads."""
    names = [SECRETARIAT, DECIDERS, APPEALS_PANEL] if who.sees_everything else []  # the staff's, each once
    if who.is_expert and who.expert_id is not None:
        names.append(recipient(EXPERT, who.expert_id))
    if who.holds(Role.CLUSTER) and who.cluster_id is not None:
        names.append(recipient(CLUSTER, who.cluster_id))
    return names


def message_text(svc: Services, message_id: UUID, who: Principal) -> MessageText:
    """The subject and body as the reader sees them: worded as the mail was (activities/content), in the
    reader's language, with the page its mail links to (where the reader acts: an offer on their
    assignments, a complaint's reminder on the complaint)."""
    content = MessageContent.of(svc.app.load(message_id, Notification))
    person = svc.people.get(who.account_id) if who.account_id is not None else None
    worded = render(content, person.language if person else ENGLISH, svc.public_url)
    return MessageText(subject=worded.subject, body=worded.text, link=page_of(content, public_url=""))


def inbox_of(svc: Services, who: Principal, limit: int = 50, offset: int = 0) -> Inbox:
    """Blocking (the views and the side table): the caller's messages, unread first, one page of them."""
    svc.fresh()
    ids = svc.models.notifications.addressed_to(recipients_of(who))
    opened = svc.inbox().read_among(who.actor, ids)
    ordered = [i for i in ids if i not in opened] + [i for i in ids if i in opened]
    page = ordered[offset : offset + limit]
    entries = svc.models.notifications.entries(page)
    messages = [_message(svc, who, entries[i], i in opened) for i in page if i in entries]
    return Inbox(unread=len(ids) - len(opened), total=len(ids), messages=messages)


def unread_count(svc: Services, who: Principal) -> int:
    """Blocking: how many of the caller's messages are not opened yet (two counts, for every page's header)."""
    recipients = recipients_of(who)
    reads: InboxReads = svc.inbox()
    return max(0, svc.models.notifications.count_to(recipients) - reads.count_read(who.actor, recipients))


def open_message(svc: Services, who: Principal, notification_id: UUID) -> InboxMessage:
    """Blocking: the caller's message, marked read for them; 404 for one that is not theirs."""
    svc.fresh()
    entry = svc.models.notifications.entries([str(notification_id)]).get(str(notification_id))
    if entry is None or entry.recipient not in recipients_of(who):
        raise not_found("message", notification_id)
    svc.inbox().mark_read(who.actor, str(notification_id), entry.recipient)
    return _message(svc, who, entry, read=True)


def _message(svc: Services, who: Principal, entry: MessageEntry, read: bool) -> InboxMessage:
    try:
        text = message_text(svc, entry.id, who)
    except NotFound:  # the view holds it and the log does not: `clusterlabel verify` says more
        text = MessageText(subject="(this message is no longer in the event log)", body="", link=None)
    return InboxMessage.read_from(entry, subject=text.subject, body=text.body, link=text.link, read=read)


@router.get("/inbox", summary="The caller's messages, unread first")
def inbox(
    svc: Svc,
    who: Caller,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Inbox:
    return inbox_of(svc, who, limit, offset)


@router.post(
    "/inbox/{notification_id}/read",
    summary="Open one of the caller's messages: marked read for the caller (404 unless it is theirs)",
)
def read(notification_id: UUID, svc: Svc, who: Caller, key: Key = None) -> InboxMessage:
    return open_message(svc, who, notification_id)
