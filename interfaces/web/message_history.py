"""A case's or a label's history with its messages: that the reminder was queued, went out (and when) or
failed, among the record's own events, in the order the log recorded them.

A message's events are its own aggregate's (Notification: Queued, Sent, Failed, Requeued); in a history
they read `MessageQueued`, `MessageSent`, ... (aggregate `Notification`), so that they never pass
for the record's own. What they show is what became of the message and whom it was for (`to`: the
secretariat, the cluster or an expert, with the expert's id): never its text (a label's message holds
its verification code), the accounts it reached, or the mail server's reply (which may quote an address).

Who sees which: the secretariat every message of the record; an expert who sees the record those
addressed to them; a cluster's contact those addressed to the cluster (never the secretariat's
reminders or an expert's offer).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any
from uuid import UUID

from clusterlabel.domain.label import Label
from clusterlabel.domain.notices import EXPERT, addressee
from clusterlabel.interfaces.web.auth import Principal
from clusterlabel.interfaces.web.common import history_events, reads_the_label_in_full
from clusterlabel.interfaces.web.inbox import recipients_of
from clusterlabel.interfaces.web.schemas import HistoryEvent
from clusterlabel.interfaces.web.services import Services
from clusterlabel.projections.audit_history import AuditEntry
from clusterlabel.projections.notifications import MessageEntry

MESSAGES_PER_RECORD = 1_000  # a case's or label's messages are a few dozen; this bounds a runaway loop
SHOWN_FIELDS = ("attempts", "channel")  # of a message's events, besides its kind and recipient


def case_events(
    svc: Services, case_id: UUID, who: Principal, team: Collection[UUID], reads_files: bool
) -> list[HistoryEvent]:
    """Blocking: the case's events as the caller may read them (as its `team` does, or as its cluster; the
    names of its files if it `reads_files`), with the events of the messages they may see, in log order.
    The caller must already be allowed to see the case (access.visible_case), or see every case."""
    team_cases, file_cases = [case_id] if who.expert_id in team else [], [case_id] if reads_files else []
    return _with_messages(svc, case_id, who, {"case_id": case_id}, team_cases, file_cases)


def label_events(svc: Services, label: Label, who: Principal) -> list[HistoryEvent]:
    """Blocking: the label's events and its messages' (its issue, the expiry reminders), as for a case;
    its appeal's words and its succession only if the caller reads them (common.reads_the_label_in_full).
    The caller must already be allowed to see the label (access.visible_label, which loaded `label`)."""
    full_labels = [label.id] if reads_the_label_in_full(who, label) else []
    return _with_messages(svc, label.id, who, {"label_id": label.id}, full_labels=full_labels)


def _with_messages(
    svc: Services,
    record_id: UUID,
    who: Principal,
    about: dict[str, UUID],
    team_cases: Collection[UUID] = (),
    file_cases: Collection[UUID] = (),
    full_labels: Collection[UUID] = (),
) -> list[HistoryEvent]:
    shown = {message.id: message for message in _shown_messages(svc, who, about)}
    entries = svc.models.history(record_id, *shown)  # one query of the audit view for the record and its messages
    records = [entry for entry in entries if entry.aggregate_id == record_id]
    own = history_events(records, who, team_cases, file_cases, full_labels)
    theirs = [_event(entry, shown[entry.aggregate_id]) for entry in entries if entry.aggregate_id in shown]
    return sorted([*own, *theirs], key=lambda event: event.seq)


def _shown_messages(svc: Services, who: Principal, about: dict[str, UUID]) -> list[MessageEntry]:
    """The messages about a case or a label (`about`: its case_id or label_id) that the caller may see."""
    messages = svc.models.messages(**about, limit=MESSAGES_PER_RECORD)
    theirs = set(recipients_of(who))
    return [message for message in messages if who.sees_everything or message.recipient in theirs]


def _event(entry: AuditEntry, message: MessageEntry) -> HistoryEvent:
    shown = {name: entry.data[name] for name in SHOWN_FIELDS if name in entry.data}
    return HistoryEvent.model_validate(
        {
            **entry.model_dump(exclude={"event_type", "data"}),
            "event_type": f"Message{entry.event_type}",
            "data": {**_about(message), **shown},
        }
    )


def _about(message: MessageEntry) -> dict[str, Any]:
    kind, record_id = addressee(message.recipient)
    about: dict[str, Any] = {"message_kind": message.kind, "to": kind}
    if kind == EXPERT:
        about["expert_id"] = str(record_id)
    return about
