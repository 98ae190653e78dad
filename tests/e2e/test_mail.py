"""The mail contract on the real engine, with CLUSTERLABEL_SMTP_URL pointing at a real SMTP server (aiosmtpd):
the proposed expert is offered the case, every contact of an awarded cluster learns the label's code, and
is reminded before the label expires (validity PT50S, a reminder PT35S before); then the server is down
for a while (CLUSTERLABEL_OUTAGE_SECONDS, 8 by default, 120 under `make soak`) and, once it is back,
every message queued has arrived, none twice.

One story runs once for the module (about a minute and a half: the reminder comes a minute after the
award); each test checks one clause of the contract on what it recorded.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.e2e.driver import Secretariat
from tests.e2e.engine import HOUR_POLICY, RunningEngine, eventually, running_engine
from tests.mailserver import MailServer, Received

OUTAGE_SECONDS = float(os.environ.get("CLUSTERLABEL_OUTAGE_SECONDS", "8"))
MAIL_POLICY = {
    **HOUR_POLICY,
    # The reminder comes 15 s after the label, well before it expires (the story waits for it).
    "label_validity": "PT50S",
    "expiry_reminders": ["PT35S"],
    "delivery_attempts": 10,  # tries 1, 2, 4 ... 100 s apart: over five minutes, longer than any outage here
    "delivery_backoff": "PT1S",
}
SECRETARIAT = "secretariat@esca.example"


@dataclass
class Story:
    engine: RunningEngine
    server: MailServer
    expert_email: str
    contacts: list[str]
    case_id: str
    label: dict[str, Any]
    reminded: Received
    during_outage: list[dict[str, Any]]  # the messages queued while the server was down
    messages: list[dict[str, Any]]  # GET /notifications once the server was back


def messages(secretariat: Secretariat, **filters: Any) -> list[dict[str, Any]]:
    return list(secretariat.expect(secretariat.api.get("/notifications", params={"limit": 500, **filters}), 200))


def arrived(server: MailServer, to: str, text: str, timeout: float = 30.0) -> Received:
    """The first message received for `to` whose body holds `text`."""

    def found() -> Received | None:
        return next((mail for mail in server.received if to in mail.to and text in mail.body), None)

    return eventually(found, timeout, f"a message to {to} holding {text!r}")


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Story]:
    with MailServer() as server:
        env = {
            "CLUSTERLABEL_SMTP_URL": server.url(),
            "CLUSTERLABEL_MAIL_FROM": "ECEI Secretariat <noreply@esca.example>",
            "CLUSTERLABEL_SECRETARIAT_EMAIL": SECRETARIAT,
        }
        with running_engine(tmp_path_factory.mktemp("mail") / "data", MAIL_POLICY, env=env) as engine:
            yield tell_the_story(engine, server)


AUDIT_DAYS = ("2027-03-01T09:00:00+00:00", "2027-03-08T09:00:00+00:00")


def tell_the_story(engine: RunningEngine, server: MailServer) -> Story:
    secretariat = Secretariat(engine)
    expert_email = "anna.berg@experts.example.org"
    secretariat.expert(name="Anna Berg", email=expert_email)
    cluster_id = secretariat.cluster(name="Baltic Marine Cluster")
    contacts = [secretariat.contact_email(cluster_id, name) for name in ("Clara Contact", "Carl Contact")]
    case_id = secretariat.apply(cluster_id)
    secretariat.screen(case_id)
    (_, expert), *_ = secretariat.staff(case_id, 1)
    for day in AUDIT_DAYS:  # the invitation, then its update
        secretariat.expect(secretariat.api.post(f"/cases/{case_id}/audit-date", json={"audit_date": day}), 200)
    secretariat.assess(case_id, expert, "bronze")
    secretariat.decide(case_id)
    label_id = secretariat.wait_for(case_id, "the label", lambda case: case["label_id"])["label_id"]
    label = secretariat.label(label_id)
    reminded = arrived(server, contacts[0], "can be renewed until", timeout=150)  # the expiry reminder

    during_outage = outage(secretariat, server)
    eventually(lambda: not messages(secretariat, status="queued"), 300 + OUTAGE_SECONDS, "every message sent")
    return Story(engine, server, expert_email, contacts, case_id, label, reminded, during_outage, messages(secretariat))


def outage(secretariat: Secretariat, server: MailServer) -> list[dict[str, Any]]:
    """Stop the server, queue messages (an offer to the expert, who declines, so the secretariat is told
    nobody is left), wait, and start it again on the same port; the messages queued meanwhile."""
    before = {message["id"] for message in messages(secretariat)}
    server.stop()
    stopped = time.monotonic()
    cluster_id = secretariat.cluster(name="Nordic Food Cluster", country="SE")
    secretariat.contact_email(cluster_id, "Nina Contact")
    case_id = secretariat.apply(cluster_id)
    secretariat.screen(case_id)
    _, expert = secretariat.proposed_expert(case_id)
    secretariat.expect(expert.post(f"/cases/{case_id}/assignment", json={"accept": False, "reason": "busy"}), 200)

    def queued() -> list[dict[str, Any]] | None:
        new = [message for message in messages(secretariat) if message["id"] not in before]
        return new if "escalation" in {message["kind"] for message in new} else None

    found = eventually(queued, 30, "the offer and the escalation")
    time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - stopped)))
    server.start()
    return found


def test_the_proposed_expert_receives_a_message_naming_the_case(story: Story) -> None:
    offer = arrived(story.server, story.expert_email, story.case_id)

    assert offer.mail["From"] == "ECEI Secretariat <noreply@esca.example>"


def test_the_audit_invitation_and_its_update_reach_the_expert_and_every_contact_with_their_calendar_entry(
    story: Story,
) -> None:
    for to in [story.expert_email, *story.contacts]:
        for words, sequence in (("takes place on", "SEQUENCE:0"), ("has moved", "SEQUENCE:2")):
            mail = arrived(story.server, to, words)
            (calendar,) = [part for part in mail.mail.walk() if part.get_content_type() == "text/calendar"]
            assert sequence in calendar.get_content() and "METHOD:REQUEST" in calendar.get_content()


def test_every_contact_of_the_awarded_cluster_receives_the_label_code(story: Story) -> None:
    code = story.label["label_code"]
    assert code.startswith("ECEI-B-")

    for contact in story.contacts:
        assert arrived(story.server, contact, code)


def test_every_contact_is_reminded_of_the_label_code_before_the_label_expires(story: Story) -> None:
    valid_until = datetime.fromisoformat(story.label["valid_until"])

    assert set(story.contacts) <= set(story.reminded.to)
    assert story.label["label_code"] in story.reminded.body
    assert datetime.fromtimestamp(story.reminded.at, UTC) < valid_until


def test_after_an_outage_every_message_queued_arrives_and_none_twice(story: Story) -> None:
    message_ids = [mail.message_id for mail in story.server.received]

    assert len(message_ids) == len(set(message_ids)), "a Message-ID arrived twice"
    assert {message["status"] for message in story.messages} == {"sent"}
    assert set(message_ids) == {f"<{message['id']}@clusterlabel>" for message in story.messages}
    now = {message["id"]: message for message in story.messages}
    assert {message["kind"] for message in story.during_outage} >= {"offer", "escalation"}
    assert all(now[message["id"]]["attempts"] > 1 for message in story.during_outage), "tried while it was down"
