"""A complaint: received → acknowledged → investigating → closed with an outcome; every step out of turn
refused with nothing recorded; its deadlines reminded and escalated; the complainant told (ISO/IEC 17065
§7.13)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest

from clusterlabel.activities.application import CertificationApp
from clusterlabel.activities.content.wording import MessageContent, render
from clusterlabel.activities.handlers import handle
from clusterlabel.domain.base import ImpartialityViolation, InvalidInput, StepNotAllowed
from clusterlabel.domain.command_base import Envelope
from clusterlabel.domain.commands import COMMANDS, WithdrawLabel
from clusterlabel.domain.complaint import Complaint, ComplaintOutcome, ComplaintState
from clusterlabel.domain.complaint_commands import (
    AcknowledgeComplaint,
    CloseComplaint,
    EscalateComplaint,
    LodgeComplaint,
    RemindComplaint,
    StartInvestigation,
)
from clusterlabel.domain.notification import Notification
from clusterlabel.domain.policy import default_policy
from tests.lifecycle import DECIDER, SECRETARIAT, Lifecycle
from tests.lifecycle import memory_app as lifecycle_app

LODGED = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
POLICY = default_policy()
CLOSED = LODGED + timedelta(days=9)
Step = Callable[[Complaint], None]


def lodged(label: bool = True) -> Complaint:
    complaint = Complaint.lodge(
        "ECEI-B-AAAA-BBBB-CCCC",
        uuid4(),
        uuid4() if label else None,
        "The cluster shows a label it does not hold.",
        LODGED,
        POLICY,
        "public",
        "lodge-1",
    )
    complaint.collect_events()
    return complaint


def acknowledge(complaint: Complaint) -> None:
    complaint.acknowledge(LODGED + timedelta(days=1), POLICY, "account:officer", f"ack-{uuid4()}")


def investigate(complaint: Complaint) -> None:
    complaint.start_investigation(
        Envelope(actor="account:officer", key=f"inv-{uuid4()}", at=LODGED + timedelta(days=2))
    )


def close(complaint: Complaint, outcome: ComplaintOutcome = ComplaintOutcome.UPHELD) -> None:
    complaint.close(
        outcome, "The label was shown after it expired.", Envelope(actor="o", key=f"c-{uuid4()}", at=CLOSED)
    )


def given(*steps: Step, label: bool = True) -> Complaint:
    complaint = lodged(label)
    for step in steps:
        step(complaint)
    complaint.collect_events()
    return complaint


def recorded(complaint: Complaint, step: Step) -> list[str]:
    step(complaint)
    return [type(event).__name__ for event in complaint.collect_events()]


def test_a_lodged_complaint_is_received_and_due_for_acknowledgement_within_the_policy_deadline() -> None:
    complaint = lodged()
    assert complaint.state is ComplaintState.RECEIVED
    assert complaint.deadlines["acknowledgement"] == LODGED + timedelta(days=7)


def test_a_complaint_goes_from_received_to_closed_one_step_at_a_time() -> None:
    complaint = given()
    assert recorded(complaint, acknowledge) == ["Acknowledged"]
    assert complaint.state is ComplaintState.ACKNOWLEDGED
    assert complaint.deadlines["investigation"] == LODGED + timedelta(days=1 + 60)
    assert recorded(complaint, investigate) == ["InvestigationStarted"]
    assert recorded(complaint, close) == ["Closed"]
    assert (complaint.state, complaint.outcome) == (ComplaintState.CLOSED, ComplaintOutcome.UPHELD)
    assert not complaint.is_open


@pytest.mark.parametrize(
    ("before", "step", "refusal"),
    [
        ((), investigate, "cannot start the investigation: the complaint is received, not acknowledged"),
        ((), close, "cannot close the complaint: the complaint is received, not investigating"),
        ((acknowledge,), acknowledge, "cannot acknowledge the complaint: the complaint is acknowledged"),
        ((acknowledge,), close, "the complaint is acknowledged, not investigating"),
        ((acknowledge, investigate), investigate, "the complaint is investigating, not acknowledged"),
        ((acknowledge, investigate, close), close, "the complaint is closed, not investigating"),
        ((acknowledge, investigate, close), acknowledge, "the complaint is closed, not received"),
    ],
)
def test_every_step_out_of_turn_is_refused_and_records_nothing(
    before: tuple[Step, ...], step: Step, refusal: str
) -> None:
    complaint = given(*before)
    version = complaint.version
    with pytest.raises(StepNotAllowed, match=refusal):
        step(complaint)
    assert complaint.collect_events() == [] and complaint.version == version


def test_a_closed_complaint_is_escalated_no_more() -> None:
    complaint = given(acknowledge, investigate, close)
    with pytest.raises(StepNotAllowed, match="cannot escalate the complaint: the complaint is closed"):
        complaint.escalate("late", LODGED, "system:workflow", "late")
    assert complaint.collect_events() == []


def test_the_outcome_suspend_needs_a_complaint_about_a_label() -> None:
    complaint = given(acknowledge, investigate, label=False)
    with pytest.raises(InvalidInput, match="the outcome suspend needs a label"):
        close(complaint, ComplaintOutcome.SUSPEND)
    assert complaint.collect_events() == [] and complaint.state is ComplaintState.INVESTIGATING


def test_reminders_come_before_the_current_deadline_and_move_on_with_the_step() -> None:
    policy = POLICY.with_overrides({"deadline_reminders": ["P2D"]})
    complaint = given()
    due = complaint.deadlines["acknowledgement"]
    assert [(a.kind, a.step, a.at) for a in complaint.alarms(policy)] == [
        ("reminder", "acknowledgement", due - timedelta(days=2)),
        ("deadline", "acknowledgement", due),
    ]
    acknowledge(complaint)
    assert {alarm.step for alarm in complaint.alarms(policy)} == {"investigation"}
    investigate(complaint)
    close(complaint)
    assert complaint.alarms(policy) == []


def test_a_reminder_as_early_as_the_deadlines_whole_span_is_none() -> None:
    """The default policy reminds 7 days ahead, and a complaint is acknowledged within 7 days: that reminder
    would go out as the complaint is lodged, beside the message that it was; the investigation's has one."""
    complaint = given()
    assert [alarm.kind for alarm in complaint.alarms(POLICY)] == ["deadline"]
    acknowledge(complaint)
    due = complaint.deadlines["investigation"]
    assert [(a.kind, a.at) for a in complaint.alarms(POLICY)] == [
        ("reminder", due - timedelta(days=7)),
        ("deadline", due),
    ]


