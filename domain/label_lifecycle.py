"""A label's states and the steps each allows: the rules every reader of a label (the aggregate, the
views, the HTTP routes) takes from here rather than restating them.

active → expired (renewal window open) → lapsed (window closed), or → superseded by its renewal;
suspended ⇄ active; withdrawn from any state still in force; a suspension or withdrawal reversed on
appeal puts it back in force (domain/label_appeal.py). A suspension ends in a restoration or a
withdrawal, never in the expiry: a label suspended past its validity reads as expired, stays suspended
(its appeal and its limit stand, it cannot be renewed) and is expired by its restoration.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any

from clusterlabel.domain.base import InvalidInput, StepNotAllowed
from clusterlabel.domain.durations import Duration


class LabelState(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    EXPIRED = "expired"
    LAPSED = "lapsed"
    SUPERSEDED = "superseded"
    WITHDRAWN = "withdrawn"


# The named groups of states: every reader (views, HTTP routes, activities) imports these
# rather than listing states of its own, so that a new state is placed once.

# Its validity period still runs (active or suspended): past `valid_until` such a label reads as
# expired even before the expiry is recorded (an active one's timer records it, a suspended one's
# restoration; LABEL_STEPS says which steps each state takes).
VALIDITY_RUNNING = frozenset({LabelState.ACTIVE, LabelState.SUSPENDED})
# Expired, with its renewal window still open: the window's close applies.
RENEWAL_WINDOW_RUNNING = frozenset({LabelState.EXPIRED})
# Still standing: it may be renewed, superseded or withdrawn, and the cluster cannot hold a
# second one of the same level.
IN_FORCE = VALIDITY_RUNNING | RENEWAL_WINDOW_RUNNING
# Nothing more can happen to it (lapsed, superseded, withdrawn): its workflow has ended.
FINAL = frozenset(LabelState) - IN_FORCE
# Past its renewal window with no renewal running, such a label reads as lapsed before the lapse is recorded
# (label_status_at): a suspended one is left to its suspension's end.
LAPSE_WHEN_THE_WINDOW_CLOSES = IN_FORCE - {LabelState.SUSPENDED}
# Standing under a decision the cluster may appeal (domain/label_appeal.py).
APPEALABLE = frozenset({LabelState.SUSPENDED, LabelState.WITHDRAWN})

# The reason recorded when a suspension reaches the policy's limit and its label is withdrawn by the engine
# (the label's workflow; its message words it in the reader's language).
SUSPENSION_LIMIT_REASON = "suspended for longer than the policy's suspension limit without being restored"

# The states in which each step may be taken, and how a refusal names it (see CASE_STEPS).
LABEL_STEPS: dict[str, tuple[frozenset[LabelState], str]] = {
    "send_expiry_reminder": (frozenset({LabelState.ACTIVE}), "send an expiry reminder"),  # a suspended one: renew?
    "expire": (frozenset({LabelState.ACTIVE}), "expire"),  # a suspended label: its restoration expires it
    "close_renewal_window": (RENEWAL_WINDOW_RUNNING, "close the renewal window"),
    "start_renewal": (frozenset({LabelState.ACTIVE, LabelState.EXPIRED}), "start a renewal"),
    "supersede": (frozenset({LabelState.ACTIVE, LabelState.EXPIRED, LabelState.SUSPENDED}), "be superseded"),
    "suspend": (frozenset({LabelState.ACTIVE}), "suspend"),
    "restore": (frozenset({LabelState.SUSPENDED}), "restore"),
    "withdraw": (IN_FORCE, "withdraw"),
    "lodge_appeal": (APPEALABLE, "appeal"),
    "decide_appeal": (APPEALABLE, "decide an appeal"),
}


def reminds_of_expiry(state: LabelState, renewal_open: bool) -> bool:
    """Whether a label's expiry reminders, which ask the cluster to renew, still go out: an active label with
    no renewal open (a suspended one may not be renewed; an open renewal is what they ask for)."""
    return state in LABEL_STEPS["send_expiry_reminder"][0] and not renewal_open


def check_not_suspended_by_award(state: LabelState, label_code: str) -> None:
    """An award whose label would supersede this one (its renewal's, or a later round's at its level) waits
    while it is suspended: the secretariat restores or withdraws it first, so that no suspension ends unheard."""
    if state is LabelState.SUSPENDED:
        raise StepNotAllowed(
            f"cannot award: the new label would supersede label {label_code}, which is suspended; "
            "restore or withdraw that label first"
        )


def check_label_step(step: str, state: LabelState, label_code: str) -> None:
    """Refuse a step that does not fit the label's state, in the secretariat's words."""
    allowed, verb = LABEL_STEPS[step]
    if state not in allowed:
        expected = " or ".join(option.value for option in LabelState if option in allowed)
        raise StepNotAllowed(f"cannot {verb}: label {label_code} is {state.value}, not {expected}")


# The state each event puts a label in, from `state_since` on; events not named here (and
# "Restored" and "LabelAppealUpheld", see label_state_after) leave it as it was.
_STATE_AFTER: dict[str, LabelState] = {
    "Expired": LabelState.EXPIRED,
    "RenewalWindowClosed": LabelState.LAPSED,
    "Superseded": LabelState.SUPERSEDED,
    "Suspended": LabelState.SUSPENDED,
    "Withdrawn": LabelState.WITHDRAWN,
}


# The events that put a label back in force: active, or expired if its validity ran out meanwhile.
BACK_IN_FORCE = frozenset({"Restored", "LabelAppealUpheld"})


def label_state_after(event_type: str, at: datetime, valid_until: datetime) -> LabelState | None:
    """The state a label's event (by class name) puts it in at `at`; None if the event leaves it.

    The aggregate enters this state and the label views follow it, so neither restates it."""
    if event_type in BACK_IN_FORCE:
        # A suspension outlasting the validity ends in an expired label, not an active one; so does a
        # suspension or withdrawal reversed on appeal after the validity ran out.
        return LabelState.ACTIVE if at < valid_until else LabelState.EXPIRED
    return _STATE_AFTER.get(event_type)


@dataclass(frozen=True)
class RenewalWindow:
    """What a label's status needs of its renewal: when its window closes, whether a renewal case runs, and
    `held_until`, when the last thing that held off its lapse ended: a renewal case ended without a label, a
    suspension lifted, a withdrawal reversed on appeal (None: none did). Plain values, as the aggregate and
    the view rows both hold them."""

    closes: datetime
    renewal_running: bool = False
    held_until: datetime | None = None

    @classmethod
    def of(cls, label: Any) -> RenewalWindow:
        """The window of a label, or of what holds its `renewable_until`, `renewal_case_id` and `held_until`
        (its workflow's view)."""
        return cls(label.renewable_until, label.renewal_case_id is not None, label.held_until)

    def lapsed_since(self) -> datetime:
        """A label lapses when its window closes, or, when a renewal, a suspension or a withdrawal under appeal
        held it past the window (it read as expired, suspended or withdrawn meanwhile), when that ended."""
        held = self.held_until
        return held if held is not None and held > self.closes else self.closes


def label_status_at(
    state: str, state_since: datetime, valid_until: datetime, at: datetime, window: RenewalWindow
) -> tuple[LabelState, datetime]:
    """A label's status at `at`, and since when, from its recorded state.

    Past its validity a label still in force reads as expired from `valid_until`, and, active or expired,
    past its renewal window with no renewal running, as lapsed (RenewalWindow.lapsed_since): the expiry
    and the window's close are recorded by timers, which may not have fired yet (or fired late, after an
    outage, or came with a restoration), and the public must never see a label as valid after its date,
    nor as renewable after its window. A lapse reads from then however late it was recorded. A suspended
    label past its window reads as expired: its restoration (then it lapses), its withdrawal at the
    suspension's limit or its appeal still decides how it ends. Plain values in, so that the aggregate and
    the view rows (which keep no aggregate) answer alike."""
    lapsed = window.lapsed_since()
    if state == LabelState.LAPSED:
        return LabelState.LAPSED, lapsed
    if state in IN_FORCE and at >= valid_until:
        if state in LAPSE_WHEN_THE_WINDOW_CLOSES and not window.renewal_running and at >= lapsed:
            return LabelState.LAPSED, lapsed
        return LabelState.EXPIRED, valid_until
    return LabelState(state), state_since


# How far before an exclusive end its last moment lies (datetime's finest step).
_LAST_MOMENT = timedelta(microseconds=1)


def last_valid_day(valid_until: datetime) -> date:
    """The last day (in UTC) of a validity that ends at `valid_until`, the first instant it no longer holds:
    a label valid to the end of March 2028 ends at 1 April 2028 00:00 and is printed valid until 31 March."""
    utc = valid_until.astimezone(UTC) if valid_until.tzinfo else valid_until  # a naive instant is UTC already
    return (utc - _LAST_MOMENT).date()


def renewal_window_end(window: Duration, valid_until: datetime) -> datetime:
    """The first instant a renewal comes too late: `window` after the validity's end, or after its last
    moment where that is later. A validity whose last day is 28 February 2028 ends at 29 February 00:00,
    and a year after that is clamped to 28 February 2029, a day short: the window runs through 28 February
    2029, a year after the last day. One ending with February keeps a month's window to the end of March."""
    return max(window.after(valid_until), window.after(valid_until - _LAST_MOMENT) + _LAST_MOMENT)


def check_renewal_window(label_code: str, state: LabelState, renewable_until: datetime, at: datetime) -> None:
    """A renewal starts while the label is in force (or expired) and its renewal window runs."""
    if (state in IN_FORCE and at >= renewable_until) or state is LabelState.LAPSED:
        raise StepNotAllowed(renewal_window_closed(label_code, renewable_until))


def renewal_window_closed(label_code: str, renewable_until: datetime) -> str:
    """What the secretariat is told of a label whose renewal window has closed: its last day, as pages name it."""
    return (
        f"the renewal window of label {label_code} closed on {last_valid_day(renewable_until):%Y-%m-%d}; "
        "the cluster must apply anew"
    )


def within_renewal_window(due: datetime, renew_by: datetime | None) -> datetime:
    """A renewal's step is due by its label's `renewable_until` at the latest: past it no audit can be in
    time, and the step's deadline passing is what tells the secretariat (the case escalates) then, not weeks
    later. `renew_by` None: a case that renews nothing keeps the policy's `due`."""
    return due if renew_by is None else min(due, renew_by)


def check_renewal_window_open(renew_by: datetime | None, at: datetime, step: str) -> None:
    """No expert is asked to take on a renewal that can no longer be benchmarked in time."""
    if renew_by is not None and at >= renew_by:
        raise StepNotAllowed(
            f"cannot {step}: the renewal window closed on {last_valid_day(renew_by):%Y-%m-%d}; {_APPLY_ANEW}"
        )


def renewal_audit_due(audit_due: datetime, renew_by: datetime, at: datetime) -> datetime:
    """A renewal's audit deadline: the policy's (`audit_due`), or the label's `renewable_until` where that is
    sooner. An agreement at `at` after that is refused: no audit could be in time."""
    if at >= renew_by:
        raise StepNotAllowed(
            f"the renewal window closed on {last_valid_day(renew_by):%Y-%m-%d}: the benchmarking can no longer "
            f"be held in time for a renewal; {_APPLY_ANEW}"
        )
    return min(audit_due, renew_by)


def check_held_for_renewal(held_on: datetime, renew_by: datetime, what: str = "audit held on") -> None:
    """DOMAIN.md: a label is renewed if the cluster is re-benchmarked no later than one year after its expiry
    (`renew_by`, the label's `renewable_until`); later, it applies anew. `what` names the moment checked:
    the audit as held, as scheduled, or (no audit date) the assessment."""
    if held_on >= renew_by:
        raise InvalidInput(
            f"a renewal's {what} {held_on:%Y-%m-%d} is past its label's renewal window, which closed on "
            f"{last_valid_day(renew_by):%Y-%m-%d}: {_APPLY_ANEW}"
        )


_APPLY_ANEW = "the secretariat withdraws this case, and the cluster applies anew"


def expiry_reminder_schedule(
    offsets: Iterable[Duration], valid_until: datetime, decided_at: datetime
) -> dict[str, datetime]:
    """When each expiry reminder falls (offset → when): `offsets` before `valid_until`, none before the decision."""
    schedule = {str(offset): offset.before(valid_until) for offset in offsets}
    return {offset: when for offset, when in schedule.items() if when >= decided_at}
