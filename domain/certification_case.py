"""One benchmarking round of one cluster for one label level: the certification case, and its events.

Its commands are in domain/case_intake_steps.py (application to agreement, withdrawal), case_visit.py
and case_steps.py (assessment to label); what it answers without changing, in case_queries.py. The rules
are pure functions beside it, shared with the workflows' validators and the views: case_lifecycle,
case_team, case_assessment, silver, case_signatures, case_decision.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from clusterlabel.domain import case_assessment, silver
from clusterlabel.domain.base import Level, RecordedAggregate
from clusterlabel.domain.case_intake_steps import IntakeAndAssignmentSteps
from clusterlabel.domain.case_lifecycle import CaseKind, CaseState
from clusterlabel.domain.case_steps import AuditAndDecisionSteps
from clusterlabel.domain.case_visit import AuditVisitSteps
from clusterlabel.domain.expert import Nationality
from clusterlabel.domain.fees import AuditMode


class CertificationCase(IntakeAndAssignmentSteps, AuditVisitSteps, AuditAndDecisionSteps, RecordedAggregate):
    """A case, from the application to the decision (and the label it leads to)."""

    id_kind = "case"

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
        self._nothing_yet()
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

    @event("ImprovementAreasDescribed")
    def _improvement_areas_described(self, areas: list[dict[str, str]], actor: str, command_key: str) -> None:
        """A Silver application's areas on ESCA's form (silver.DescribedArea): area, actions, evidence."""
        self.improvement_descriptions = list(areas)

    # ---- screening ---------------------------------------------------------------

    @event("Screened")
    def _screened(self, accepted: bool, reason: str, at: datetime, actor: str, command_key: str) -> None:
        if self.appeal is not None:  # a screening again, after an upheld appeal: that appeal is settled
            self.past_appeals.append(self.appeal)
            self.appeal = None
            self.deadlines.pop("appeal", None)  # and its window with it: a later decision opens its own
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

    @event("AgreementRequested")
    def _agreement_requested(self, agreement_due: datetime, at: datetime, actor: str, command_key: str) -> None:
        self.deadlines["agreement"], self.agreement_asked_at = agreement_due, at  # the team is complete

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
        if expert_id in self.team:  # one merely proposed took no part
            self.former_team.add(expert_id)
        self.team.pop(expert_id, None)
        self.excluded_expert_ids.add(expert_id)
        if self.proposed_expert_id == expert_id:
            self._clear_proposal()
        self.deadlines.pop("audit", None)  # the new team schedules its own audit,
        self.deadlines.pop("agreement", None)  # and the cluster agrees to it once it is complete
        self.audit_date, self.visit, self.audit_held_on = None, {}, None
        # No assessment stands: the new team's is its own (versions count on: an old one's signature never fits).
        self.signed_by, self.draft_report, self.scores, self.findings = [], None, {}, case_assessment.NO_FINDINGS
        self.assessed_at = self.recommended_level = self.silver_validation = None
        self._follow("ExpertReleased", {})

    @event("Escalated")
    def _escalated(self, reason: str, at: datetime, actor: str, command_key: str) -> None:
        self.attention = list(dict.fromkeys([*self.attention, reason]))  # each reason once; its events keep every look

    class ClusterAgreedToExperts(RecordedAggregate.Event):
        """Version 2 adds `audit_mode` (on_site, video): how the cluster agreed the audit is held. An
        agreement recorded before the case kept it has None: its visit may take any mode its level allows."""

        class_version = 2
        audit_due: datetime
        audit_mode: str | None
        at: datetime
        actor: str
        command_key: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["audit_mode"] = None

    @event(ClusterAgreedToExperts)
    def _cluster_agreed(
        self, audit_due: datetime, audit_mode: str | None, at: datetime, actor: str, command_key: str
    ) -> None:
        self.deadlines["audit"] = audit_due
        self.deadlines.pop("agreement", None)
        self.agreed_at = at
        self.agreed_audit_mode = AuditMode(audit_mode) if audit_mode else None
        self._follow("ClusterAgreedToExperts", {})

    @event("ClusterObjectedToExperts")
    def _cluster_objected(self, expert_ids: list[UUID], at: datetime, actor: str, command_key: str) -> None:
        self.excluded_expert_ids.update(expert_ids)
        self.former_team.update(self.team)
        self.team = {}
        self.deadlines.pop("agreement", None)

    # ---- audit ---------------------------------------------------------------------

    class AuditScheduled(RecordedAggregate.Event):
        """Version 2 adds the visit: its `mode` (on_site, video), `place` and `duration` (PT4H, P2D). An
        audit scheduled before the visit was recorded has none of them (None, "", None)."""

        class_version = 2
        audit_date: datetime
        mode: str | None
        place: str
        duration: str | None
        actor: str
        command_key: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state.update(mode=None, place="", duration=None)

    @event(AuditScheduled)
    def _audit_scheduled(
        self, audit_date: datetime, mode: str | None, place: str, duration: str | None, actor: str, command_key: str
    ) -> None:
        self.audit_date = audit_date
        self.visit = {"mode": mode, "place": place, "duration": duration}
        self.audit_schedulings += 1

    @event("AuditHeld")
    def _audit_held(
        self, expert_id: UUID | None, held_on: datetime, at: datetime, actor: str, command_key: str
    ) -> None:
        """The audit took place on `held_on` (recorded by a team expert, or an officer for them: None)."""
        self.audit_held_on = held_on

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

    @event("SilverValidated")
    def _silver_validated(
        self, expert_id: UUID, validation: dict[str, Any], at: datetime, actor: str, command_key: str
    ) -> None:
        self.silver_validation = silver.Validation(**validation)  # type: ignore[typeddict-item]

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
        lodged = {"grounds": grounds, "lodged_at": at, "lodged_by": actor, "upheld": None}
        self.appeal = {**lodged, "against": self.state.value}

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
        self._settle_appeal(upheld, decided_by)
        if upheld and (self.appeal or {}).get("against") == CaseState.AWARDED:  # its label stands till the new decision
            self.appealed_label_id, self.label_id = self.label_id, None
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
        self._settle_appeal(upheld, decided_by)
        self._follow("RejectionAppealDecided", {"upheld": upheld})
        if upheld:
            self.deadlines["screening"] = screening_due

    # ---- label, frozen report, withdrawal, evidence ------------------------------------

    @event("LabelIssued")
    def _label_issued(self, label_id: UUID, actor: str, command_key: str) -> None:
        self.label_id = label_id
        self.attention = []  # what held the label up (see CASE_STEPS["escalate"]) is settled

    @event("ReportFrozen")
    def _report_frozen(
        self, sha256: str, size: int, decided_at: datetime, at: datetime, actor: str, command_key: str
    ) -> None:
        self.frozen_report = {"sha256": sha256, "size": size, "decided_at": decided_at, "at": at}

    @event("Withdrawn")
    def _withdrawn(self, reason: str, at: datetime, actor: str, command_key: str) -> None:
        self._follow("Withdrawn", {})

    @event("EvidenceAttached")
    def _evidence_attached(
        self, file_name: str, size: int, sha256: str, media_type: str, at: datetime, actor: str, command_key: str
    ) -> None:
        self.evidence[sha256] = {"file_name": file_name, "size": size, "media_type": media_type, "by": actor, "at": at}
