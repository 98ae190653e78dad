"""A case's deadline reminders: one gone stale while it waited (the worker was down) is not queued."""

from __future__ import annotations

from datetime import timedelta

from clusterlabel.domain.commands import RemindDeadline
from tests.builders import send
from tests.lifecycle import Clock, Lifecycle, event_count


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
