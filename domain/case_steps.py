"""The steps of a case from its audit to its label: the assessment and its signatures, evidence, the
decision, appeals, the label recorded and the report frozen for the decision.

Each checks the step (the guards of CaseQueries, the rules of case_assessment, case_signatures and
case_decision), works out what to record and records it through the event methods of
CertificationCase (domain/certification_case.py), which inherits these: the events are the aggregate's
own, so that their topics name it; the commands live here to keep each module readable.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from uuid import UUID

from clusterlabel.domain import case_assessment, case_decision, case_signatures, case_visit, silver
from clusterlabel.domain.base import Level, StepNotAllowed
from clusterlabel.domain.case_lifecycle import BENCHMARK_OUTCOME, CaseKind, CaseState, Outcome
from clusterlabel.domain.case_queries import CaseQueries
from clusterlabel.domain.catalogue import AreaSummary, Catalogue, IndicatorScore
from clusterlabel.domain.command_base import Envelope
from clusterlabel.domain.label_lifecycle import check_held_for_renewal
from clusterlabel.domain.policy import Policy


class AuditAndDecisionSteps(CaseQueries):
    """The commands of a case from its assessment to its appeal; CertificationCase records their events."""

    # The event methods of CertificationCase that these commands record.
    _assessment_submitted: Callable[..., None]
    _silver_validated: Callable[..., None]
    _report_drafted: Callable[..., None]
    _assessment_signed: Callable[..., None]
    _report_submitted: Callable[..., None]
    _eligibility_lapsed: Callable[..., None]
    _decision_recorded: Callable[..., None]
    _appeal_lodged: Callable[..., None]
    _appeal_window_opened: Callable[..., None]
    _appeal_decided: Callable[..., None]
    _rejection_appeal_decided: Callable[..., None]
    _label_issued: Callable[..., None]
    _report_frozen: Callable[..., None]
    _evidence_attached: Callable[..., None]

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
        summaries: Sequence[AreaSummary] = (),
        overall: dict[str, str] | None = None,
        validation: silver.SilverValidation | None = None,
        silver_rules: silver.SilverRules | None = None,
        renew_by: datetime | None = None,
    ) -> None:
        """The team's scores on every indicator of the case's catalogue, and its report; with the findings
        (per indicator, per area, and `overall`: strengths, areas_for_improvement, success_stories). A team
        of several submits a version that its other experts sign (or replace with their own): case_signatures.
        A Silver case's Bronze scores come with the on-site `validation`, checked against `silver_rules` (the
        baseline and the Gold criteria current on its application day, and the gap since the Bronze round,
        measured at the interview): domain/silver.py. A renewal is benchmarked inside its label's renewal
        window (`renew_by`): the audit as it took place, or (no audit date) the assessment itself."""
        self.check_assessment(expert_id, catalogue, indicators, report, summaries)
        case_visit.check_audit_taken_place(self.audit_date, self.audit_held_on, at)
        if renew_by is not None:
            benchmarked = case_visit.audited_at(self.audit_date, self.audit_held_on, at)
            check_held_for_renewal(benchmarked, renew_by, "benchmarking on")
        validated = self._validate_silver(
            expert_id, catalogue, validation, silver_rules, policy, at, actor, command_key
        )
        scored = case_assessment.scored_assessment(
            self.level, self.improvement_areas, indicators, catalogue, policy, validated
        )
        findings = case_assessment.written_findings(indicators, summaries, **(overall or {}))
        self._assessment_submitted(
            expert_id=expert_id, **scored, findings=findings, at=at, actor=actor, command_key=command_key
        )
        if case_signatures.signs_as_a_team(self.level):
            self._report_drafted(expert_id=expert_id, report=report, at=at, actor=actor, command_key=command_key)
        else:
            self._submit_report(expert_id, report, policy, at, actor, command_key)

    def _validate_silver(
        self,
        expert_id: UUID,
        catalogue: Catalogue,
        validation: silver.SilverValidation | None,
        silver_rules: silver.SilverRules | None,
        policy: Policy,
        at: datetime,
        actor: str,
        command_key: str,
    ) -> bool:
        """Record a Silver case's validation, refused whole if incomplete or if its interview (held, else
        scheduled, else today) falls outside the gap after the Bronze round; whether it holds (False elsewhere)."""
        if not silver.validates_on_site(self.level, catalogue):
            silver.check_no_validation(validation)
            return False
        assert silver_rules is not None  # the handler loads them for a case validated on site
        if silver_rules.bronze_benchmarked_at is not None:
            interview = self.audit_held_on or self.audit_date or at
            case_assessment.check_silver_gap("", silver_rules.bronze_benchmarked_at, policy, interview, "interview")
        recorded = silver.checked_validation(
            validation, self.improvement_areas, silver_rules.baseline, silver_rules.criteria
        )
        self._silver_validated(expert_id=expert_id, validation=recorded, at=at, actor=actor, command_key=command_key)
        return recorded["holds"]

    def _submit_report(
        self, expert_id: UUID, report: str, policy: Policy, at: datetime, actor: str, command_key: str
    ) -> None:
        decision_due = policy.decision_deadline.after(at)
        self._report_submitted(
            expert_id=expert_id, report=report, decision_due=decision_due, at=at, actor=actor, command_key=command_key
        )

    def sign_assessment(
        self, expert_id: UUID, version: int | None, policy: Policy, at: datetime, actor: str, command_key: str
    ) -> None:
        """A team expert signs the current version; the last signature submits it for decision."""
        self.check_step("sign_assessment")
        case_signatures.check_signature(expert_id, self.team, self.signed_by, self.version_awaiting_signatures, version)
        signed = self.assessment_version
        self._assessment_signed(expert_id=expert_id, version=signed, at=at, actor=actor, command_key=command_key)
        if not case_signatures.unsigned(self.team, self.signed_by):
            assert self.draft_report is not None  # a version awaits signatures (check_signature)
            self._submit_report(expert_id, self.draft_report, policy, at, actor, command_key)

    def record_decision(
        self,
        outcome: Outcome,
        level: Level | None,
        rationale: str,
        policy: Policy,
        env: Envelope,
        *,
        decider_expert_ids: frozenset[UUID] = frozenset(),
        unmet_criteria: Sequence[str] = (),
    ) -> None:
        """The envelope's actor is the account deciding; `decider_expert_ids` the expert records it speaks or
        spoke for; `unmet_criteria` the eligibility criteria the cluster misses now (checked again here)."""
        at, actor, command_key = env.when()
        self.check_decider(actor, rationale, decider_expert_ids)
        recorded = case_assessment.recorded_outcome(outcome, self.kind, unmet_criteria)
        named = level if recorded != BENCHMARK_OUTCOME else level or self.recommended_level
        decided = case_assessment.decided_level(Outcome(outcome), named, self.level, self.recommended_level, recorded)
        if self.decision is not None:
            case_decision.check_not_worse_after_appeal(self.appeal, self.decision["level"], recorded, decided)
        if recorded == BENCHMARK_OUTCOME and unmet_criteria and self.kind is not CaseKind.BENCHMARKING:
            self._eligibility_lapsed(criteria=list(unmet_criteria), at=at, actor=actor, command_key=command_key)
        self._decision_recorded(
            outcome=recorded,
            level=decided.value,
            rationale=rationale,
            decided_by=actor,
            appeal_due=policy.appeal_window.after(at),
            at=at,
            actor=actor,
            command_key=command_key,
        )

    def lodge_appeal(self, grounds: str, at: datetime, actor: str, command_key: str) -> None:
        self.check_appeal_lodgeable(grounds, at)
        self._appeal_lodged(grounds=grounds, at=at, actor=actor, command_key=command_key)

    def decide_appeal(
        self, upheld: bool, rationale: str, policy: Policy, env: Envelope, decider_expert_ids: frozenset[UUID]
    ) -> None:
        """The envelope's actor decides: an account that speaks for `decider_expert_ids`."""
        at, actor, command_key = env.when()
        self.check_appeal_decider(actor, rationale, decider_expert_ids)
        appeal = {"upheld": upheld, "rationale": rationale, "decided_by": actor, "at": at}
        if self.state is CaseState.REJECTED:  # upheld: a new screening, by someone else (check_screening)
            screening_due = policy.screening_deadline.after(at)
            self._rejection_appeal_decided(**appeal, screening_due=screening_due, actor=actor, command_key=command_key)
            return
        decision_due = policy.decision_deadline.after(at)
        self._appeal_decided(**appeal, decision_due=decision_due, actor=actor, command_key=command_key)

    # ---- the label, the frozen report, evidence ----------------------------------------

    def open_appeal_window(self, at: datetime, policy: Policy, actor: str, command_key: str) -> bool:
        """An award below the level applied for may be appealed once its label is issued (the cluster holds
        the lower label meanwhile): the window runs from the decision, or from now if issuing the label took
        longer. Opened once: asked again, nothing is recorded and the answer is False."""
        self.check_step("open_appeal_window")
        if not self.award_below_level_applied or self.label_id is None:
            raise StepNotAllowed("only an award below the level applied for, its label issued, can be appealed")
        if not self.appeal_window_to_open:
            return False
        assert self.decision is not None
        due = policy.appeal_window.after(max(self.decision["at"], at))
        self._appeal_window_opened(appeal_due=due, actor=actor, command_key=command_key)
        return True

    def record_label(self, label_id: UUID, actor: str, command_key: str) -> None:
        self.check_label_to_record()
        self._label_issued(label_id=label_id, actor=actor, command_key=command_key)

    def freeze_report(self, sha256: str, size: int, at: datetime, actor: str, command_key: str) -> None:
        """Record the digest of the benchmarking report as rendered for the decision, so that a copy can
        be checked against the log; once per decision (a decision after an appeal freezes its own)."""
        decided_at = self.check_report_to_freeze(sha256, size)
        if decided_at is None:
            return  # frozen already, with these very bytes: a retry
        self._report_frozen(
            sha256=sha256, size=size, decided_at=decided_at, at=at, actor=actor, command_key=command_key
        )

    def attach_evidence(
        self, file_name: str, size: int, sha256: str, media_type: str, at: datetime, actor: str, command_key: str
    ) -> None:
        """A stored file joins the case's evidence; the same file (by hash) joins it once, under its first name."""
        self.check_step("attach_evidence")
        if sha256 not in self.evidence:
            self._evidence_attached(
                file_name=file_name,
                size=size,
                sha256=sha256,
                media_type=media_type,
                at=at,
                actor=actor,
                command_key=command_key,
            )
