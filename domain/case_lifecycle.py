"""The lifecycle of a certification case, as rules that the aggregate, the workflows' validators and the
views share: its states, which step each state allows, the deadline each state works against, and the
state each event leads to.

screening → assigning → auditing → deciding → awarded | refused | benchmarked, or rejected at screening, or
withdrawn from any open state. A refusal, a rejection at screening or an award below the level applied for may
be appealed inside the appeal window; an upheld appeal sends the case back to a new decision (a new screening,
for a rejection), and a decision taken after an upheld appeal is final. A case that asked
for benchmarking only, or whose cluster no longer meets an eligibility criterion when it is decided, ends
benchmarked: the cluster receives the report, not a label.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Protocol
from uuid import UUID

from clusterlabel.domain.base import StepNotAllowed


class CaseState(StrEnum):
    SCREENING = "screening"
    ASSIGNING = "assigning"
    AUDITING = "auditing"
    DECIDING = "deciding"
    AWARDED = "awarded"
    REFUSED = "refused"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    BENCHMARKED = "benchmarked"  # decided, the report delivered, no label (benchmarking only, or ineligible)


OPEN_STATES = frozenset({CaseState.SCREENING, CaseState.ASSIGNING, CaseState.AUDITING, CaseState.DECIDING})
# The states a decision leads to: its decision stands while the case is in one (an upheld appeal takes
# the case back to deciding, where the overturned decision no longer stands).
DECIDED_STATES = frozenset({CaseState.AWARDED, CaseState.REFUSED, CaseState.BENCHMARKED})
# The adverse decisions a cluster may appeal, inside the appeal window (ISO/IEC 17065 §7.13): an award only
# when it is below the level applied for (its label is issued meanwhile, and its window opened then).
APPEALABLE_STATES = frozenset({CaseState.REFUSED, CaseState.REJECTED, CaseState.AWARDED})


# The states in which each step may be taken, and how a refusal names the step: one table for
# the aggregate's guards and for the workflows' update validators, so both word it alike.
CASE_STEPS: dict[str, tuple[frozenset[CaseState], str]] = {
    "screen": (frozenset({CaseState.SCREENING}), "screen the application"),
    "propose_expert": (frozenset({CaseState.ASSIGNING}), "propose an expert"),
    "accept_assignment": (frozenset({CaseState.ASSIGNING}), "accept the assignment"),
    "decline_assignment": (frozenset({CaseState.ASSIGNING}), "decline the assignment"),
    "time_out_proposal": (frozenset({CaseState.ASSIGNING}), "time out the proposal"),
    # Once the assessment is in, it stands: the expert was certified when they submitted it.
    "release_expert": (frozenset({CaseState.ASSIGNING, CaseState.AUDITING}), "release an expert"),
    "record_agreement": (frozenset({CaseState.ASSIGNING}), "record the cluster's agreement"),
    "schedule_audit": (frozenset({CaseState.AUDITING}), "schedule the audit"),
    "record_audit_held": (frozenset({CaseState.AUDITING}), "record the audit as held"),
    "submit_assessment": (frozenset({CaseState.AUDITING}), "submit the assessment"),
    "sign_assessment": (frozenset({CaseState.AUDITING}), "sign the assessment"),
    "record_decision": (frozenset({CaseState.DECIDING}), "record a decision"),
    "lodge_appeal": (APPEALABLE_STATES, "appeal"),
    "decide_appeal": (APPEALABLE_STATES, "decide an appeal"),
    "record_label": (frozenset({CaseState.AWARDED}), "record the label"),
    "open_appeal_window": (frozenset({CaseState.AWARDED}), "open the appeal window"),
    # Awarded, a case still waits for its label: its workflow asks for help if the label cannot be issued;
    # appealed, for the appeals panel, whose decision is overdue (CaseQueries.appeal_decision_due).
    "escalate": (OPEN_STATES | APPEALABLE_STATES, "escalate"),
    "withdraw": (OPEN_STATES, "withdraw"),
    # Evidence serves the audit and the decision: once the case is decided it is the record of what they
    # rested on, and nothing joins it afterwards (an appeal's grounds are text, like its decision).
    "attach_evidence": (OPEN_STATES, "attach evidence"),
}


def check_case_step(step: str, state: CaseState) -> None:
    """Refuse a step that does not fit the case's state, in the secretariat's words."""
    allowed, verb = CASE_STEPS[step]
    if state in allowed:
        return
    if allowed == OPEN_STATES:
        raise StepNotAllowed(f"cannot {verb}: the case is already {state.value}")
    expected = " or ".join(option.value for option in CaseState if option in allowed)
    raise StepNotAllowed(f"cannot {verb}: the case is {state.value}, not {expected}")


def check_proposed(step: str, state: CaseState, proposed_expert_id: UUID | None, expert_id: UUID) -> None:
    """Only the expert currently proposed may answer (or be timed out on) the proposal."""
    check_case_step(step, state)
    if proposed_expert_id != expert_id:
        verb = CASE_STEPS[step][1]
        raise StepNotAllowed(f"cannot {verb}: expert {expert_id} is not the proposed expert of this case")


# Which deadline the case works against in each state; while assigning, "response" while a
# proposed expert has yet to answer, else "agreement" while the complete team waits for the
# cluster's answer (AgreementRequested). A refused case waits on the cluster (its appeal window), not on
# anyone who could be overdue, so it has none. The aggregate and the case status view use it;
# keyed by CaseState, a str, so that a view's plain text finds its entry too.
DEADLINE_STEP_BY_STATE: dict[str, str] = {
    CaseState.SCREENING: "screening",
    CaseState.ASSIGNING: "response",
    CaseState.AUDITING: "audit",
    CaseState.DECIDING: "decision",
}


def deadline_step(state: str, proposal_pending: bool, agreement_pending: bool = False) -> str | None:
    """The deadline a case in `state` (a CaseState or its text) works against, if any. A team completed
    before the agreement had a deadline has none pending: its case works against none, as it did."""
    step = DEADLINE_STEP_BY_STATE.get(state)
    if step != "response" or proposal_pending:
        return step
    return "agreement" if agreement_pending else None


class EventFields(Protocol):
    """An event's fields by name: the event's own arguments, or a view's stored-event reader."""

    def __getitem__(self, name: str, /) -> Any: ...


