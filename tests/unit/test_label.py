"""The label: validity, reminders, expiry, renewal inside the window, suspension, withdrawal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from clusterlabel.activities.views import label_view
from clusterlabel.domain.account import Role
from clusterlabel.domain.base import InvalidInput, Level, StepNotAllowed
from clusterlabel.domain.commands import (
    CloseCase,
    CloseRenewalWindow,
    ExpireLabel,
    IssueLabel,
    RecordAgreement,
    RecordAuditHeld,
    RemindExpiry,
    RestoreLabel,
    ScheduleAudit,
    Screen,
    StartRenewal,
    SuspendLabel,
    WithdrawCase,
    WithdrawLabel,
)
from clusterlabel.domain.label import Label, label_code_for
from clusterlabel.domain.label_lifecycle import LabelState
from clusterlabel.interfaces.web.auth import Principal
from clusterlabel.interfaces.web.common import label_out
from clusterlabel.interfaces.web.labels import closed_detail
from tests.builders import send
from tests.lifecycle import SECRETARIAT, Clock, Lifecycle, event_count


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
    assert send(life.app, case_id, IssueLabel(), actor="system").label_id == label_id


def test_a_label_expires_only_at_its_end_of_validity(life: Lifecycle, clock: Clock) -> None:
    _, label_id = life.labelled()
    with pytest.raises(StepNotAllowed, match="is valid until 2028-04-01"):
        send(life.app, label_id, ExpireLabel(), actor="system")
    clock.now = life.app.get_label(label_id).valid_until
    send(life.app, label_id, ExpireLabel(), actor="system")
    assert life.app.get_label(label_id).state is LabelState.EXPIRED


def test_a_reminder_gone_stale_while_it_waited_is_neither_recorded_nor_sent(life: Lifecycle, clock: Clock) -> None:
    """The worker was down from before the 90-day reminder until 5 days before the expiry: the 90- and
    30-day reminders are stale, and the 7-day one goes out alone; once expired, none does."""
    _, label_id = life.labelled()
    valid_until = life.app.get_label(label_id).valid_until
    clock.now = valid_until - timedelta(days=5)
    before = event_count(life.app)
    send(life.app, label_id, RemindExpiry(offset="P90D"), actor="system")
    assert event_count(life.app) == before  # no reminder recorded, no message queued
    alarms = label_view(life.app.policy, life.app.get_label(label_id), clock.now).alarms
    assert [(alarm.kind, alarm.offset) for alarm in alarms] == [("reminder", "P7D"), ("expiry", None)]

    send(life.app, label_id, RemindExpiry(offset="P7D"), actor="system")
    assert life.app.get_label(label_id).reminders_sent == ["P7D"] and event_count(life.app) > before + 1
    clock.now = valid_until
    during = event_count(life.app)
    send(life.app, label_id, RemindExpiry(offset="P30D"), actor="system")
    assert event_count(life.app) == during
    assert [alarm.kind for alarm in label_view(life.app.policy, life.app.get_label(label_id), clock.now).alarms] == [
        "expiry"
    ]


def test_no_expiry_reminder_asks_to_renew_a_suspended_label_or_one_whose_renewal_is_open(
    life: Lifecycle, clock: Clock
) -> None:
    """The reminders ask the cluster to request the renewal: a suspended label may not be renewed, and an
    open renewal is what they ask for. Neither is reminded; the reminder due is neither recorded nor sent."""
    _, suspended = life.labelled()
    _, renewing = Lifecycle(life.app, country="SE").labelled()
    send(life.app, suspended, SuspendLabel(reason="complaint"), actor=SECRETARIAT)
    send(life.app, renewing, StartRenewal(), actor=SECRETARIAT)
    clock.now = life.app.get_label(suspended).valid_until - timedelta(days=5)

    for label_id in (suspended, renewing):
        before = event_count(life.app)
        send(life.app, label_id, RemindExpiry(offset="P7D"), actor="system")
        assert event_count(life.app) == before
        label = life.app.get_label(label_id)
        assert label.reminders_sent == []
        assert "reminder" not in [alarm.kind for alarm in label_view(life.app.policy, label, clock.now).alarms]


def test_each_expiry_reminder_is_sent_once(life: Lifecycle) -> None:
    _, label_id = life.labelled()
    send(life.app, label_id, RemindExpiry(offset="P90D"), actor="system")
    with pytest.raises(StepNotAllowed, match="already sent"):
        send(life.app, label_id, RemindExpiry(offset="P90D"), actor="system")
    assert life.app.get_label(label_id).reminders_sent == ["P90D"]


def test_a_renewal_inside_the_window_supersedes_the_old_label(life: Lifecycle, clock: Clock) -> None:
    life.expert()  # rotation: the renewal needs a different expert
    _, old_label = life.labelled()
    clock.now = life.app.get_label(old_label).valid_until
    send(life.app, old_label, ExpireLabel(), actor="system")
    clock.advance(days=200)
    renewal = send(life.app, old_label, StartRenewal(), actor=SECRETARIAT).renewal_case_id
    send(life.app, renewal, Screen(accepted=True, reason="ok"), actor=SECRETARIAT)
    life.staff(renewal)
    send(life.app, renewal, RecordAgreement(agreed=True), actor=SECRETARIAT)
    life.assess(renewal)
    life.decide(renewal)
    new_label = send(life.app, renewal, IssueLabel(), actor="system").label_id
    old, new = life.app.get_label(old_label), life.app.get_label(new_label)
    assert old.state is LabelState.SUPERSEDED and old.superseded_by == new_label
    assert new.supersedes == old_label and new.state is LabelState.ACTIVE
    assert life.app.get_cluster(life.cluster_id).current_labels == {Level.BRONZE: new_label}


def test_a_renewal_is_not_awarded_over_a_suspension_until_the_secretariat_restores_the_label(
    life: Lifecycle, clock: Clock
) -> None:
    """The renewal's label would supersede the suspended one and end its suspension unheard: the award waits
    for the secretariat to restore (or withdraw) the label; a refusal does not."""
    life.expert()  # rotation: the renewal needs a different expert
    _, old_label = life.labelled()
    clock.now = life.app.get_label(old_label).valid_until - timedelta(days=60)
    renewal = life.renewal_agreed(old_label)
    life.assess(renewal)
    send(life.app, old_label, SuspendLabel(reason="a complaint names the cluster"), actor=SECRETARIAT)
    before = event_count(life.app)

    with pytest.raises(StepNotAllowed, match=r"supersede label .* which is suspended; restore or withdraw"):
        life.decide(renewal)

    assert event_count(life.app) == before and life.app.get_case(renewal).decision is None
    send(life.app, old_label, RestoreLabel(), actor=SECRETARIAT)
    life.decide(renewal)
    new_label = send(life.app, renewal, IssueLabel(), actor="system").label_id
    assert life.app.get_label(old_label).superseded_by == new_label


def test_after_the_renewal_window_the_cluster_must_apply_anew(life: Lifecycle, clock: Clock) -> None:
    _, label_id = life.labelled()
    clock.now = life.app.get_label(label_id).valid_until
    send(life.app, label_id, ExpireLabel(), actor="system")
    clock.now = life.app.get_label(label_id).renewable_until
    before = event_count(life.app)
    last_day = (clock.now - timedelta(days=1)).date()  # the window's end is the first instant past its last day
    with pytest.raises(StepNotAllowed, match=f"closed on {last_day}; the cluster must apply anew"):
        send(life.app, label_id, StartRenewal(), actor=SECRETARIAT)
    assert event_count(life.app) == before
    send(life.app, label_id, CloseRenewalWindow(), actor="system")
    assert life.app.get_label(label_id).state is LabelState.LAPSED
    with pytest.raises(StepNotAllowed, match="must apply anew"):
        send(life.app, label_id, StartRenewal(), actor=SECRETARIAT)
    life.apply(Level.BRONZE)  # a lapsed label no longer blocks a new application


def test_a_renewal_is_offered_while_the_window_runs_and_no_renewal_is_open(life: Lifecycle, clock: Clock) -> None:
    _, label_id = life.labelled()
    label = life.app.get_label(label_id)
    assert label.may_start_renewal(clock.now) and not label.allows("restore") and label.allows("suspend")
    assert not label.may_start_renewal(label.renewable_until)
    send(life.app, label_id, StartRenewal(), actor=SECRETARIAT)
    assert not life.app.get_label(label_id).may_start_renewal(clock.now)  # one renewal at a time


def test_a_label_past_its_validity_is_not_suspended_though_its_expiry_timer_has_not_fired(
    life: Lifecycle, clock: Clock
) -> None:
    """The public reads it as expired from its date on: a suspension would tell partners and the cluster of a
    suspended label, stop its expiry, and end in a withdrawal of a label that had simply expired."""
    _, label_id = life.labelled()
    label = life.app.get_label(label_id)
    clock.now = label.valid_until - timedelta(seconds=1)
    assert label.allows("suspend", clock.now)
    clock.now = label.valid_until
    assert label.state is LabelState.ACTIVE and not label.allows("suspend", clock.now)
    before = event_count(life.app)
    with pytest.raises(StepNotAllowed, match=f"cannot suspend: label {label.label_code} is expired, not active"):
        send(life.app, label_id, SuspendLabel(reason="complaint upheld"), actor=SECRETARIAT)
    assert event_count(life.app) == before


def test_the_window_does_not_close_on_an_open_renewal(life: Lifecycle, clock: Clock) -> None:
    life.expert()
    _, label_id = life.labelled()
    clock.now = life.app.get_label(label_id).valid_until
    send(life.app, label_id, ExpireLabel(), actor="system")
    renewal = send(life.app, label_id, StartRenewal(), actor=SECRETARIAT).renewal_case_id
    clock.now = life.app.get_label(label_id).renewable_until
    with pytest.raises(StepNotAllowed, match="still open"):
        send(life.app, label_id, CloseRenewalWindow(), actor="system")
    send(life.app, renewal, WithdrawCase(reason="gave up"), actor=SECRETARIAT)
    send(life.app, renewal, CloseCase(), actor="system")
    send(life.app, label_id, CloseRenewalWindow(), actor="system")
    assert life.app.get_label(label_id).state is LabelState.LAPSED


def test_a_label_past_its_window_is_not_withdrawn_though_its_lapse_is_not_recorded_yet(
    life: Lifecycle, clock: Clock
) -> None:
    """The public reads it as lapsed from the window's close: a withdrawal would turn a label that simply
    lapsed into a withdrawn one, and open an appeal against it."""
    _, label_id = life.labelled()
    clock.now = life.app.get_label(label_id).valid_until
    send(life.app, label_id, ExpireLabel(), actor="system")
    label = life.app.get_label(label_id)
    clock.now = label.renewable_until - timedelta(seconds=1)
    assert label.allows("withdraw", clock.now)
    clock.now = label.renewable_until
    assert label.state is LabelState.EXPIRED and label.status_at(clock.now)[0] is LabelState.LAPSED
    before = event_count(life.app)
    with pytest.raises(StepNotAllowed, match=f"cannot withdraw: label {label.label_code} is lapsed"):
        send(life.app, label_id, WithdrawLabel(reason="misuse of the label"), actor=SECRETARIAT)
    assert event_count(life.app) == before
    send(life.app, label_id, CloseRenewalWindow(), actor="system")  # the timer's own step is not judged so
    assert life.app.get_label(label_id).state is LabelState.LAPSED


def test_an_application_over_a_label_lapsed_but_not_recorded_says_so_rather_than_ask_to_renew(
    life: Lifecycle, clock: Clock
) -> None:
    label_id = expired_label(life, clock).id
    clock.now = life.app.get_label(label_id).renewable_until
    last_day = (clock.now - timedelta(days=1)).date()
    with pytest.raises(StepNotAllowed, match=f"has lapsed \\(its renewal window closed on {last_day}\\) but the lapse"):
        life.apply(Level.BRONZE)
    send(life.app, label_id, CloseRenewalWindow(), actor="system")
    life.apply(Level.BRONZE)


def test_the_label_s_answer_reads_lapsed_from_its_window_s_close_before_the_timer_records_it(
    life: Lifecycle, clock: Clock
) -> None:
    label = expired_label(life, clock)
    officer = Principal(frozenset({Role.OFFICER}))

    def answer(at: datetime) -> tuple[str, datetime]:
        out = label_out(label_view(life.app.policy, label, at), label, at, officer)
        return out.state.value, out.since

    assert answer(label.renewable_until - timedelta(seconds=1)) == ("expired", label.valid_until)
    assert answer(label.renewable_until + timedelta(days=3)) == ("lapsed", label.renewable_until)


PLACE = "the cluster's offices"


def expired_label(life: Lifecycle, clock: Clock) -> Label:
    """An expired label, with experts certified through a renewal's audit a year after its expiry, enough
    of them for the rotation."""
    for country in ("DE", "LT", "DE", "LT"):
        life.expert(country, certified_until=datetime(2031, 1, 1, tzinfo=UTC))
    _, label_id = life.labelled()
    clock.now = life.app.get_label(label_id).valid_until
    return send(life.app, label_id, ExpireLabel(), actor="system")


def test_a_renewal_s_benchmarking_is_held_no_later_than_one_year_after_expiry(life: Lifecycle, clock: Clock) -> None:
    """DOMAIN.md: renewed if re-benchmarked no later than one year after expiry. A renewal agreed a month
    before its window closes must hold its audit by then: its audit deadline is the window's end."""
    label = expired_label(life, clock)
    label_id = label.id
    clock.now = label.renewable_until - timedelta(days=30)
    renewal = life.renewal_agreed(label_id)
    assert life.app.get_case(renewal).deadlines["audit"] == label.renewable_until  # not the policy's 90 days

    before = event_count(life.app)
    with pytest.raises(InvalidInput, match="before its deadline"):
        send(
            life.app,
            renewal,
            ScheduleAudit(audit_date=label.renewable_until + timedelta(days=1), place=PLACE),
            actor=SECRETARIAT,
        )
    assert event_count(life.app) == before
    send(
        life.app,
        renewal,
        ScheduleAudit(audit_date=label.renewable_until - timedelta(days=10), place=PLACE),
        actor=SECRETARIAT,
    )
    clock.now = label.renewable_until + timedelta(days=3)
    held_late = RecordAuditHeld(held_on=label.renewable_until + timedelta(days=1))
    with pytest.raises(InvalidInput, match="past its label's renewal window"):
        send(life.app, renewal, held_late, actor=SECRETARIAT)
    send(life.app, renewal, RecordAuditHeld(), actor=SECRETARIAT)  # on its scheduled day, in time
    assert life.app.get_case(renewal).audit_held_on == label.renewable_until - timedelta(days=10)