# ---- through the handlers: one save with its messages, once per key ---------------------------------


def memory_app() -> CertificationApp:
    return CertificationApp(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=lambda: LODGED)


def app_events(app: CertificationApp) -> list[Any]:
    return [app.mapper.to_domain_event(stored) for stored in app.recorder.select_notifications(start=1, limit=1000)]


def queued(app: CertificationApp) -> list[tuple[str, str]]:
    return [(event.recipient, event.kind) for event in app_events(app) if type(event).__name__ == "Queued"]


def test_the_secretariat_hears_of_a_complaint_and_the_complainant_of_its_receipt_and_outcome() -> None:
    app = memory_app()
    complaint_id = Complaint.create_id("http:complaint:k1")
    lodge = LodgeComplaint(about="ECEI-B-AAAA-BBBB-CCCC", text="Fake label shown.", cluster_id=uuid4())
    handle(app, complaint_id, lodge, Envelope(actor="public", key="http:complaint:k1"))
    handle(app, complaint_id, lodge, Envelope(actor="public", key="http:complaint:k1"))  # a retry records nothing
    for number, command in enumerate((AcknowledgeComplaint(), StartInvestigation())):
        handle(app, complaint_id, command, Envelope(actor="account:o", key=f"step-{number}"))
    closing = CloseComplaint(outcome=ComplaintOutcome.DISMISSED, finding="The label is genuine and valid.")
    handle(app, complaint_id, closing, Envelope(actor="account:o", key="close"))

    complainant = f"complainant:{complaint_id}"
    assert queued(app) == [
        ("secretariat", "complaint_lodged"),
        (complainant, "complaint_acknowledged"),
        (complainant, "complaint_outcome"),
    ]
    assert app.load(complaint_id, Complaint).version == 4


def test_an_escalation_is_recorded_on_the_complaint_and_told_to_the_secretariat() -> None:
    app = memory_app()
    complaint_id = Complaint.create_id("http:complaint:k2")
    lodge = LodgeComplaint(about="some cluster", text="Misleading claims.", cluster_id=uuid4())
    handle(app, complaint_id, lodge, Envelope(actor="public", key="http:complaint:k2"))
    handle(app, complaint_id, EscalateComplaint(reason="overdue"), Envelope(actor="system:workflow", key="late"))

    assert app.load(complaint_id, Complaint).escalations == ["overdue"]
    assert queued(app)[-1] == ("secretariat", "complaint_escalation")