# The state each event (by class name) leads to, from its own fields. The aggregate enters
# these states and the case status view follows them, so the state machine is written once.
_STATE_AFTER: dict[str, Callable[[EventFields], CaseState | None]] = {
    "Screened": lambda e: CaseState.ASSIGNING if e["accepted"] else CaseState.REJECTED,
    "ClusterAgreedToExperts": lambda e: CaseState.AUDITING,
    "ExpertReleased": lambda e: CaseState.ASSIGNING,  # a seat to fill again, and the cluster to agree again
    "ReportSubmitted": lambda e: CaseState.DECIDING,
    "DecisionRecorded": lambda e: _DECIDED.get(e["outcome"], CaseState.REFUSED),
    "AppealDecided": lambda e: CaseState.DECIDING if e["upheld"] else None,  # upheld: decide again
    "RejectionAppealDecided": lambda e: CaseState.SCREENING if e["upheld"] else None,  # upheld: screen again
    "Withdrawn": lambda e: CaseState.WITHDRAWN,
}


def case_state_after(event_type: str, fields: EventFields) -> CaseState | None:
    """The state a case's event leads to; None if the event leaves the state as it was."""
    rule = _STATE_AFTER.get(event_type)
    return rule(fields) if rule else None


class CaseKind(StrEnum):
    INITIAL = "initial"
    RENEWAL = "renewal"
    BENCHMARKING = "benchmarking"  # benchmarking only: the report, never a label; open to any cluster


class Outcome(StrEnum):
    """What a decider may decide."""

    AWARD = "award"
    REFUSE = "refuse"


# The outcome a decision records when an award cannot give a label: the case asked for benchmarking
# only, or its cluster stopped meeting an eligibility criterion (EligibilityLapsed says which).
BENCHMARK_OUTCOME = "benchmark"
_DECIDED: dict[str, CaseState] = {Outcome.AWARD.value: CaseState.AWARDED, BENCHMARK_OUTCOME: CaseState.BENCHMARKED}


# ---- why a case's workflow escalates it (its notice words these in the reader's language) -----------

NO_EXPERT = "no eligible expert for the next seat of the team"
_DEADLINE_PASSED = re.compile(r"the (?P<step>\w+) deadline of (?P<due>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC has passed")


def deadline_passed(step: str, due: datetime) -> str:
    """The reason a step's deadline passing escalates the case with."""
    return f"the {step} deadline of {due:%Y-%m-%d %H:%M:%S} UTC has passed"


def passed_deadline(reason: str) -> tuple[str, datetime] | None:
    """The step and deadline a reason of deadline_passed names; None for another reason."""
    if (passed := _DEADLINE_PASSED.fullmatch(reason)) is None:
        return None
    return passed["step"], datetime.strptime(passed["due"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
