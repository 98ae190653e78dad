"""A complaint about a labelled cluster or about how a label was awarded, lodged by anyone.

received → acknowledged → investigating → closed (with an outcome). ISO/IEC 17065 §7.13 asks the
certification body to confirm that a complaint concerns its certification activities, to acknowledge it,
to investigate, to decide on an outcome and to tell the complainant so; DOMAIN.md: "appeals and
complaints are handled by people not involved in the case".

The complainant's e-mail address is no fact of the log: it lives beside it (interfaces/web/complainants.py),
erasable, and messages to the complainant name `complainant:<complaint id>`, never the address.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import event

from clusterlabel.domain.base import ImpartialityViolation, InvalidInput, RecordedAggregate, StepNotAllowed
from clusterlabel.domain.case_decision import check_not_auditor
from clusterlabel.domain.command_base import Envelope
from clusterlabel.domain.policy import Policy
from clusterlabel.domain.reminders import schedule_before


class ComplaintState(StrEnum):
    RECEIVED = "received"
    ACKNOWLEDGED = "acknowledged"
    INVESTIGATING = "investigating"
    CLOSED = "closed"


class ComplaintOutcome(StrEnum):
    DISMISSED = "dismissed"  # unfounded: nothing changes
    UPHELD = "upheld"  # founded: the secretariat acts on it (the finding says how)
    SUSPEND = "suspend"  # founded, and the label it names is to be suspended (the label's own step follows)


OPEN_COMPLAINT_STATES = frozenset({ComplaintState.RECEIVED, ComplaintState.ACKNOWLEDGED, ComplaintState.INVESTIGATING})

# The states in which each step may be taken, and how a refusal names the step: the aggregate's guards
# and the complaint workflow's update validators share this one table.
COMPLAINT_STEPS: dict[str, tuple[frozenset[ComplaintState], str]] = {
    "acknowledge": (frozenset({ComplaintState.RECEIVED}), "acknowledge the complaint"),
    "start_investigation": (frozenset({ComplaintState.ACKNOWLEDGED}), "start the investigation"),
    "close": (frozenset({ComplaintState.INVESTIGATING}), "close the complaint"),
    "escalate": (OPEN_COMPLAINT_STATES, "escalate the complaint"),
}

# The deadline a complaint works against in each open state: the acknowledgement first, then the
# investigation's end (its outcome), which runs from the acknowledgement.
DEADLINE_BY_STATE: dict[ComplaintState, str] = {
    ComplaintState.RECEIVED: "acknowledgement",
    ComplaintState.ACKNOWLEDGED: "investigation",
    ComplaintState.INVESTIGATING: "investigation",
}


# The state each event (by class name) puts a complaint in; events not named (Escalated) leave it. The
# aggregate and the complaints view (projections/complaints.py) both follow it.
STATE_AFTER: dict[str, ComplaintState] = {
    "Lodged": ComplaintState.RECEIVED,
    "Acknowledged": ComplaintState.ACKNOWLEDGED,
    "InvestigationStarted": ComplaintState.INVESTIGATING,
    "Closed": ComplaintState.CLOSED,
}
# Which deadline each event sets (its field, the deadline's step): the view keeps them as the aggregate does.
DEADLINE_SET_BY: dict[str, tuple[str, str]] = {
    "Lodged": ("acknowledge_by", "acknowledgement"),
    "Acknowledged": ("investigate_by", "investigation"),
}


def check_complaint_step(step: str, state: ComplaintState) -> None:
    """Refuse a step that does not fit the complaint's state, in the secretariat's words."""
    allowed, verb = COMPLAINT_STEPS[step]
    if state in allowed:
        return
    expected = " or ".join(option.value for option in ComplaintState if option in allowed)
    raise StepNotAllowed(f"cannot {verb}: the complaint is {state.value}, not {expected}")


@dataclass(frozen=True)
class Involvement:
    """Who took part in the certification a complaint is about: the experts who audited the label's case (or
    the cluster's) and whoever decided it. DOMAIN.md (ISO/IEC 17065 §7.13): complaints are handled by people
    not involved."""

    auditors: frozenset[UUID] = frozenset()
    deciders: frozenset[str] = frozenset()

    def check_not_involved(self, person: str, person_expert_ids: frozenset[UUID], step: str) -> None:
        check_not_auditor(person, person_expert_ids, self.auditors, step)
        if person in self.deciders:
            raise ImpartialityViolation(
                f"{person} decided on the certification this complaint is about and cannot {step}"
            )


NOT_INVOLVED = Involvement()


@dataclass(frozen=True)
class ComplaintAlarm:
    """A moment the complaint's workflow wakes at: a reminder `offset` before a deadline, or the deadline."""

    kind: str  # reminder | deadline
    step: str  # acknowledgement | investigation
    at: datetime
    offset: str | None = None


