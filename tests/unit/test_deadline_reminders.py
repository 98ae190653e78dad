"""A case's deadline reminders: one gone stale while it waited (the worker was down) is not queued; one
that would fall as its step begins is not scheduled."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import pytest

from clusterlabel.activities.views import case_view
from clusterlabel.domain import notices
from clusterlabel.domain.base import Level
from clusterlabel.domain.commands import RemindDeadline
from clusterlabel.domain.notification import Notification
from clusterlabel.domain.policy import default_policy
from tests.builders import send
from tests.lifecycle import Clock, Lifecycle, event_count, memory_app


def test_a_deadline_reminder_is_queued_on_time_and_not_once_its_deadline_has_passed(
    life: Lifecycle, clock: Clock
) -> None:
    """The default policy reminds 7 days before the audit's deadline; a worker back after the deadline does
    not send "due in 7 days" beside the escalation that the deadline passed."""
    case_id = life.auditing()
    due = life.app.get_case(case_id).deadlines["audit"]
    clock.now = due - timedelta(days=7)
    before = event_count(life.app)
    send(life.app, case_id, RemindDeadline(step="audit", offset="P7D", due=due), actor="system")
    assert event_count(life.app) > before  # queued to the secretariat and the experts

    clock.now = due + timedelta(hours=1)
    during = event_count(life.app)
    send(life.app, case_id, RemindDeadline(step="audit", offset="P7D", due=due), actor="system")
    assert event_count(life.app) == during


def test_a_reminder_that_would_fall_as_its_step_begins_or_before_is_not_scheduled(clock: Clock) -> None:
    """A policy reminding 7 and 2 days ahead of a 5-day decision: the case waiting for its decision has
    the 2-day reminder and the deadline, not a "due in 7 days" at once beside the assessment's own message."""
    policy = default_policy().with_overrides(
        {"decision_deadline": "P5D", "deadline_reminders": ["P7D", "P2D"], "reminded_deadlines": ["decision"]}
    )
    life = Lifecycle(memory_app(policy, clock))
    case_id = life.auditing()
    life.assess(case_id)
    case = life.app.get_case(case_id)
    due = case.deadlines["decision"]

    view = case_view(policy, case, clock())
    assert [(alarm.kind, alarm.offset, alarm.at) for alarm in view.alarms] == [
        ("reminder", "P2D", due - timedelta(days=2)),
        ("deadline", None, due),
    ]


def test_a_renewals_audit_cut_short_by_its_window_is_not_reminded_before_its_agreement(
    life: Lifecycle, clock: Clock
) -> None:
    """A renewal agreed 3 days before its window closes has its audit due then: a 7-day reminder would fall
    before the agreement, and went out the moment the cluster agreed."""
    _, label_id = life.labelled()
    for country in ("LT", "DE"):  # certified beyond the window (the first round's experts rotate out)
        life.expert(country, certified_until=clock.now + timedelta(days=10 * 365))
    clock.now = life.app.get_label(label_id).renewable_until - timedelta(days=3)
    renewal = life.app.get_case(life.renewal_agreed(label_id))
    due = renewal.deadlines["audit"]
    assert due == life.app.get_label(label_id).renewable_until

    view = case_view(life.app.policy, renewal, clock())

    assert [(alarm.kind, alarm.at) for alarm in view.alarms] == [("deadline", due)]


def test_a_reminder_is_queued_to_all_its_readers_in_one_save_so_a_crash_leaves_none_told_alone(
    clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Gold audit's reminder goes to the secretariat and both experts. Queued one message a save, a crash
    after the first left the experts untold, and the retry, later, found the reminder stale and told no one."""
    life = Lifecycle(memory_app(clock=clock))
    case_id = life.auditing(Level.GOLD)
    due = life.app.get_case(case_id).deadlines["audit"]
    clock.now = due - timedelta(days=7)
    saves: list[object] = []
    real_save = life.app.save

    def crashing_on_the_second_save(*aggregates: object) -> object:
        saves.append(aggregates)
        if len(saves) == 2:
            raise RuntimeError("the worker was killed")
        return real_save(*aggregates)

    monkeypatch.setattr(life.app, "save", crashing_on_the_second_save)
    send(life.app, case_id, RemindDeadline(step="audit", offset="P7D", due=due), actor="system", command_key="remind")

    readers = ["secretariat", *(f"expert:{expert_id}" for expert_id in life.app.get_case(case_id).expert_ids)]
    for reader in readers:
        message = life.app.load(Notification.create_id(f"remind/notify/{reader}"), Notification)
        assert message.kind == "deadline_reminder", reader
    assert len(readers) == 3


def test_a_reminder_retried_after_an_earlier_release_queued_only_its_first_message_queues_the_rest(
    clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A release that queued a reminder one message a save, killed after the first, then retried by this one:
    the messages left unqueued still go out (the first one is not queued twice)."""
    life = Lifecycle(memory_app(clock=clock))
    case_id = life.auditing(Level.GOLD)
    due = life.app.get_case(case_id).deadlines["audit"]
    clock.now = due - timedelta(days=7)
    real_save = life.app.save

    def only_the_first_message(*aggregates: Notification) -> object:
        return real_save(aggregates[0])  # and then the worker was killed

    monkeypatch.setattr(life.app, "save", only_the_first_message)
    send(life.app, case_id, RemindDeadline(step="audit", offset="P7D", due=due), actor="system", command_key="remind")
    monkeypatch.setattr(life.app, "save", real_save)
    assert len(reminded(life, case_id)) == 1

    send(life.app, case_id, RemindDeadline(step="audit", offset="P7D", due=due), actor="system", command_key="remind")

    assert len(reminded(life, case_id)) == 3


def reminded(life: Lifecycle, case_id: UUID) -> list[str]:
    """The readers the audit's reminder (key "remind") was queued for."""
    readers = ["secretariat", *(f"expert:{expert_id}" for expert_id in life.app.get_case(case_id).expert_ids)]
    ids = {reader: Notification.create_id(f"remind/notify/{reader}") for reader in readers}
    return [reader for reader, message_id in ids.items() if life.app.recorder.select_events(message_id, limit=1)]


def test_a_decisions_reminder_reaches_the_deciders_and_an_appeals_the_appeals_panel(life: Lifecycle) -> None:
    """Officers chase deadlines, but the people who decide must hear of theirs too: before, a decision's
    reminder went to the secretariat's address alone, which deciders on an outside board do not read. It
    goes to the secretariat with its deciders (interfaces/mail.py mails both), as one message."""
    case = life.app.get_case(life.deciding())
    due = case.deadlines["decision"]

    steps = ("decision", "appeal_decision")
    told = {step: [n.recipient for n in notices.deadline_reminders(case, step, "P7D", due)] for step in steps}

    assert told == {
        "decision": [notices.DECIDERS],
        "appeal_decision": [notices.APPEALS_PANEL],
    }
