"""The label: validity, reminders, expiry, renewal inside the window, suspension, withdrawal."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.base import InvalidInput, Level, StepNotAllowed
from domain.label import LabelState, label_code_for
from tests.builders import key
from tests.lifecycle import SECRETARIAT, Clock, Lifecycle, event_count, memory_app


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def life(clock: Clock) -> Lifecycle:
    return Lifecycle(memory_app(clock=clock))


def test_a_label_is_valid_two_years_from_the_end_of_its_assessment_month(life: Lifecycle) -> None:
    case_id, label_id = life.labelled()
    label = life.app.get_label(label_id)
    assert label.state is LabelState.ACTIVE
    assert label.valid_until == datetime(2028, 4, 1, tzinfo=UTC)  # assessed in March 2026
    assert label.renewable_until == datetime(2029, 4, 1, tzinfo=UTC)
    assert label.label_code == label_code_for(case_id, Level.BRONZE)
    assert label.label_code.startswith("ECEI-B-") and len(label.verification_code) == 10
    assert life.app.find_label(label.label_code.lower()).id == label_id


def test_issuing_the_label_twice_gives_the_same_label(life: Lifecycle) -> None:
    case_id, label_id = life.labelled()
    assert life.app.issue_label(case_id, actor="system", command_key=key()) == label_id


def test_a_label_expires_only_at_its_end_of_validity(life: Lifecycle, clock: Clock) -> None:
    _, label_id = life.labelled()
    with pytest.raises(StepNotAllowed, match="is valid until 2028-04-01"):
        life.app.expire_label(label_id, actor="system", command_key=key())
    clock.now = life.app.get_label(label_id).valid_until
    life.app.expire_label(label_id, actor="system", command_key=key())
    assert life.app.get_label(label_id).state is LabelState.EXPIRED


def test_each_expiry_reminder_is_sent_once(life: Lifecycle) -> None:
    _, label_id = life.labelled()
    life.app.send_expiry_reminder(label_id, "P90D", actor="system", command_key=key())
    with pytest.raises(StepNotAllowed, match="already sent"):
        life.app.send_expiry_reminder(label_id, "P90D", actor="system", command_key=key())
    assert life.app.get_label(label_id).reminders_sent == ["P90D"]


def test_a_renewal_inside_the_window_supersedes_the_old_label(life: Lifecycle, clock: Clock) -> None:
    life.expert()  # rotation: the renewal needs a different expert
    _, old_label = life.labelled()
    clock.now = life.app.get_label(old_label).valid_until
    life.app.expire_label(old_label, actor="system", command_key=key())
    clock.advance(days=200)
    renewal = life.app.start_renewal(old_label, actor=SECRETARIAT, command_key=key())
    life.app.screen(renewal, True, "ok", actor=SECRETARIAT, command_key=key())
    life.staff(renewal)
    life.app.record_agreement(renewal, True, actor=SECRETARIAT, command_key=key())
    life.assess(renewal)
    life.decide(renewal)
    new_label = life.app.issue_label(renewal, actor="system", command_key=key())
    old, new = life.app.get_label(old_label), life.app.get_label(new_label)
    assert old.state is LabelState.SUPERSEDED and old.superseded_by == new_label
    assert new.supersedes == old_label and new.state is LabelState.ACTIVE
    assert life.app.get_cluster(life.cluster_id).current_labels == {Level.BRONZE: new_label}


def test_after_the_renewal_window_the_cluster_must_apply_anew(life: Lifecycle, clock: Clock) -> None:
    _, label_id = life.labelled()
    clock.now = life.app.get_label(label_id).valid_until
    life.app.expire_label(label_id, actor="system", command_key=key())
    clock.now = life.app.get_label(label_id).renewable_until
    before = event_count(life.app)
    with pytest.raises(StepNotAllowed, match="must apply anew"):
        life.app.start_renewal(label_id, actor=SECRETARIAT, command_key=key())
    assert event_count(life.app) == before
    life.app.close_renewal_window(label_id, actor="system", command_key=key())
    assert life.app.get_label(label_id).state is LabelState.LAPSED
    with pytest.raises(StepNotAllowed, match="must apply anew"):
        life.app.start_renewal(label_id, actor=SECRETARIAT, command_key=key())
    life.apply(Level.BRONZE)  # a lapsed label no longer blocks a new application


def test_the_window_does_not_close_on_an_open_renewal(life: Lifecycle, clock: Clock) -> None:
    life.expert()
    _, label_id = life.labelled()
    clock.now = life.app.get_label(label_id).valid_until
    life.app.expire_label(label_id, actor="system", command_key=key())
    renewal = life.app.start_renewal(label_id, actor=SECRETARIAT, command_key=key())
    clock.now = life.app.get_label(label_id).renewable_until
    with pytest.raises(StepNotAllowed, match="still open"):
        life.app.close_renewal_window(label_id, actor="system", command_key=key())
    life.app.withdraw_case(renewal, "gave up", actor=SECRETARIAT, command_key=key())
    life.app.close_case(renewal, actor="system", command_key=key())
    life.app.close_renewal_window(label_id, actor="system", command_key=key())
    assert life.app.get_label(label_id).state is LabelState.LAPSED


def test_a_cluster_holding_a_label_is_told_to_renew_rather_than_apply(life: Lifecycle) -> None:
    life.labelled()
    with pytest.raises(StepNotAllowed, match="renew that label instead"):
        life.apply(Level.BRONZE)


def test_suspension_lasts_until_restored_and_a_withdrawn_label_stays_withdrawn(life: Lifecycle, clock: Clock) -> None:
    _, label_id = life.labelled()
    with pytest.raises(InvalidInput, match="needs a reason"):
        life.app.suspend_label(label_id, "", actor=SECRETARIAT, command_key=key())
    life.app.suspend_label(label_id, "complaint under review", actor=SECRETARIAT, command_key=key())
    label = life.app.get_label(label_id)
    assert label.state is LabelState.SUSPENDED and label.suspended_until == datetime(2026, 9, 10, 9, tzinfo=UTC)
    assert not label.is_valid_at(clock.now)
    life.app.restore_label(label_id, actor=SECRETARIAT, command_key=key())
    assert life.app.get_label(label_id).is_valid_at(clock.now)
    life.app.withdraw_label(label_id, "misuse of the label", actor=SECRETARIAT, command_key=key())
    for command in (life.app.restore_label, life.app.expire_label):
        with pytest.raises(StepNotAllowed, match="is withdrawn"):
            command(label_id, actor=SECRETARIAT, command_key=key())
    assert life.app.get_cluster(life.cluster_id).current_labels == {}
