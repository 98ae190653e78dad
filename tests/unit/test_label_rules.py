"""The label's rules as pure functions: its groups of states, its status at an instant, the
state each event leads to. Views and HTTP routes call these instead of restating them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from clusterlabel.domain.durations import Duration
from clusterlabel.domain.label_lifecycle import (
    FINAL,
    IN_FORCE,
    LABEL_STEPS,
    LAPSE_WHEN_THE_WINDOW_CLOSES,
    RENEWAL_WINDOW_RUNNING,
    VALIDITY_RUNNING,
    LabelState,
    RenewalWindow,
    label_state_after,
    label_status_at,
    last_valid_day,
    renewal_window_end,
)
from clusterlabel.domain.reminders import reminders_to_send

ISSUED = datetime(2026, 3, 10, tzinfo=UTC)
VALID_UNTIL = datetime(2028, 4, 1, tzinfo=UTC)
RENEWABLE_UNTIL = datetime(2029, 4, 1, tzinfo=UTC)
TICK = timedelta(microseconds=1)
DAY = timedelta(days=1)


def status(
    state: str,
    since: datetime,
    at: datetime,
    renewal_open: bool = False,
    valid_until: datetime = VALID_UNTIL,
    held_until: datetime | None = None,
) -> tuple[LabelState, datetime]:
    """label_status_at of a label valid until VALID_UNTIL (unless told) and renewable until RENEWABLE_UNTIL."""
    return label_status_at(state, since, valid_until, at, RenewalWindow(RENEWABLE_UNTIL, renewal_open, held_until))


def test_every_label_state_is_either_in_force_or_final() -> None:
    assert frozenset(LabelState) == IN_FORCE | FINAL and not IN_FORCE & FINAL
    assert {LabelState.LAPSED, LabelState.SUPERSEDED, LabelState.WITHDRAWN} == FINAL


def test_a_label_in_force_has_either_its_validity_or_its_renewal_window_running() -> None:
    assert VALIDITY_RUNNING | RENEWAL_WINDOW_RUNNING == IN_FORCE
    assert not VALIDITY_RUNNING & RENEWAL_WINDOW_RUNNING


def test_expiry_steps_apply_exactly_while_the_validity_runs_and_the_window_closes_only_after() -> None:
    # A suspension ends in a restoration or a withdrawal, and a suspended label is not renewed: no reminder.
    assert LABEL_STEPS["send_expiry_reminder"][0] == LABEL_STEPS["expire"][0] == {LabelState.ACTIVE}
    assert LABEL_STEPS["close_renewal_window"][0] == RENEWAL_WINDOW_RUNNING
    assert LABEL_STEPS["withdraw"][0] == IN_FORCE


@pytest.mark.parametrize("state", sorted(VALIDITY_RUNNING))
def test_a_label_whose_validity_runs_reads_as_expired_from_its_valid_until(state: LabelState) -> None:
    assert status(state, ISSUED, VALID_UNTIL - TICK) == (state, ISSUED)
    assert status(state, ISSUED, VALID_UNTIL) == (LabelState.EXPIRED, VALID_UNTIL)
    assert status(state.value, ISSUED, RENEWABLE_UNTIL - TICK) == (LabelState.EXPIRED, VALID_UNTIL)


def test_a_label_expired_since_its_valid_until_whenever_the_timer_recorded_it() -> None:
    recorded = VALID_UNTIL + timedelta(hours=3)  # the worker was down at midnight
    assert status("expired", recorded, recorded + timedelta(days=1)) == (LabelState.EXPIRED, VALID_UNTIL)


@pytest.mark.parametrize("state", sorted(LAPSE_WHEN_THE_WINDOW_CLOSES))
def test_an_active_or_expired_label_past_its_window_reads_as_lapsed_from_the_window_close(state: LabelState) -> None:
    # The window's timer has not fired yet (the worker was down): nobody may renew it any more.
    assert status(state, ISSUED, RENEWABLE_UNTIL - TICK) == (LabelState.EXPIRED, VALID_UNTIL)
    assert status(state, ISSUED, RENEWABLE_UNTIL) == (LabelState.LAPSED, RENEWABLE_UNTIL)
    assert status(state.value, ISSUED, RENEWABLE_UNTIL + timedelta(days=40)) == (LabelState.LAPSED, RENEWABLE_UNTIL)


def test_a_suspended_label_past_its_window_reads_as_expired_until_its_suspension_ends() -> None:
    # Its restoration expires it (and it lapses then), its limit withdraws it, or its appeal reverses it.
    assert status("suspended", ISSUED, RENEWABLE_UNTIL + timedelta(days=40)) == (LabelState.EXPIRED, VALID_UNTIL)


def test_a_renewal_running_past_the_window_keeps_the_label_expired_and_it_lapses_when_the_renewal_ends() -> None:
    ended = RENEWABLE_UNTIL + timedelta(days=40)
    assert status("expired", VALID_UNTIL, ended - TICK, renewal_open=True) == (LabelState.EXPIRED, VALID_UNTIL)
    # Ended without a label: lapsed from then (not from the window's close, when it still read as expired).
    assert status("expired", VALID_UNTIL, ended - TICK, held_until=ended) == (LabelState.EXPIRED, VALID_UNTIL)
    assert status("expired", VALID_UNTIL, ended, held_until=ended) == (LabelState.LAPSED, ended)
    assert status("lapsed", ended + DAY, ended + DAY, held_until=ended) == (LabelState.LAPSED, ended)
    # A renewal that ended inside the window changes nothing: the label lapses when the window closes.
    inside = RENEWABLE_UNTIL - timedelta(days=40)
    assert status("expired", VALID_UNTIL, RENEWABLE_UNTIL, held_until=inside) == (LabelState.LAPSED, RENEWABLE_UNTIL)


def test_a_lapse_reads_from_the_window_close_however_late_its_timer_recorded_it() -> None:
    recorded = RENEWABLE_UNTIL + timedelta(days=2)  # the worker was down when the window closed
    assert status("lapsed", recorded, recorded + timedelta(days=1)) == (LabelState.LAPSED, RENEWABLE_UNTIL)


@pytest.mark.parametrize("state", sorted(FINAL - {LabelState.LAPSED}))
def test_a_final_label_keeps_its_state_and_since_past_its_validity_and_window(state: LabelState) -> None:
    since = ISSUED + timedelta(days=30)
    assert status(state.value, since, VALID_UNTIL + timedelta(days=1)) == (state, since)
    assert status(state.value, since, RENEWABLE_UNTIL + timedelta(days=1)) == (state, since)


def test_the_status_comes_back_as_a_label_state_even_from_plain_text() -> None:
    state, _ = status("suspended", ISSUED, ISSUED)
    assert state is LabelState.SUSPENDED


def test_a_label_restored_inside_its_validity_is_active_and_after_it_expired() -> None:
    assert label_state_after("Restored", VALID_UNTIL - TICK, VALID_UNTIL) is LabelState.ACTIVE
    assert label_state_after("Restored", VALID_UNTIL, VALID_UNTIL) is LabelState.EXPIRED


@pytest.mark.parametrize(
    ("event_type", "state"),
    [
        ("Expired", LabelState.EXPIRED),
        ("RenewalWindowClosed", LabelState.LAPSED),
        ("Superseded", LabelState.SUPERSEDED),
        ("Suspended", LabelState.SUSPENDED),
        ("Withdrawn", LabelState.WITHDRAWN),
    ],
)
def test_each_lifecycle_event_leads_to_its_state(event_type: str, state: LabelState) -> None:
    assert label_state_after(event_type, ISSUED, VALID_UNTIL) is state


@pytest.mark.parametrize("event_type", ["ExpiryReminderSent", "RenewalStarted", "RenewalAbandoned"])
def test_reminders_and_renewal_cases_leave_the_state_alone(event_type: str) -> None:
    assert label_state_after(event_type, ISSUED, VALID_UNTIL) is None


@pytest.mark.parametrize(
    ("valid_until", "last_day"),
    [
        (VALID_UNTIL, date(2028, 3, 31)),  # to the end of March: it stops at midnight on 1 April
        (datetime(2028, 4, 1, 14, 30, tzinfo=UTC), date(2028, 4, 1)),  # a validity in hours ends that day
        (datetime(2028, 4, 1, 2, tzinfo=timezone(timedelta(hours=2))), date(2028, 3, 31)),  # midnight UTC
    ],
)
def test_a_validity_is_printed_until_its_last_day_in_utc(valid_until: datetime, last_day: date) -> None:
    assert last_valid_day(valid_until) == last_day
    assert status(LabelState.ACTIVE, ISSUED, valid_until - TICK, valid_until=valid_until)[0] is LabelState.ACTIVE


@pytest.mark.parametrize(
    ("window", "valid_until", "renewable_until"),
    [
        ("P1Y", VALID_UNTIL, datetime(2029, 4, 1, tzinfo=UTC)),  # through 31 March 2029
        ("P1Y", datetime(2028, 2, 29, tzinfo=UTC), datetime(2029, 3, 1, tzinfo=UTC)),  # last day 28 Feb 2028
        ("P1Y", datetime(2028, 3, 1, tzinfo=UTC), datetime(2029, 3, 1, tzinfo=UTC)),  # last day 29 Feb 2028
        ("P1M", datetime(2027, 3, 1, tzinfo=UTC), datetime(2027, 4, 1, tzinfo=UTC)),  # February's: all March
        ("PT2S", datetime(2028, 4, 1, 14, 30, tzinfo=UTC), datetime(2028, 4, 1, 14, 30, 2, tzinfo=UTC)),
    ],
)
def test_a_renewal_window_runs_a_whole_window_after_the_validitys_last_day(
    window: str, valid_until: datetime, renewable_until: datetime
) -> None:
    assert renewal_window_end(Duration.parse(window), valid_until) == renewable_until


def test_of_the_expiry_reminders_whose_time_has_come_only_the_latest_is_still_to_send() -> None:
    schedule = {offset: VALID_UNTIL - timedelta(days=days) for offset, days in [("P90D", 90), ("P30D", 30), ("P7D", 7)]}
    assert reminders_to_send(schedule, [], VALID_UNTIL, VALID_UNTIL - timedelta(days=100)) == schedule
    later = {offset: schedule[offset] for offset in ("P30D", "P7D")}
    assert reminders_to_send(schedule, [], VALID_UNTIL, VALID_UNTIL - timedelta(days=20)) == later  # 90 days is stale
    assert reminders_to_send(schedule, ["P30D"], VALID_UNTIL, VALID_UNTIL - timedelta(days=20)) == {
        "P7D": schedule["P7D"]
    }
    assert reminders_to_send(schedule, [], VALID_UNTIL, VALID_UNTIL - TICK) == {"P7D": schedule["P7D"]}
    assert reminders_to_send(schedule, [], VALID_UNTIL, VALID_UNTIL) == {}  # expired: no reminder at all