def test_a_renewal_with_no_audit_date_is_benchmarked_by_its_assessment_inside_the_renewal_window(
    life: Lifecycle, clock: Clock
) -> None:
    """A renewal assessed with no audit scheduled is benchmarked on the day of its assessment: past its label's
    renewal window that assessment is refused, and the cluster applies anew (it was scored and could be
    awarded, renewing a label whose window had closed)."""
    label = expired_label(life, clock)
    clock.now = label.renewable_until - timedelta(days=30)
    renewal = life.renewal_agreed(label.id)
    clock.now = label.renewable_until + timedelta(hours=1)
    before = event_count(life.app)

    with pytest.raises(
        InvalidInput,
        match=r"benchmarking on .* is past its label's renewal window.*the secretariat withdraws this case",
    ):
        life.assess(renewal)

    assert event_count(life.app) == before
    assert life.app.get_case(renewal).assessed_at is None


def test_a_renewal_agreed_after_its_window_closed_is_refused(life: Lifecycle, clock: Clock) -> None:
    label = expired_label(life, clock)
    label_id = label.id
    clock.now = label.renewable_until - timedelta(days=1)
    renewal = send(life.app, label_id, StartRenewal(), actor=SECRETARIAT).renewal_case_id
    send(life.app, renewal, Screen(accepted=True, reason="complete"), actor=SECRETARIAT)
    life.staff(renewal)
    clock.now = label.renewable_until
    before = event_count(life.app)
    last_day = (label.renewable_until - timedelta(days=1)).date()
    with pytest.raises(StepNotAllowed, match=f"renewal window closed on {last_day}"):
        send(life.app, renewal, RecordAgreement(agreed=True), actor=SECRETARIAT)
    assert event_count(life.app) == before


