"""An audit's date as a calendar invitation (RFC 5545, with RFC 5546's methods): attached to the messages
that invite the team and the cluster, update them when the date moves and cancel it when the case is
withdrawn.

Calendars recognise an event by its UID and keep the version with the highest SEQUENCE: the UID derives
from the case (one audit per case, whatever its date), the sequence counts how often the date was set,
and a cancellation comes one after the last invitation.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from email.utils import parseaddr
from uuid import UUID

from icalendar import Calendar, Event, vCalAddress, vText

from clusterlabel.activities.content.wording import LEVEL_NAMES, N_, MessageContent, page_of, translations
from clusterlabel.domain.durations import Duration

PRODUCT = "-//ECEI cluster labels//clusterlabel//EN"
# Which message carries which method, and the event's status in it.
METHODS = {"audit_invitation": ("REQUEST", "CONFIRMED"), "audit_cancelled": ("CANCEL", "CANCELLED")}
# How long the audit takes, by level (DOMAIN.md: a Bronze interview of about three hours, a Silver half
# day on site, a Gold visit of two days): what the calendars block out.
AUDIT_LENGTH = {"bronze": timedelta(hours=3), "silver": timedelta(hours=4), "gold": timedelta(days=2)}
SUMMARY = N_("%(level)s audit of %(cluster)s")


def _end(start: datetime, level: str, duration: str | None) -> datetime:
    """The visit's own duration when it was scheduled with one; else the usual length of its level's audit."""
    if duration:
        return Duration.parse(duration).after(start)
    return start + AUDIT_LENGTH.get(level, AUDIT_LENGTH["bronze"])


def audit_uid(case_id: str | UUID) -> str:
    """The one identity of a case's audit in every calendar it reaches."""
    return f"audit-{case_id}@clusterlabel"


def method_of(content: MessageContent) -> str | None:
    """REQUEST or CANCEL for a message about an audit's date (queued with its data), else None."""
    known = METHODS.get(content.kind)
    return known[0] if known and content.data else None


def invitation(
    content: MessageContent,
    organizer: str,
    attendees: Sequence[str],
    stamp: datetime,
    public_url: str,
    language: str = "en",
) -> bytes | None:
    """The .ics of an audit's invitation, update or cancellation (None for any other message):
    organised by the sender (`Name <address>`), for the addresses the message goes to."""
    method = method_of(content)
    if method is None:
        return None
    data = content.data
    gettext = translations(language).gettext
    level = data["level"]
    start = datetime.fromisoformat(data["audit_date"])
    event = Event()
    event.add("uid", audit_uid(data["case_id"]))
    event.add("sequence", int(data["sequence"]))
    event.add("dtstamp", stamp)
    event.add("dtstart", start)
    event.add("dtend", _end(start, level, data.get("duration")))
    if data.get("place"):
        event.add("location", data["place"])
    event.add(
        "summary", gettext(SUMMARY) % {"level": gettext(LEVEL_NAMES.get(level, level)), "cluster": data["cluster_name"]}
    )
    event.add("status", METHODS[content.kind][1])
    link = page_of(content, public_url)
    if link:
        event.add("url", link)
        event.add("description", link)
    event.add("organizer", _address(organizer, role=None))
    for attendee in attendees:
        event.add("attendee", _address(attendee, role="REQ-PARTICIPANT"), encode=False)
    calendar = Calendar()
    calendar.add("prodid", PRODUCT)
    calendar.add("version", "2.0")
    calendar.add("method", method)
    calendar.add_component(event)
    return calendar.to_ical()  # folded at 75 octets, lines ending in CRLF, as RFC 5545 §3.1 asks


def _address(value: str, role: str | None) -> vCalAddress:
    name, address = parseaddr(value)
    who = vCalAddress(f"mailto:{address or value}")
    if name:
        who.params["CN"] = vText(name)
    if role:
        # RSVP=FALSE: nobody reads the replies; the team answers the secretariat on the case's page.
        who.params.update(ROLE=role, PARTSTAT="NEEDS-ACTION", RSVP="FALSE")
    return who
