"""Messages queued before templates (the golden records: Queued at version 1, without data) still decode
and still read: their stored English text, in any reader's language, as plain text and HTML, with a link
to what they are about."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import icalendar
import pytest

from clusterlabel.activities.content.calendar import invitation
from clusterlabel.activities.content.wording import MessageContent, render
from tests.golden.records import HISTORIES, replay_all

TEMPLATED = "notification-invitation"  # queued at version 2, with its template's data
MESSAGES = sorted(name for name in HISTORIES if name.startswith("notification-") and name != TEMPLATED)


@pytest.fixture(scope="module")
def replayed() -> dict[str, Any]:
    return replay_all()


@pytest.mark.parametrize("name", MESSAGES)
@pytest.mark.parametrize("language", ["en", "de"])
def test_a_message_queued_before_templates_reads_as_it_was_queued(
    replayed: dict[str, Any], name: str, language: str
) -> None:
    message = replayed[name]
    assert message.data == {}, "queued at version 1: the upcast gives it no data"

    worded = render(MessageContent.of(message), language, "https://labels.example")

    assert worded.subject == message.subject
    assert message.body in " ".join(worded.text.split()), "the plain text wraps its lines, nothing else"
    assert message.body in worded.html
    assert worded.link is not None and worded.link in worded.text and f'href="{worded.link}"' in worded.html


def test_an_old_offer_links_to_the_experts_assignments(replayed: dict[str, Any]) -> None:
    worded = render(MessageContent.of(replayed["notification-sent"]), "en", "https://labels.example/")

    assert worded.link == "https://labels.example/ui/assignments"


def test_a_stored_invitation_reads_from_its_template_with_its_calendar_event(replayed: dict[str, Any]) -> None:
    content = MessageContent.of(replayed[TEMPLATED])

    worded = render(content, "de", "https://labels.example")
    ics = invitation(content, "secretariat@esca.example", ["c@cluster.example"], datetime.now(UTC), "https://x")

    assert worded.subject.startswith("Einladung: Audit von Baltic Marine Cluster")
    assert ics is not None and str(icalendar.Calendar.from_ical(ics)["METHOD"]) == "REQUEST"
