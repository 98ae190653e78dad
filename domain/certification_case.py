"""One benchmarking round of one cluster for one label level: the certification case.

Its events, and its withdrawal; the commands from screening to the audit date are in
domain/case_intake_steps.py, those of the audit, evidence, decision, appeal and label in domain/case_steps.py.
What it holds and answers without changing (is it open, overdue, may this
step be taken now) it inherits from CaseQueries in domain/case_queries.py. The rules are pure functions
beside it, shared with the workflows' validators and the views: the lifecycle (states, steps, deadlines)
in domain/case_lifecycle.py, the expert team in domain/case_team.py, the application and assessment in
domain/case_assessment.py, a team's signatures in domain/case_signatures.py, decisions and appeals in
domain/case_decision.py.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from clusterlabel.domain import case_assessment
from clusterlabel.domain.base import Level, RecordedAggregate
from clusterlabel.domain.case_intake_steps import IntakeAndAssignmentSteps
from clusterlabel.domain.case_lifecycle import (
    CaseKind,
    CaseState,
    EventFields,
    case_state_after,
)
from clusterlabel.domain.case_steps import AuditAndDecisionSteps
from clusterlabel.domain.catalogue import Catalogue
from clusterlabel.domain.cluster import Cluster
from clusterlabel.domain.expert import Nationality
from clusterlabel.domain.policy import Policy


class CertificationCase(IntakeAndAssignmentSteps, AuditAndDecisionSteps, RecordedAggregate):
    """A case, from the application to the decision (and the label it leads to)."""

    id_kind = "case"

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
        fields = case_assessment.check_application(cluster, level, kind, catalogue, policy, at, improvement_areas or [])
        return cls(**fields, previous_label_id=previous_label_id, actor=actor, command_key=command_key)

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
        self.deadlines = {"screening": screening_due}
        self.proposed_expert_id = None
        self.proposed_nationality = None
        self.team = {}
        self.excluded_expert_ids = set()
        self.audit_date = None
        self.audit_schedulings = 0  # how often a date was set: the calendar invitation's SEQUENCE follows it
        self.assessment_version = 0
        self.draft_report = None
        self.signed_by = []
        self.scores = {}
        self.assessed_at = None
        self.recommended_level = None
        self.findings = case_assessment.NO_FINDINGS
        self.frozen_report = None
        self.decision = None
        self.first_decided_by = None
        self.rejected_by = None
        self.appeal = None
        self.past_appeals = []
        self.lapsed_criteria = []
        self.label_id = None
        self.attention = []
        self.evidence = {}

    # ---- screening ---------------------------------------------------------------

    @event("Screened")
    def _screened(self, accepted: bool, reason: str, at: datetime, actor: str, command_key: str) -> None:
        if self.appeal is not None:  # a screening again, after an upheld appeal: that appeal is settled
            self.past_appeals.append(self.appeal)
            self.appeal = None
        if not accepted:
            self.rejected_by = actor
        self._follow("Screened", {"accepted": accepted})

    @event("AppealWindowOpened")
    def _appeal_window_opened(self, appeal_due: datetime, actor: str, command_key: str) -> None:
        self.deadlines["appeal"] = appeal_due

    # ---- expert assignment ---------------------------------------------------------

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

    @event("ExpertAccepted")
    def _expert_accepted(self, expert_id: UUID, at: datetime, actor: str, command_key: str) -> None:
        self.team[expert_id] = self.proposed_nationality
        self._clear_proposal()

    @event("ExpertDeclined")
    def _expert_declined(self, expert_id: UUID, reason: str, at: datetime, actor: str, command_key: str) -> None:
        self.excluded_expert_ids.add(expert_id)
        self._clear_proposal()

    @event("ExpertResponseTimedOut")
    def _expert_response_timed_out(self, expert_id: UUID, at: datetime, actor: str, command_key: str) -> None:
        self.excluded_expert_ids.add(expert_id)
        self._clear_proposal()

    @event("ExpertReleased")
    def _expert_released(self, expert_id: UUID, reason: str, at: datetime, actor: str, command_key: str) -> None:
        self.team.pop(expert_id, None)
        self.excluded_expert_ids.add(expert_id)
        if self.proposed_expert_id == expert_id:
            self._clear_proposal()
        self.deadlines.pop("audit", None)
        self.audit_date = None  # the new team schedules its own
        self.signed_by, self.draft_report = [], None  # and signs its own assessment
        self._follow("ExpertReleased", {})

    def _clear_proposal(self) -> None:
        self.proposed_expert_id = None
        self.proposed_nationality = None
        self.deadlines.pop("response", None)

    @event("Escalated")
    def _escalated(self, reason: str, at: datetime, actor: str, command_key: str) -> None:
        self.attention.append(reason)

    @event("ClusterAgreedToExperts")
    def _cluster_agreed(self, audit_due: datetime, at: datetime, actor: str, command_key: str) -> None:
        self.deadlines["audit"] = audit_due
        self._follow("ClusterAgreedToExperts", {})

    @event("ClusterObjectedToExperts")
    def _cluster_objected(self, expert_ids: list[UUID], at: datetime, actor: str, command_key: str) -> None:
        self.excluded_expert_ids.update(expert_ids)
        self.team = {}

    # ---- audit ---------------------------------------------------------------------

    @event("AuditScheduled")
    def _audit_scheduled(self, audit_date: datetime, actor: str, command_key: str) -> None:
        self.audit_date = audit_date
        self.audit_schedulings += 1

    class AssessmentSubmitted(RecordedAggregate.Event):
        """Version 2 adds `findings` (case_assessment.Findings): what the expert wrote beside the
        scores. An assessment submitted before findings were asked for wrote none."""

        class_version = 2
        expert_id: UUID
        catalogue_version: str
        scores: dict[str, int]
        evidence: dict[str, str]
        recommended_level: str
        findings: dict[str, Any]
        at: datetime
        actor: str
        command_key: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["findings"] = dict(case_assessment.NO_FINDINGS)

    @event(AssessmentSubmitted)
    def _assessment_submitted(
        self,
        expert_id: UUID,
        catalogue_version: str,
        scores: dict[str, int],
        evidence: dict[str, str],
        recommended_level: str,
        findings: dict[str, Any],
        at: datetime,
        actor: str,
        command_key: str,
    ) -> None:
        self.scores = scores
        self.findings = case_assessment.Findings(**findings)  # type: ignore[typeddict-item]
        self.assessed_at = at
        self.recommended_level = Level(recommended_level)

    @event("ReportDrafted")
    def _report_drafted(self, expert_id: UUID, report: str, at: datetime, actor: str, command_key: str) -> None:
        """A new version of the team's assessment, signed by the expert who submitted it alone."""
        self.assessment_version += 1
        self.draft_report = report
        self.signed_by = [expert_id]

    @event("AssessmentSigned")
    def _assessment_signed(self, expert_id: UUID, version: int, at: datetime, actor: str, command_key: str) -> None:
        self.signed_by.append(expert_id)

    @event("ReportSubmitted")
    def _report_submitted(
        self, expert_id: UUID, report: str, decision_due: datetime, at: datetime, actor: str, command_key: str
    ) -> None:
        if expert_id not in self.signed_by:  # a team of one signs by submitting
            self.signed_by.append(expert_id)
        self.deadlines["decision"] = decision_due
        self._follow("ReportSubmitted", {})

    # ---- decision and appeal -----------------------------------------------------------

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

    @event("EligibilityLapsed")
    def _eligibility_lapsed(self, criteria: list[str], at: datetime, actor: str, command_key: str) -> None:
        self.lapsed_criteria = list(criteria)

    @event("AppealLodged")
    def _appeal_lodged(self, grounds: str, at: datetime, actor: str, command_key: str) -> None:
        self.appeal = {"grounds": grounds, "lodged_at": at, "upheld": None, "against": self.state.value}

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

    @event("RejectionAppealDecided")
    def _rejection_appeal_decided(
        self,
        upheld: bool,
        rationale: str,
        decided_by: str,
        screening_due: datetime,
        at: datetime,
        actor: str,
        command_key: str,
    ) -> None:
        self.appeal = {**(self.appeal or {}), "upheld": upheld, "decided_by": decided_by}
        self._follow("RejectionAppealDecided", {"upheld": upheld})
        if upheld:
            self.deadlines["screening"] = screening_due

    # ---- label, withdrawal -------------------------------------------------------

    @event("LabelIssued")
    def _label_issued(self, label_id: UUID, actor: str, command_key: str) -> None:
        self.label_id = label_id
        self.attention = []  # what held the label up (see CASE_STEPS["escalate"]) is settled

    @event("ReportFrozen")
    def _report_frozen(
        self, sha256: str, size: int, decided_at: datetime, at: datetime, actor: str, command_key: str
    ) -> None:
        self.frozen_report = {"sha256": sha256, "size": size, "decided_at": decided_at, "at": at}

    def withdraw(self, reason: str, at: datetime, actor: str, command_key: str) -> None:
        self.check_withdrawal(reason)
        self._withdrawn(reason=reason, at=at, actor=actor, command_key=command_key)

    @event("Withdrawn")
    def _withdrawn(self, reason: str, at: datetime, actor: str, command_key: str) -> None:
        self._follow("Withdrawn", {})

    # ---- evidence documents ------------------------------------------------------------

    @event("EvidenceAttached")
    def _evidence_attached(
        self, file_name: str, size: int, sha256: str, media_type: str, at: datetime, actor: str, command_key: str
    ) -> None:
        self.evidence[sha256] = {"file_name": file_name, "size": size, "media_type": media_type, "by": actor, "at": at}

    def _follow(self, event_type: str, fields: EventFields) -> None:
        """Enter the state the event leads to; entering a new state settles what needed attention."""
        state = case_state_after(event_type, fields)
        if state is not None and state is not self.state:
            self.state = state
            self.attention = []
