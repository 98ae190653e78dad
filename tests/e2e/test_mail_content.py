"""What the messages say, as the real engine sends them to a real SMTP server (aiosmtpd): each one plain
text and HTML with a link to the page where its reader acts, built on CLUSTERLABEL_PUBLIC_URL; a contact
who chose German reads German; an audit's date arrives as a calendar invitation, moved as an update of
the same event and cancelled when the case is withdrawn. The HTML of a message, opened in headless
Chromium, is kept as a screenshot (tests/artifacts/mail-label-issued-de.png).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import icalendar
import pytest

from tests.e2e import browser as chromium
from tests.e2e.driver import Secretariat
from tests.e2e.engine import ARTIFACTS, HOUR_POLICY, RunningEngine, eventually, running_engine
from tests.mailserver import MailServer, Received

PUBLIC_URL = "https://labels.example.org"
FIRST, MOVED = "2027-03-01T09:00:00Z", "2027-03-08T09:00:00Z"
CONTENT_POLICY = {**HOUR_POLICY, "audit_deadline": "P1000D"}  # the audit dates above fall before it
OFFER_SUBJECT = "You are offered a benchmarking assignment"


@dataclass
class Contact:
    client: httpx.Client
    account_id: str
    email: str


@dataclass
class Cluster:
    cluster_id: str
    clara: Contact  # reads English, as everyone who chose no language
    dieter: Contact  # chose German


@dataclass
class Story:
    engine: RunningEngine
    server: MailServer
    secretariat: Secretariat
    expert_email: str
    awarded: Cluster  # its case ran from the application to the label
    label_code: str
    withdrawn: Cluster  # its case had its audit scheduled, moved, and was withdrawn
    withdrawn_case_id: str


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Story]:
    with MailServer() as server:
        env = {
            "CLUSTERLABEL_SMTP_URL": server.url(),
            "CLUSTERLABEL_MAIL_FROM": "ECEI Secretariat <noreply@esca.example>",
            "CLUSTERLABEL_SECRETARIAT_EMAIL": "secretariat@esca.example",
            "CLUSTERLABEL_PUBLIC_URL": PUBLIC_URL,
        }
        with running_engine(tmp_path_factory.mktemp("content") / "data", CONTENT_POLICY, env=env) as engine:
            yield tell_the_story(engine, server)


def tell_the_story(engine: RunningEngine, server: MailServer) -> Story:
    secretariat = Secretariat(engine)
    expert_email = "anna.berg@experts.example.org"
    secretariat.expert(name="Anna Berg", email=expert_email)
    awarded = cluster_with_contacts(secretariat, "Baltic Marine Cluster")
    label_id = secretariat.award(secretariat.apply(awarded.cluster_id))
    withdrawn = cluster_with_contacts(secretariat, "Nordic Food Cluster")
    case_id = secretariat.apply(withdrawn.cluster_id)
    secretariat.screen(case_id)
    secretariat.staff(case_id)
    for when in (FIRST, MOVED):
        secretariat.expect(
            secretariat.api.post(f"/cases/{case_id}/audit-date", json={"audit_date": when, "place": "Riga"}), 200
        )
    secretariat.expect(secretariat.api.post(f"/cases/{case_id}/withdrawal", json={"reason": "called off"}), 200)
    code = secretariat.label(label_id)["label_code"]
    return Story(engine, server, secretariat, expert_email, awarded, code, withdrawn, case_id)


def cluster_with_contacts(secretariat: Secretariat, name: str) -> Cluster:
    """A cluster with two contacts, the second of whom chose German for their messages."""
    cluster_id = secretariat.cluster(name=name)
    found = []
    for person in ("Clara Contact", "Dieter Kontakt"):
        client = secretariat.contact(cluster_id, person)
        me = secretariat.expect(client.get("/me"), 200)
        found.append(Contact(client, me["account_id"], me["email"]))
    clara, dieter = found
    answer = dieter.client.post(f"/accounts/{dieter.account_id}/language", json={"language": "de"})
    assert secretariat.expect(answer, 200)["language"] == "de"
    return Cluster(cluster_id, clara, dieter)


def arrived(server: MailServer, to: str, matches: Callable[[Received], bool], what: str) -> Received:
    return eventually(lambda: next((m for m in server.received if to in m.to and matches(m)), None), 60, what)


def test_a_person_chooses_a_language_the_messages_are_written_in_and_no_other(story: Story) -> None:
    clara = story.awarded.clara
    refused = clara.client.post(f"/accounts/{clara.account_id}/language", json={"language": "tlh"})

    assert refused.status_code == 422 and "messages are written in en, de" in refused.text
    assert story.secretariat.expect(clara.client.get("/me"), 200)["language"] == "en"


def test_the_lifecycles_messages_arrive_as_text_and_html_linking_to_the_page_where_the_reader_acts(
    story: Story,
) -> None:
    code, clara = story.label_code, story.awarded.clara
    offer = arrived(story.server, story.expert_email, lambda m: m.mail["Subject"] == OFFER_SUBJECT, "the offer")
    issued = arrived(story.server, clara.email, lambda m: code in m.body, "the label's message")

    for mail, link in [(offer, f"{PUBLIC_URL}/ui/assignments"), (issued, f"{PUBLIC_URL}/ui/labels/{code}")]:
        assert mail.mail.get_content_type() == "multipart/alternative"
        assert link in mail.body and f'href="{link}"' in (mail.html or "")
    assert issued.mail["Subject"] == f"Your Bronze label {code}"
    assert story.awarded.dieter.email not in issued.to, "the German reader gets a copy of their own"


def test_a_contact_who_chose_german_reads_the_label_message_in_german(story: Story) -> None:
    german = arrived(
        story.server, story.awarded.dieter.email, lambda m: story.label_code in m.body, "the German message"
    )

    assert german.mail["Subject"] == f"Ihr Bronze-Label {story.label_code}"
    assert german.mail["Content-Language"] == "de" and german.message_id.endswith(".de@clusterlabel>")
    assert "Herzlichen Glückwunsch" in german.body and "Label ansehen" in (german.html or "")
    english_id = german.message_id.replace(".de@", "@")
    assert english_id in {mail.message_id for mail in story.server.received}, "the same message, in English"
    if chromium.available() or os.environ.get("CI") == "true":
        screenshot(german, "mail-label-issued-de.png")


def test_scheduling_moving_and_withdrawing_send_request_update_and_cancel_of_one_event(story: Story) -> None:
    case_id = story.withdrawn_case_id
    readers = (story.expert_email, story.withdrawn.clara.email, story.withdrawn.dieter.email)

    for reader in readers:
        events = [event_of(mail) for mail in invitations(story.server, reader, case_id, 3)]
        assert [(method, int(event["SEQUENCE"])) for method, event in events] == [
            ("REQUEST", 0),
            ("REQUEST", 2),  # invitations take the even numbers, so that one after a cancellation outranks it
            ("CANCEL", 3),
        ]
        assert {str(event["UID"]) for _, event in events} == {f"audit-{case_id}@clusterlabel"}
        assert [event.decoded("DTSTART") for _, event in events][:2] == [
            datetime(2027, 3, 1, 9, tzinfo=UTC),
            datetime(2027, 3, 8, 9, tzinfo=UTC),
        ]


def invitations(server: MailServer, reader: str, case_id: str, count: int) -> list[Received]:
    def found() -> list[Received] | None:
        mails = [m for m in server.received if reader in m.to and m.calendar and case_id.encode() in m.calendar]
        return mails if len(mails) >= count else None

    return sorted(
        eventually(found, 60, f"{count} invitations to {reader}"), key=lambda m: int(event_of(m)[1]["SEQUENCE"])
    )


def event_of(mail: Received) -> tuple[str, Any]:
    assert mail.calendar is not None
    calendar = icalendar.Calendar.from_ical(mail.calendar)
    (event,) = calendar.walk("VEVENT")
    return str(calendar["METHOD"]), event


def screenshot(mail: Received, name: str) -> None:
    """The HTML part as a mail reader shows it, opened from a file in headless Chromium."""
    page = ARTIFACTS / name.replace(".png", ".html")
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(mail.html or "", encoding="utf-8")
    with chromium.headless_chromium() as browser:
        browser.go(page.as_uri())
        assert "Herzlichen Glückwunsch" in browser.text("body")
        browser.screenshot(ARTIFACTS / name)
