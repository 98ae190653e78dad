"""The outbox: a message queued with the step that calls for it, sent or failed once per round, queued
again only after failing; and the notices that name whom a message is for."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from uuid import UUID, uuid4

import pytest

from clusterlabel.activities.application import CertificationApp
from clusterlabel.activities.delivery import DeliveryActivities, Mailroom
from clusterlabel.activities.mail import Address, MaildirTransport, TokenBucket
from clusterlabel.activities.models import DeliveryOutcome
from clusterlabel.activities.outbox import delivery_key
from clusterlabel.domain import label_notices, notices
from clusterlabel.domain.base import NotFound, StepNotAllowed
from clusterlabel.domain.case_lifecycle import Outcome
from clusterlabel.domain.commands import (
    DecideAppeal,
    IssueLabel,
    LodgeAppeal,
    LodgeLabelAppeal,
    ProposeExpert,
    RecordDecision,
    Screen,
    SuspendLabel,
)
from clusterlabel.domain.notification import DeliveryStatus, Notification
from clusterlabel.domain.record_commands import RecordDeliveryFailure, RecordSent, RetryDelivery
from tests.builders import send
from tests.lifecycle import DECIDER, SECRETARIAT, Lifecycle, event_count, memory_app

DELIVERY = "system:delivery"


def sent(attempts: int = 1) -> RecordSent:
    return RecordSent(channel="email", recipients=["secretariat"], message_id="<m@clusterlabel>", attempts=attempts)


def failed(attempts: int = 10) -> RecordDeliveryFailure:
    return RecordDeliveryFailure(reason="421 Service not available", attempts=attempts)


@dataclass
class Offer:
    """The offer queued when an expert is proposed, and the application it lives in."""

    app: CertificationApp
    message_id: UUID

    def message(self) -> Notification:
        return self.app.load(self.message_id, Notification)

    def record(self, command: RecordSent | RecordDeliveryFailure, key: str | None = None) -> Notification:
        outcome = "sent" if isinstance(command, RecordSent) else "failed"
        chosen = key or delivery_key(self.message(), outcome)
        stored = send(self.app, self.message_id, command, actor=DELIVERY, command_key=chosen)
        assert isinstance(stored, Notification)
        return stored


@pytest.fixture
def offer() -> Offer:
    life = Lifecycle(memory_app())
    expert_id = life.expert()
    case_id = life.screened()
    send(life.app, case_id, ProposeExpert(expert_id=expert_id), actor="system", command_key="propose-1")
    return Offer(life.app, Notification.create_id(f"propose-1/notify/{notices.recipient(notices.EXPERT, expert_id)}"))


def test_a_proposal_queues_the_offer_to_the_expert_in_the_same_save(offer: Offer) -> None:
    message = offer.message()

    assert (message.status, message.kind, message.round, message.attempts) == (DeliveryStatus.QUEUED, "offer", 1, 0)
    assert notices.addressee(message.recipient)[0] == notices.EXPERT


def test_a_message_sent_is_sent_for_good_and_cannot_fail_afterwards(offer: Offer) -> None:
    message = offer.record(sent(attempts=3))
    assert (message.status, message.attempts) == (DeliveryStatus.SENT, 3)

    before = event_count(offer.app)
    with pytest.raises(StepNotAllowed, match="is sent"):
        offer.record(failed(), key="another-key")
    assert event_count(offer.app) == before


def test_a_delivery_retried_with_its_round_key_records_nothing_twice(offer: Offer) -> None:
    key = delivery_key(offer.message(), "sent")
    offer.record(sent(), key=key)
    before = event_count(offer.app)

    again = offer.record(sent(), key=key)

    assert event_count(offer.app) == before and again.attempts == 1


def test_only_a_failed_message_is_queued_again_and_its_next_round_records_under_a_new_key(offer: Offer) -> None:
    with pytest.raises(StepNotAllowed, match="only a failed message"):
        send(offer.app, offer.message_id, RetryDelivery(), actor=SECRETARIAT)
    first_round = delivery_key(offer.message(), "sent")

    offer.record(failed(attempts=10))
    send(offer.app, offer.message_id, RetryDelivery(), actor=SECRETARIAT)
    requeued = offer.message()
    assert (requeued.status, requeued.round) == (DeliveryStatus.QUEUED, 2)
    assert delivery_key(requeued, "sent") != first_round

    resent = offer.record(sent(attempts=1))
    assert (resent.status, resent.attempts) == (DeliveryStatus.SENT, 11)


def test_a_late_record_of_an_earlier_rounds_failure_records_nothing_once_the_message_is_queued_again(
    offer: Offer,
) -> None:
    activities = DeliveryActivities(
        offer.app,
        Mailroom(AddressBook(), MaildirTransport(Path("unused")), "", TokenBucket(1, 1), "http://clusterlabel.test"),
    )
    failure = DeliveryOutcome(notification_id=offer.message_id, status="failed", round=1, attempts=3, reply="421")
    activities.record_delivery(failure)
    send(offer.app, offer.message_id, RetryDelivery(), actor=SECRETARIAT)
    before = event_count(offer.app)

    again = activities.record_delivery(failure)  # the first record's answer was lost; Temporal retried it

    assert again == failure and event_count(offer.app) == before  # answered as the first time
    assert (offer.message().status, offer.message().round) == (DeliveryStatus.QUEUED, 2)


class AddressBook:
    def of(self, recipient: str) -> list[Address]:
        return []


def test_an_issued_label_tells_the_clusters_contacts_its_code() -> None:
    life = Lifecycle(memory_app())
    case_id = life.awarded()
    label_id = send(life.app, case_id, IssueLabel(), actor="system", command_key="issue-1").label_id
    assert label_id is not None
    label = life.app.get_label(label_id)

    message = life.app.load(Notification.create_id(f"issue-1/notify/cluster:{life.cluster_id}"), Notification)

    assert (message.kind, message.label_id, message.case_id) == ("label_issued", label_id, case_id)
    assert label.label_code in message.body


def told_the_cluster(life: Lifecycle, command_key: str) -> Notification:
    return life.app.load(Notification.create_id(f"{command_key}/notify/cluster:{life.cluster_id}"), Notification)


def test_a_refusal_tells_the_cluster_why_and_until_when_it_may_appeal() -> None:
    life = Lifecycle(memory_app())
    case_id = life.deciding()
    refusal = RecordDecision(outcome=Outcome.REFUSE, rationale="the strategy is not implemented")
    send(life.app, case_id, refusal, actor=DECIDER, command_key="refuse-1")
    appeal_due = life.app.get_case(case_id).deadlines["appeal"]

    message = told_the_cluster(life, "refuse-1")

    assert (message.kind, message.case_id, message.data["stage"]) == ("case_refused", case_id, "decision")
    assert "the strategy is not implemented" in message.body
    assert f"{appeal_due:%Y-%m-%d %H:%M:%S}" in message.body


def test_a_rejection_at_screening_tells_the_cluster_and_an_acceptance_tells_no_one() -> None:
    rejecting, accepting = Lifecycle(memory_app()), Lifecycle(memory_app())
    rejection, acceptance = Screen(accepted=False, reason="no annual report"), Screen(accepted=True, reason="complete")
    send(rejecting.app, rejecting.apply(), rejection, actor=SECRETARIAT, command_key="s-1")
    send(accepting.app, accepting.apply(), acceptance, actor=SECRETARIAT, command_key="s-1")

    assert told_the_cluster(rejecting, "s-1").data["stage"] == "screening"
    assert "no annual report" in told_the_cluster(rejecting, "s-1").body
    with pytest.raises(NotFound):
        told_the_cluster(accepting, "s-1")


def test_the_appeals_decision_reaches_the_cluster() -> None:
    life = Lifecycle(memory_app())
    case_id = life.deciding()
    send(life.app, case_id, RecordDecision(outcome=Outcome.REFUSE, rationale="gaps"), actor=DECIDER)
    send(life.app, case_id, LodgeAppeal(grounds="the evidence was misread"), actor=SECRETARIAT)
    send(
        life.app,
        case_id,
        DecideAppeal(upheld=False, rationale="read correctly"),
        actor="board:appeals",
        command_key="a-1",
    )

    message = told_the_cluster(life, "a-1")

    assert (message.kind, message.data["upheld"]) == ("appeal_decided", "no")
    assert "read correctly" in message.body


def told(life: Lifecycle, command_key: str, recipient: str = notices.SECRETARIAT) -> Notification:
    return life.app.load(Notification.create_id(f"{command_key}/notify/{recipient}"), Notification)


def test_an_appeal_lodged_tells_the_secretariat_with_its_appeals_panel_its_grounds() -> None:
    life = Lifecycle(memory_app())
    case_id = life.deciding()
    send(life.app, case_id, RecordDecision(outcome=Outcome.REFUSE, rationale="gaps"), actor=DECIDER)
    send(life.app, case_id, LodgeAppeal(grounds="the evidence was misread"), actor=SECRETARIAT, command_key="l-1")

    message = told(life, "l-1", notices.APPEALS_PANEL)

    assert (message.kind, message.case_id, message.data["against"]) == ("appeal_lodged", case_id, "refused")
    assert message.subject == f"Case {case_id}: appeal lodged against the refusal"
    assert "Grounds: the evidence was misread" in message.body


def test_an_appeal_against_a_labels_suspension_tells_the_secretariat_with_its_appeals_panel_its_grounds() -> None:
    life = Lifecycle(memory_app())
    _, label_id = life.labelled()
    send(life.app, label_id, SuspendLabel(reason="a complaint names the cluster"), actor=SECRETARIAT)
    grounds = LodgeLabelAppeal(grounds="the complaint is about another cluster")
    send(life.app, label_id, grounds, actor=notices.recipient(notices.CLUSTER, life.cluster_id), command_key="l-2")

    message = told(life, "l-2", notices.APPEALS_PANEL)

    code = life.app.get_label(label_id).label_code
    assert (message.kind, message.label_id, message.data["against"]) == ("label_appeal_lodged", label_id, "suspended")
    assert message.subject == f"Label {code}: appeal lodged against its suspension"
    assert "Grounds: the complaint is about another cluster" in message.body


def test_an_expiry_reminder_names_the_label_code_in_its_text() -> None:
    life = Lifecycle(memory_app())
    _, label_id = life.labelled()
    label = life.app.get_label(label_id)

    told = label_notices.expiry_reminders(label, "P30D")

    assert [notice.recipient for notice in told] == [f"cluster:{life.cluster_id}", "secretariat"]
    assert all(label.label_code in notice.body for notice in told)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("secretariat", ("secretariat", None)),
        ("expert:{id}", ("expert", "{id}")),
        ("cluster:{id}", ("cluster", "{id}")),
    ],
)
def test_a_recipient_names_the_secretariat_an_expert_or_a_cluster(name: str, expected: tuple[str, str | None]) -> None:
    record_id = uuid4()
    kind, found = notices.addressee(name.format(id=record_id))

    assert (kind, str(found) if found else None) == (expected[0], expected[1] and expected[1].format(id=record_id))


@pytest.mark.parametrize(
    "name", ["account:" + str(uuid4()), "expert:not-an-id", "everyone"], ids=["unknown-account", "bad-id", "no-kind"]
)
def test_a_recipient_that_names_nobody_known_is_refused(name: str) -> None:
    with pytest.raises(ValueError):
        notices.addressee(name)