def test_a_cluster_holding_a_label_is_told_to_renew_rather_than_apply(life: Lifecycle) -> None:
    life.labelled()
    with pytest.raises(StepNotAllowed, match="renew that label instead"):
        life.apply(Level.BRONZE)


def test_an_application_beside_a_label_names_its_status_now_and_advice_that_can_be_followed(
    life: Lifecycle, clock: Clock
) -> None:
    """Past its validity (its expiry not recorded yet) the label is named expired; while it is suspended, or
    its renewal is open, the cluster is not told to renew it (a renewal would be refused)."""
    _, label_id = life.labelled()
    label = life.app.get_label(label_id)
    clock.now = label.valid_until + timedelta(days=2)
    with pytest.raises(StepNotAllowed, match=r"\(expired\); renew that label instead"):
        life.apply(Level.BRONZE)

    clock.now = label.valid_until - timedelta(days=20)
    send(life.app, label_id, SuspendLabel(reason="a complaint names the cluster"), actor=SECRETARIAT)
    with pytest.raises(
        StepNotAllowed, match=r"\(suspended\); it is suspended: once the suspension is lifted it may be renewed"
    ) as refused:
        life.apply(Level.BRONZE)
    assert "renew that label instead" not in str(refused.value)

    send(life.app, label_id, RestoreLabel(rationale="unfounded"), actor=SECRETARIAT)
    renewal = send(life.app, label_id, StartRenewal(), actor=SECRETARIAT).renewal_case_id
    with pytest.raises(StepNotAllowed, match=f"its renewal, case {renewal}, is open"):
        life.apply(Level.BRONZE)


