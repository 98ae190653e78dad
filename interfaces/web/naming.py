"""How the pages name the people and instants they show: a person by name, never by UUID, and an
instant as a reader writes it ("12 March 2027, 14:05 UTC").

Events name their actor as the log has it (`account:<id>`, `expert:<id>`, `secretariat`,
`system:workflow`); the names are looked up here, off the event loop, before a page is rendered, so a
template only reads a dict. Experts are named from their records, accounts from the people beside the
log (interfaces/web/people.py), where an erased person reads "erased person".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from clusterlabel.domain.account import account_id_of
from clusterlabel.domain.base import NotFound
from clusterlabel.domain.complaint import Complaint
from clusterlabel.domain.label_lifecycle import IN_FORCE, LabelState, last_valid_day
from clusterlabel.domain.notices import APPEALS_PANEL, CLUSTER, COMPLAINANT, DECIDERS, EXPERT, addressee
from clusterlabel.interfaces.web.auth import MACHINE_ADMIN_ACTOR
from clusterlabel.interfaces.web.services import Services

MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
EXPERT_PREFIX = "expert:"
AUTOMATIC = "automatic step"  # the workflows' own acts (system:workflow), and any other system: actor
UNKNOWN_PERSON = "unknown person"
SECRETARIAT_NAME = "the secretariat"
_ROLE_NAMES = {DECIDERS: "the secretariat and its deciders", APPEALS_PANEL: "the secretariat and its appeals panel"}


def readable(at: object) -> str:
    """An instant in UTC as a reader writes it; the month by name (not the locale's), so every server
    prints the same. Anything else (a missing deadline) as given, or nothing."""
    if not isinstance(at, datetime):
        return str(at or "")
    utc = at.astimezone(UTC) if at.tzinfo else at
    return f"{utc.day} {MONTHS[utc.month - 1]} {utc.year}, {utc:%H:%M} UTC"


def readable_day(at: object) -> str:
    """A date without the time of day (an invoice's, a certification's end); an instant's in UTC."""
    if isinstance(at, datetime):
        at = at.astimezone(UTC) if at.tzinfo else at
    if not isinstance(at, date):
        return str(at or "")
    return f"{at.day} {MONTHS[at.month - 1]} {at.year}"


def readable_last_day(until: object) -> str:
    """The last day of a validity or window that ends at the instant `until` (label_lifecycle.last_valid_day)."""
    return readable_day(last_valid_day(until)) if isinstance(until, datetime) else readable_day(until)


def renewal_last_day(entry: Any) -> str:
    """The last day a listed label may be renewed, while its status still lets it be; a dash for one withdrawn,
    superseded or lapsed (its window closed), so that no reader takes a date for a chance to renew."""
    return readable_last_day(entry.renewable_until) if LabelState(entry.status) in IN_FORCE else "—"


def words(event_type: str) -> str:
    """An event's type as words: "ExpertProposed" reads "Expert proposed"."""
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", event_type)
    return spaced[:1] + spaced[1:].lower()


def expert_name(svc: Services, expert_id: UUID | str) -> str:
    try:
        return svc.app.get_expert(UUID(str(expert_id))).name
    except (NotFound, ValueError):
        return "unknown expert"


def cluster_name(svc: Services, cluster_id: UUID | str) -> str:
    try:
        return svc.app.get_cluster(UUID(str(cluster_id))).name
    except (NotFound, ValueError):
        return "unknown cluster"


def recipient_names(svc: Services, recipients: Iterable[str]) -> dict[str, str]:
    """The name of each message's recipient as the outbox has it (`expert:<id>`, `cluster:<id>`,
    `complainant:<complaint id>`, `secretariat`, `deciders`, `appeals-panel`: domain/notices.py), keyed by
    that text. A cluster's messages go to its contacts and a complainant's to the address they left, so
    they are named by whose they are. Blocking: call it in a worker thread."""
    return {recipient: _recipient_name(svc, recipient) for recipient in set(recipients)}


def _recipient_name(svc: Services, recipient: str) -> str:
    try:
        kind, record_id = addressee(recipient)
    except ValueError:  # no recipient the notices name: shown as the log has it
        return recipient
    if kind == EXPERT:
        return expert_name(svc, str(record_id))
    if kind == CLUSTER:
        return f"contacts of {cluster_name(svc, str(record_id))}"
    if kind == COMPLAINANT and record_id is not None:
        return _complainant(svc, record_id)
    return _ROLE_NAMES.get(kind, SECRETARIAT_NAME)


def _complainant(svc: Services, complaint_id: UUID) -> str:
    """A complainant has no name in the log (only an address beside it): named by what they complained about."""
    try:
        complaint = svc.app.load(complaint_id, Complaint)
    except NotFound:
        return "complainant"
    return f"complainant about {cluster_name(svc, complaint.cluster_id)}"


def names(
    svc: Services, actors: Iterable[str | None] = (), expert_ids: Iterable[UUID | str | None] = ()
) -> dict[str, str]:
    """The name of each actor and expert, keyed as a template meets them (the actor's text, the
    expert id's text). Blocking: call it in a worker thread."""
    found: dict[str, str] = {}
    accounts: dict[str, UUID] = {}
    for actor in {actor for actor in actors if actor}:
        account_id = account_id_of(actor)
        if account_id is not None:
            accounts[actor] = account_id
        else:
            found[actor] = _other_actor(svc, actor)
    people = svc.people.names(accounts.values())
    found.update({actor: people.get(account_id, UNKNOWN_PERSON) for actor, account_id in accounts.items()})
    for expert_id in {str(expert_id) for expert_id in expert_ids if expert_id}:
        found[expert_id] = expert_name(svc, expert_id)
    return found


def _other_actor(svc: Services, actor: str) -> str:
    if actor == MACHINE_ADMIN_ACTOR:
        return MACHINE_ADMIN_ACTOR
    if actor.startswith(EXPERT_PREFIX):  # an expert's token from before accounts
        return expert_name(svc, actor.removeprefix(EXPERT_PREFIX))
    if actor.startswith("system"):
        return AUTOMATIC
    return actor


def event_names(svc: Services, events: Iterable[Any], expert_ids: Iterable[UUID | str | None] = ()) -> dict[str, str]:
    """The names a timeline shows: each event's actor and the expert it is about, and `expert_ids`."""
    listed = list(events)
    about = [event.data.get("expert_id") for event in listed]
    return names(svc, (event.actor for event in listed), [*about, *expert_ids])
