"""One benchmarking round of one cluster for one label level: the certification case.

Its commands and events; the rules the commands apply are pure functions beside it, shared with the
workflows' validators and the views where they need them: the lifecycle (states, steps, deadlines) in
domain/case_lifecycle.py, the expert team in domain/case_team.py, the application and assessment in
domain/case_assessment.py, decisions and appeals in domain/case_decision.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from clusterlabel.domain import case_assessment, case_decision, case_team
from clusterlabel.domain.base import Level, RecordedAggregate, StepNotAllowed, derived_id
from clusterlabel.domain.case_lifecycle import (
    OPEN_STATES,
    CaseKind,
    CaseState,
    EventFields,
    Outcome,
    case_state_after,
    check_case_step,
    check_proposed,
    deadline_step,
)
from clusterlabel.domain.catalogue import Catalogue, IndicatorScore
from clusterlabel.domain.cluster import Cluster
from clusterlabel.domain.expert import Assignment, Expert, Nationality
from clusterlabel.domain.policy import Policy


class CertificationCase(RecordedAggregate):
    """A case, from the application to the decision (and the label it leads to)."""

    @staticmethod
    def create_id(command_key: str) -> UUID:
        return derived_id("case", command_key)

    @classmethod
    def submit(
        cls,
        *,
        cluster: Cluster,
        level: Level,
        kind: CaseKind,
        catalogue: Catalogue,
        policy: Policy,
        at: datetime,
        actor: str,
        command_key: str,
        previous_label_id: UUID | None = None,
        improvement_areas: list[str] | None = None,
    ) -> CertificationCase:
        """A new case, after every rule about who may apply for what has passed."""
        cluster.check_eligible(policy)
        areas = case_assessment.check_improvement_areas(level, catalogue, improvement_areas or [])
        if level is Level.SILVER and kind is CaseKind.INITIAL:  # a Silver renewal follows its own round
            bronze = cluster.last_round(Level.BRONZE)
            case_assessment.check_silver_gap(cluster.name, bronze["assessed_at"] if bronze else None, policy, at)
        previous = cluster.last_round()
        return cls(
            cluster_id=cluster.id,
            cluster_country=cluster.country,
            level=level.value,
            kind=kind.value,
            catalogue_version=catalogue.version,
            previous_label_id=previous_label_id,
            previous_expert_ids=list(previous["expert_ids"]) if previous else [],
            improvement_areas=areas,
            submitted_at=at,
            screening_due=policy.screening_deadline.after(at),
            actor=actor,
            command_key=command_key,
        )

    @event("Submitted")
    def __init__(
        self,
        cluster_id: UUID,
        cluster_country: str,
        level: str,
        kind: str,
        catalogue_version: str,
        previous_label_id: UUID | None,
        previous_expert_ids: list[UUID],
        improvement_areas: list[str],
        submitted_at: datetime,
        screening_due: datetime,
        actor: str,
        command_key: str,
    ) -> None:
        self.command_keys = set()
        self.cluster_id = cluster_id
        self.cluster_country = cluster_country
        self.level = Level(level)
        self.kind = CaseKind(kind)
        self.catalogue_version = catalogue_version
        self.previous_label_id = previous_label_id
        self.previous_expert_ids = frozenset(previous_expert_ids)
        self.improvement_areas = list(improvement_areas)
        self.submitted_at = submitted_at
        self.state = CaseState.SCREENING
        self.deadlines: dict[str, datetime] = {"screening": screening_due}
        self.proposed_expert_id: UUID | None = None
        self.proposed_nationality: Nationality | None = None
        self.team: dict[UUID, Nationality | None] = {}
        self.excluded_expert_ids: set[UUID] = set()
        self.audit_date: datetime | None = None
        self.scores: dict[str, int] = {}
        self.assessed_at: datetime | None = None
        self.recommended_level: Level | None = None
        self.decision: dict[str, Any] | None = None
        self.first_decided_by: str | None = None
        self.appeal: dict[str, Any] | None = None
        self.label_id: UUID | None = None
        self.attention: list[str] = []

    # ---- views -------------------------------------------------------------------

    @property
    def expert_ids(self) -> list[UUID]:
        return list(self.team)

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def needs_attention(self) -> bool:
        return bool(self.attention)

    def next_nationality(self) -> Nationality | None:
        """Which seat of the team the next proposal fills."""
        return case_team.next_nationality(self.level, self.team.values())

    @property
    def team_complete(self) -> bool:
        return case_team.is_team_complete(self.level, self.team)

    def awaiting_proposal(self) -> bool:
        return self.state is CaseState.ASSIGNING and self.proposed_expert_id is None and not self.team_complete

    def assignment_for(self, at: datetime, policy: Policy) -> Assignment:
        """What an expert must satisfy to be proposed for the next seat now."""
        return case_team.next_assignment(
            cluster_id=self.cluster_id,
            cluster_country=self.cluster_country,
            level=self.level,
            team=self.team,
            excluded_expert_ids=self.excluded_expert_ids,
            previous_round_expert_ids=self.previous_expert_ids,
            rotate_experts=policy.rotate_experts,
            at=at,
        )

    def current_deadline(self) -> tuple[str, datetime] | None:
        """The deadline the case is working against in its state, if any."""
        step = deadline_step(self.state, self.proposed_expert_id is not None)
        return (step, self.deadlines[step]) if step else None

    def is_overdue(self, at: datetime) -> bool:
        deadline = self.current_deadline()
        return deadline is not None and at >= deadline[1]

    def is_concluded(self, at: datetime) -> bool:
        """Nothing more can happen: awarded, rejected, withdrawn, or refused for good."""
        if self.state is CaseState.REFUSED:
            return case_decision.is_refusal_final(self.appeal, self.deadlines["appeal"], at)
        return not self.is_open

    # ---- screening ---------------------------------------------------------------

    def screen(self, accepted: bool, reason: str, at: datetime, actor: str, command_key: str) -> None:
        check_case_step("screen", self.state)
        if not accepted:
            case_decision.require_reason(reason, "a rejection needs a reason")
        self._screened(accepted=accepted, reason=reason, at=at, actor=actor, command_key=command_key)

    @event("Screened")
    def _screened(self, accepted: bool, reason: str, at: datetime, actor: str, command_key: str) -> None:
        self._follow("Screened", {"accepted": accepted})

    # ---- expert assignment ---------------------------------------------------------

    def propose_expert(self, expert: Expert, at: datetime, policy: Policy, actor: str, command_key: str) -> None:
        check_case_step("propose_expert", self.state)
        case_team.check_seat_to_fill(self.proposed_expert_id, self.team_complete)
        assignment = self.assignment_for(at, policy)
        expert.check_eligible(assignment)
        self._expert_proposed(
            expert_id=expert.id,
            nationality=assignment.nationality.value if assignment.nationality else None,
            response_due=policy.expert_response_timeout.after(at),
            at=at,
            actor=actor,
            command_key=command_key,
        )

    @event("ExpertProposed")
    def _expert_proposed(
        self,
        expert_id: UUID,
        nationality: str | None,
        response_due: datetime,
        at: datetime,
        actor: str,
        command_key: str,
    ) -> None:
        self.proposed_expert_id = expert_id
        self.proposed_nationality = Nationality(nationality) if nationality else None
        self.deadlines["response"] = response_due
        self.attention = []

    def accept_assignment(self, expert_id: UUID, at: datetime, actor: str, command_key: str) -> None:
        check_proposed("accept_assignment", self.state, self.proposed_expert_id, expert_id)
        self._expert_accepted(expert_id=expert_id, at=at, actor=actor, command_key=command_key)

    @event("ExpertAccepted")
    def _expert_accepted(self, expert_id: UUID, at: datetime, actor: str, command_key: str) -> None:
        self.team[expert_id] = self.proposed_nationality
        self._clear_proposal()

    def decline_assignment(self, expert_id: UUID, reason: str, at: datetime, actor: str, command_key: str) -> None:
        check_proposed("decline_assignment", self.state, self.proposed_expert_id, expert_id)
        self._expert_declined(expert_id=expert_id, reason=reason, at=at, actor=actor, command_key=command_key)

    @event("ExpertDeclined")
    def _expert_declined(self, expert_id: UUID, reason: str, at: datetime, actor: str, command_key: str) -> None:
        self.excluded_expert_ids.add(expert_id)
        self._clear_proposal()

    def time_out_proposal(self, expert_id: UUID, at: datetime, actor: str, command_key: str) -> None:
        check_proposed("time_out_proposal", self.state, self.proposed_expert_id, expert_id)
        case_team.check_response_overdue(self.deadlines["response"], at)
        self._expert_response_timed_out(expert_id=expert_id, at=at, actor=actor, command_key=command_key)

    @event("ExpertResponseTimedOut")
    def _expert_response_timed_out(self, expert_id: UUID, at: datetime, actor: str, command_key: str) -> None:
        self.excluded_expert_ids.add(expert_id)
        self._clear_proposal()

    def _clear_proposal(self) -> None:
        self.proposed_expert_id = None
        self.proposed_nationality = None
        self.deadlines.pop("response", None)

    def escalate(self, reason: str, at: datetime, actor: str, command_key: str) -> None:
        """The secretariat must step in (no eligible expert, a missed deadline, ...)."""
        check_case_step("escalate", self.state)
        self._escalated(reason=reason, at=at, actor=actor, command_key=command_key)

    @event("Escalated")
    def _escalated(self, reason: str, at: datetime, actor: str, command_key: str) -> None:
        self.attention.append(reason)

    def record_agreement(self, agreed: bool, at: datetime, policy: Policy, actor: str, command_key: str) -> None:
        """The cluster's answer to the expert team, recorded by the secretariat."""
        check_case_step("record_agreement", self.state)
        if not self.team_complete:
            raise StepNotAllowed("cannot record the cluster's agreement: the expert team is not complete")
        if agreed:
            self._cluster_agreed(audit_due=policy.audit_deadline.after(at), at=at, actor=actor, command_key=command_key)
        else:
            self._cluster_objected(expert_ids=self.expert_ids, at=at, actor=actor, command_key=command_key)

    @event("ClusterAgreedToExperts")
    def _cluster_agreed(self, audit_due: datetime, at: datetime, actor: str, command_key: str) -> None:
        self.deadlines["audit"] = audit_due
        self._follow("ClusterAgreedToExperts", {})

    @event("ClusterObjectedToExperts")
    def _cluster_objected(self, expert_ids: list[UUID], at: datetime, actor: str, command_key: str) -> None:
        self.excluded_expert_ids.update(expert_ids)
        self.team = {}

    # ---- audit ---------------------------------------------------------------------

    def schedule_audit(self, audit_date: datetime, actor: str, command_key: str) -> None:
        check_case_step("schedule_audit", self.state)
        self._audit_scheduled(audit_date=audit_date, actor=actor, command_key=command_key)

    @event("AuditScheduled")
    def _audit_scheduled(self, audit_date: datetime, actor: str, command_key: str) -> None:
        self.audit_date = audit_date

    def submit_assessment(
        self,
        expert_id: UUID,
        indicators: Sequence[IndicatorScore],
        report: str,
        catalogue: Catalogue,
        policy: Policy,
        at: datetime,
        actor: str,
        command_key: str,
    ) -> None:
        """The team's scores on every indicator of the case's catalogue, and its report."""
        check_case_step("submit_assessment", self.state)
        case_team.check_on_team(expert_id, self.team)
        case_assessment.check_assessment(catalogue, self.catalogue_version, indicators, report)
        scores = {item.code: item.score for item in indicators}
        recommended = case_assessment.supported_level(
            self.level, self.improvement_areas, scores, catalogue, policy.gold_min_percentage
        )
        self._assessment_submitted(
            expert_id=expert_id,
            catalogue_version=catalogue.version,
            scores=scores,
            evidence={item.code: item.evidence for item in indicators if item.evidence},
            recommended_level=recommended.value,
            at=at,
            actor=actor,
            command_key=command_key,
        )
        self._report_submitted(
            expert_id=expert_id,
            report=report,
            decision_due=policy.decision_deadline.after(at),
            at=at,
            actor=actor,
            command_key=command_key,
        )

    @event("AssessmentSubmitted")
    def _assessment_submitted(
        self,
        expert_id: UUID,
        catalogue_version: str,
        scores: dict[str, int],
        evidence: dict[str, str],
        recommended_level: str,
        at: datetime,
        actor: str,
        command_key: str,
    ) -> None:
        self.scores = scores
        self.assessed_at = at
        self.recommended_level = Level(recommended_level)

    @event("ReportSubmitted")
    def _report_submitted(
        self, expert_id: UUID, report: str, decision_due: datetime, at: datetime, actor: str, command_key: str
    ) -> None:
        self.deadlines["decision"] = decision_due
        self._follow("ReportSubmitted", {})

    # ---- decision and appeal -----------------------------------------------------------

    def record_decision(
        self,
        outcome: Outcome,
        level: Level | None,
        rationale: str,
        decided_by: str,
        at: datetime,
        policy: Policy,
        actor: str,
        command_key: str,
    ) -> None:
        check_case_step("record_decision", self.state)
        case_decision.check_not_auditor(decided_by, self.team, "decide on this case")
        if self.appeal is not None:
            case_decision.check_not_appealed_decider(decided_by, self.first_decided_by, "decide again")
        case_decision.require_reason(rationale, "a decision needs a rationale")
        level = level or self.level  # unless the decision says otherwise, the level applied for
        if outcome is Outcome.AWARD:
            assert self.recommended_level is not None  # a case in `deciding` has been assessed
            case_assessment.check_awardable(level, self.level, self.recommended_level)
        self._decision_recorded(
            outcome=outcome.value,
            level=level.value,
            rationale=rationale,
            decided_by=decided_by,
            appeal_due=policy.appeal_window.after(at),
            at=at,
            actor=actor,
            command_key=command_key,
        )

    @event("DecisionRecorded")
    def _decision_recorded(
        self,
        outcome: str,
        level: str,
        rationale: str,
        decided_by: str,
        appeal_due: datetime,
        at: datetime,
        actor: str,
        command_key: str,
    ) -> None:
        self.decision = {"outcome": outcome, "level": Level(level), "decided_by": decided_by, "at": at}
        self.first_decided_by = self.first_decided_by or decided_by
        self._follow("DecisionRecorded", {"outcome": outcome})
        if self.state is CaseState.REFUSED:
            self.deadlines["appeal"] = appeal_due

    def lodge_appeal(self, grounds: str, at: datetime, actor: str, command_key: str) -> None:
        check_case_step("lodge_appeal", self.state)
        case_decision.check_appeal_lodgeable(self.appeal, self.deadlines["appeal"], at, grounds)
        self._appeal_lodged(grounds=grounds, at=at, actor=actor, command_key=command_key)

    @event("AppealLodged")
    def _appeal_lodged(self, grounds: str, at: datetime, actor: str, command_key: str) -> None:
        self.appeal = {"grounds": grounds, "lodged_at": at, "upheld": None}

    def decide_appeal(
        self, upheld: bool, rationale: str, decided_by: str, at: datetime, policy: Policy, actor: str, command_key: str
    ) -> None:
        check_case_step("decide_appeal", self.state)
        case_decision.check_appeal_pending(self.appeal)
        case_decision.check_not_auditor(decided_by, self.team, "decide the appeal")
        case_decision.check_not_appealed_decider(decided_by, self.first_decided_by, "decide the appeal")
        case_decision.require_reason(rationale, "an appeal decision needs a rationale")
        self._appeal_decided(
            upheld=upheld,
            rationale=rationale,
            decided_by=decided_by,
            decision_due=policy.decision_deadline.after(at),
            at=at,
            actor=actor,
            command_key=command_key,
        )

    @event("AppealDecided")
    def _appeal_decided(
        self,
        upheld: bool,
        rationale: str,
        decided_by: str,
        decision_due: datetime,
        at: datetime,
        actor: str,
        command_key: str,
    ) -> None:
        self.appeal = {**(self.appeal or {}), "upheld": upheld, "decided_by": decided_by}
        self._follow("AppealDecided", {"upheld": upheld})
        if upheld:
            self.deadlines["decision"] = decision_due

    # ---- label, withdrawal -------------------------------------------------------

    def record_label(self, label_id: UUID, actor: str, command_key: str) -> None:
        check_case_step("record_label", self.state)
        if self.label_id is not None:
            raise StepNotAllowed(f"label {self.label_id} was already issued for this case")
        self._label_issued(label_id=label_id, actor=actor, command_key=command_key)

    @event("LabelIssued")
    def _label_issued(self, label_id: UUID, actor: str, command_key: str) -> None:
        self.label_id = label_id
        self.attention = []  # what held the label up (see CASE_STEPS["escalate"]) is settled

    def withdraw(self, reason: str, at: datetime, actor: str, command_key: str) -> None:
        check_case_step("withdraw", self.state)
        case_decision.require_reason(reason, "a withdrawal needs a reason")
        self._withdrawn(reason=reason, at=at, actor=actor, command_key=command_key)

    @event("Withdrawn")
    def _withdrawn(self, reason: str, at: datetime, actor: str, command_key: str) -> None:
        self._follow("Withdrawn", {})

    def _follow(self, event_type: str, fields: EventFields) -> None:
        """Enter the state the event leads to; entering a new state settles what needed attention."""
        state = case_state_after(event_type, fields)
        if state is not None and state is not self.state:
            self.state = state
            self.attention = []