def test_the_secretariat_s_reminders_and_escalations_of_a_complaint_link_to_the_complaint_s_page() -> None:
    app = memory_app()
    complaint_id = Complaint.create_id("http:complaint:k4")
    lodge = LodgeComplaint(about="some cluster", text="Misleading claims.", cluster_id=uuid4(), label_id=uuid4())
    lodged_at = datetime(2026, 3, 2, 9, tzinfo=UTC)
    handle(app, complaint_id, lodge, Envelope(actor="public", key="http:complaint:k4", at=lodged_at))
    due = app.load(complaint_id, Complaint).deadlines["acknowledgement"]
    remind = RemindComplaint(step="acknowledgement", offset="P7D", due=due)
    handle(app, complaint_id, remind, Envelope(actor="system:workflow", key="remind", at=lodged_at))
    handle(
        app, complaint_id, EscalateComplaint(reason="overdue"), Envelope(actor="system:workflow", key="late", at=due)
    )

    messages = [event for event in app_events(app) if type(event).__name__ == "Queued"]
    assert [message.kind for message in messages] == ["complaint_lodged", "complaint_reminder", "complaint_escalation"]
    for message in messages:
        worded = render(MessageContent.of(app.load(message.originator_id, Notification)), "en", "https://labels.test")
        assert worded.link == f"https://labels.test/ui/complaints/{complaint_id}"
        assert worded.link in worded.text


def test_whoever_audited_a_clusters_case_stays_involved_in_a_complaint_about_it_after_its_label_ends() -> None:
    life = Lifecycle(lifecycle_app())
    case_id, label_id = life.labelled()
    auditor = f"expert:{life.app.get_case(case_id).expert_ids[0]}"
    complaint_id = Complaint.create_id("http:complaint:k4")
    lodge = LodgeComplaint(about=str(life.cluster_id), text="Unfair.", cluster_id=life.cluster_id)
    handle(life.app, complaint_id, lodge, Envelope(actor="public", key="http:complaint:k4"))
    handle(life.app, complaint_id, AcknowledgeComplaint(), Envelope(actor=SECRETARIAT, key="ack"))
    handle(life.app, label_id, WithdrawLabel(reason="Misused."), Envelope(actor=SECRETARIAT, key="withdraw"))

    with pytest.raises(ImpartialityViolation, match="took part in the audit"):
        handle(life.app, complaint_id, StartInvestigation(), Envelope(actor=auditor, key="inv-by-auditor"))


def test_the_complaint_commands_are_in_the_one_table_of_commands() -> None:
    assert {"LodgeComplaint", "AcknowledgeComplaint", "StartInvestigation", "CloseComplaint"} <= COMMANDS.keys()


# ---- impartiality: handled by people not involved in the certification complained about ---------------


@pytest.mark.parametrize("about", ["label", "cluster"])
def test_nobody_who_audited_or_decided_the_label_or_cluster_complained_about_investigates_or_decides_it(
    about: str,
) -> None:
    """A complaint names the label (its code) or the cluster (its id): either way it is about the certification
    of the cluster's label, and whoever audited or decided it stays out."""
    life = Lifecycle(lifecycle_app())
    case_id, label_id = life.labelled()
    case, label = life.app.get_case(case_id), life.app.get_label(label_id)
    complaint_id = Complaint.create_id("http:complaint:k3")
    named = {"about": label.label_code, "label_id": label_id} if about == "label" else {"about": str(life.cluster_id)}
    lodge = LodgeComplaint(text="Unfair.", cluster_id=label.cluster_id, **named)
    handle(life.app, complaint_id, lodge, Envelope(actor="public", key="http:complaint:k3"))
    handle(life.app, complaint_id, AcknowledgeComplaint(), Envelope(actor=SECRETARIAT, key="ack"))
    auditor = f"expert:{case.expert_ids[0]}"

    for involved, refusal in ((DECIDER, "decided on the certification"), (auditor, "took part in the audit")):
        with pytest.raises(ImpartialityViolation, match=refusal):
            handle(life.app, complaint_id, StartInvestigation(), Envelope(actor=involved, key=f"inv-{involved}"))
    handle(life.app, complaint_id, StartInvestigation(), Envelope(actor=SECRETARIAT, key="inv"))
    closing = CloseComplaint(outcome=ComplaintOutcome.SUSPEND, finding="Founded.")
    with pytest.raises(ImpartialityViolation, match="cannot decide on the complaint"):
        handle(life.app, complaint_id, closing, Envelope(actor=DECIDER, key="close-by-decider"))
    assert life.app.load(complaint_id, Complaint).state is ComplaintState.INVESTIGATING