class Complaint(RecordedAggregate):
    """One complaint; its id derives from the key of the request that lodged it."""

    id_kind = "complaint"

    @event("Lodged")
    def __init__(
        self,
        about: str,
        cluster_id: UUID,
        label_id: UUID | None,
        text: str,
        at: datetime,
        acknowledge_by: datetime,
        actor: str,
        command_key: str,
    ) -> None:
        self.about = about
        self.cluster_id = cluster_id
        self.label_id = label_id
        self.text = text
        self.lodged_at = at
        self.step_since = at  # when its current step began: its deadline's reminders fall after
        self.state = STATE_AFTER["Lodged"]
        self.deadlines: dict[str, datetime] = {"acknowledgement": acknowledge_by}
        self.outcome: ComplaintOutcome | None = None
        self.finding = ""
        self.escalations: list[str] = []

    @classmethod
    def lodge(
        cls,
        about: str,
        cluster_id: UUID,
        label_id: UUID | None,
        text: str,
        at: datetime,
        policy: Policy,
        actor: str,
        command_key: str,
    ) -> Complaint:
        acknowledge_by = policy.complaint_acknowledgement_deadline.after(at)
        return cls(about, cluster_id, label_id, text, at, acknowledge_by, actor, command_key)

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_COMPLAINT_STATES

    def current_deadline(self) -> tuple[str, datetime] | None:
        step = DEADLINE_BY_STATE.get(self.state)
        return None if step is None else (step, self.deadlines[step])

    def alarms(self, policy: Policy) -> list[ComplaintAlarm]:
        """The reminders (policy deadline_reminders before it), then the current deadline, earliest first.
        A reminder that would fall as the step begins, or before, is none: the step's own message tells
        (the default policy reminds 7 days ahead of a 7-day acknowledgement)."""
        current = self.current_deadline()
        if current is None:
            return []
        step, due = current
        schedule = schedule_before(policy.deadline_reminders, due)
        reminders = [
            ComplaintAlarm("reminder", step, at, offset) for offset, at in schedule.items() if at > self.step_since
        ]
        return sorted([*reminders, ComplaintAlarm("deadline", step, due)], key=lambda alarm: alarm.at)

    # ---- the secretariat's steps -----------------------------------------------------------------

    def acknowledge(self, at: datetime, policy: Policy, actor: str, command_key: str) -> None:
        check_complaint_step("acknowledge", self.state)
        investigate_by = policy.complaint_investigation_deadline.after(at)
        self._acknowledged(at=at, investigate_by=investigate_by, actor=actor, command_key=command_key)

    @event("Acknowledged")
    def _acknowledged(self, at: datetime, investigate_by: datetime, actor: str, command_key: str) -> None:
        self.state = STATE_AFTER["Acknowledged"]
        self.step_since = at
        self.deadlines["investigation"] = investigate_by

    def start_investigation(
        self, env: Envelope, involvement: Involvement = NOT_INVOLVED, actor_expert_ids: frozenset[UUID] = frozenset()
    ) -> None:
        """`involvement`: who took part in the certification complained about (none of them investigates);
        `actor_expert_ids`: the expert records the acting account speaks or spoke for."""
        check_complaint_step("start_investigation", self.state)
        involvement.check_not_involved(env.actor, actor_expert_ids, "investigate the complaint")
        self._investigation_started(at=env.instant(), actor=env.actor, command_key=env.key)

    @event("InvestigationStarted")
    def _investigation_started(self, at: datetime, actor: str, command_key: str) -> None:
        self.state = STATE_AFTER["InvestigationStarted"]

    def close(
        self,
        outcome: ComplaintOutcome,
        finding: str,
        env: Envelope,
        involvement: Involvement = NOT_INVOLVED,
        actor_expert_ids: frozenset[UUID] = frozenset(),
    ) -> None:
        check_complaint_step("close", self.state)
        involvement.check_not_involved(env.actor, actor_expert_ids, "decide on the complaint")
        if outcome is ComplaintOutcome.SUSPEND and self.label_id is None:
            raise InvalidInput(
                "the outcome suspend needs a label: this complaint names a cluster, not one of its labels",
                ["the outcome suspend needs a complaint about a label"],
            )
        self._closed(outcome=outcome.value, finding=finding, at=env.instant(), actor=env.actor, command_key=env.key)

    @event("Closed")
    def _closed(self, outcome: str, finding: str, at: datetime, actor: str, command_key: str) -> None:
        self.state = STATE_AFTER["Closed"]
        self.outcome = ComplaintOutcome(outcome)
        self.finding = finding

    # ---- the workflow's step: a deadline passed --------------------------------------------------

    def escalate(self, reason: str, at: datetime, actor: str, command_key: str) -> None:
        check_complaint_step("escalate", self.state)
        self._escalated(reason=reason, at=at, actor=actor, command_key=command_key)

    @event("Escalated")
    def _escalated(self, reason: str, at: datetime, actor: str, command_key: str) -> None:
        self.escalations.append(reason)