def test_suspension_lasts_until_restored_and_a_withdrawn_label_stays_withdrawn(life: Lifecycle, clock: Clock) -> None:
    _, label_id = life.labelled()
    with pytest.raises(ValidationError, match="reason"):
        SuspendLabel(reason="")
    with pytest.raises(InvalidInput, match="needs a reason"):
        # past the command's own check (min_length), as a command recorded before it had one: the domain refuses too
        send(life.app, label_id, SuspendLabel.model_construct(reason=""), actor=SECRETARIAT)
    send(life.app, label_id, SuspendLabel(reason="complaint under review"), actor=SECRETARIAT)
    label = life.app.get_label(label_id)
    assert label.state is LabelState.SUSPENDED and label.suspended_until == datetime(2026, 9, 10, 9, tzinfo=UTC)
    assert not label.is_valid_at(clock.now)
    send(life.app, label_id, RestoreLabel(), actor=SECRETARIAT)
    assert life.app.get_label(label_id).is_valid_at(clock.now)
    send(life.app, label_id, WithdrawLabel(reason="misuse of the label"), actor=SECRETARIAT)
    for command in (RestoreLabel(), ExpireLabel()):
        with pytest.raises(StepNotAllowed, match="is withdrawn"):
            send(life.app, label_id, command, actor=SECRETARIAT)
    assert life.app.get_cluster(life.cluster_id).current_labels == {}


def test_a_step_on_a_lapsed_label_says_it_has_lapsed(life: Lifecycle, clock: Clock) -> None:
    label = expired_label(life, clock)
    clock.now = label.renewable_until
    lapsed = send(life.app, label.id, CloseRenewalWindow(), actor="system")
    assert closed_detail(lapsed).startswith(f"label {label.label_code} has lapsed: the renewal window")
