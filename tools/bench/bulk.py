"""Years of history written fast: the history store topped up to its size in batches, through the recorder.

A few whole Bronze lifecycles (TEMPLATES) run through CertificationApp's commands on an in-memory store;
each case's stored events (its cluster, case, invoice, label and messages) are then written again and
again under fresh ids, a batch of cases per transaction, straight through the event store's recorder.
In a copy every id of the case's own records is new (as the canonical and the hex form in the events'
JSON, and in the messages' text), and what the domain derives from the case's id is derived again: the
invoice's id and number, the label's code and, from it, the label's id; each label gets a new
verification code. The experts are the store's own (their ids derive from the same keys), shared by every copy as by
the lifecycles run one command at a time. Everything else is the bytes the application wrote.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from uuid import UUID, uuid5

from eventsourcing.persistence import Notification, StoredEvent

from clusterlabel.activities.application import CertificationApp
from clusterlabel.domain.base import Level
from clusterlabel.domain.invoice import invoice_id_for
from clusterlabel.domain.label_code import label_code_for, label_id_for
from clusterlabel.tools.bench.store import run_lifecycles

TEMPLATES = 50
CASES_PER_BATCH = 500
# On PostgreSQL, a batch goes as one statement (the recorder's insert function, an array of events) and not
# as psycopg's pipelined executemany: a pipeline of 8,500 events of 4 MB once hung for good, the server
# waiting to read more and the client waiting for the answer (psycopg issue 685 describes the same). SQLite
# ignores the setting.
ONE_STATEMENT_A_BATCH = {"POSTGRES_ENABLE_DB_FUNCTIONS": "y"}
INVOICE_NUMBER = re.compile(rb'"number":"(INV-\d{4}-[0-9A-F]{8})"')
CODES = re.compile(rb'"label_code":"([^"]+)","verification_code":"([^"]+)"')
TOPIC_INVOICE = "clusterlabel.domain.invoice:Invoice"


@dataclass(frozen=True)
class Template:
    """One case's stored events, and the strings in them that a copy replaces."""

    case_id: UUID
    events: list[StoredEvent]
    ids: list[UUID]  # every record the case created (the case's own among them)
    invoice: tuple[UUID, bytes] | None  # the invoice's id and number
    codes: tuple[bytes, bytes] | None  # the label's code and verification code

    def copy(self, number: int, verification_code: str) -> tuple[UUID, list[StoredEvent]]:
        """Copy `number`: the new case's id and its stored events."""
        new = {old: uuid5(old, str(number)) for old in self.ids}
        case_id = new[self.case_id]
        label_code = label_code_for(case_id, Level.BRONZE)
        if self.invoice is not None:
            new[self.invoice[0]] = invoice_id_for(case_id)
        if self.codes is not None:
            new[label_id_for(self.codes[0].decode())] = label_id_for(label_code)
        replace = {}
        for old, fresh in new.items():
            replace[str(old).encode()] = str(fresh).encode()
            replace[old.hex.encode()] = fresh.hex.encode()
        if self.invoice is not None:
            invoice_id, invoice_number = self.invoice
            replace[invoice_number] = invoice_number[:-8] + new[invoice_id].hex[:8].upper().encode()
        if self.codes is not None:
            replace[self.codes[0]] = label_code.encode()
            replace[self.codes[1]] = verification_code.encode()
        pattern = re.compile(b"|".join(re.escape(old) for old in sorted(replace, key=len, reverse=True)))

        def rewrite(state: bytes) -> bytes:
            return pattern.sub(lambda found: replace[found.group(0)], state)

        events = [
            StoredEvent(
                originator_id=new.get(_uuid(event.originator_id), event.originator_id),
                originator_version=event.originator_version,
                topic=event.topic,
                state=rewrite(event.state),
            )
            for event in self.events
        ]
        return case_id, events


def bulk_fill(env: Mapping[str, str], case_ids: list[UUID], total: int, batch: int = CASES_PER_BATCH) -> list[UUID]:
    """Top the store `env` holds up to `total` cases; every case id (those given first)."""
    if len(case_ids) >= total:
        return case_ids
    store = CertificationApp(env={**env, **ONE_STATEMENT_A_BATCH})
    templates = make_templates(min(TEMPLATES, total - len(case_ids)), first=len(case_ids))
    added: list[UUID] = []
    for chunk in _chunks(total - len(case_ids), batch):
        events: list[StoredEvent] = []
        for number in chunk:
            case_id, stored = templates[number % len(templates)].copy(number, store.new_verification_code())
            added.append(case_id)
            events += stored
        store.recorder.insert_events(events)
    return case_ids + added


def make_templates(count: int, first: int) -> list[Template]:
    """`count` cases run one command at a time on an in-memory store, numbered on from `first`."""
    app = CertificationApp(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    run_lifecycles(app, 0)  # the experts and their roster, before any case
    templates = []
    for n in range(first, first + count):
        head = app.recorder.max_notification_id() or 0
        (case_id,) = run_lifecycles(app, 1, first=n)
        notifications = app.recorder.select_notifications(start=head, limit=1000, inclusive_of_start=False)
        templates.append(_template(case_id, notifications))
    return templates


def _template(case_id: UUID, notifications: Sequence[Notification]) -> Template:
    events = [StoredEvent(n.originator_id, n.originator_version, n.topic, n.state) for n in notifications]
    ids = list(dict.fromkeys(_uuid(event.originator_id) for event in events))
    first_versions = {_uuid(event.originator_id) for event in events if event.originator_version == 1}
    if set(ids) != first_versions or case_id not in first_versions:
        raise RuntimeError("a template case's events touch a record it did not create")
    invoice = next(
        (
            (_uuid(e.originator_id), found.group(1))
            for e in events
            if e.topic.startswith(TOPIC_INVOICE) and (found := INVOICE_NUMBER.search(e.state))
        ),
        None,
    )
    codes = next(((found.group(1), found.group(2)) for e in events if (found := CODES.search(e.state))), None)
    return Template(case_id, events, ids, invoice, codes)


def _uuid(value: UUID | str) -> UUID:
    return value if isinstance(value, UUID) else UUID(value)


def _chunks(count: int, size: int) -> Iterator[range]:
    for start in range(0, count, size):
        yield range(start, min(start + size, count))
