"""What a certification case holds and answers about itself without changing: the read-only side of
CertificationCase (domain/certification_case.py), which inherits it. Its queries serve the workflows,
the activities and the views; its guards answer whether a step may be taken now, and each command of
the case calls its guard before it records anything.

Only the case's events set these attributes (CertificationCase.__init__ and its `_…` event methods);
they are declared here so that the queries and guards type-check against them. The answers come from
the pure rules beside the case (case_lifecycle, case_team, case_assessment, case_decision), shared with
the views and the workflows' validators.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from clusterlabel.domain import case_assessment, case_decision, case_team, silver
from clusterlabel.domain.base import InvalidInput, Level, StepNotAllowed
from clusterlabel.domain.case_lifecycle import (
    APPEALABLE_STATES,
    DECIDED_STATES,
    OPEN_STATES,
    CaseKind,
    CaseState,
    check_case_step,
    check_proposed,
    deadline_step,
)
from clusterlabel.domain.catalogue import AreaSummary, Catalogue, IndicatorScore
from clusterlabel.domain.expert import Assignment, Nationality
from clusterlabel.domain.fees import AuditMode
from clusterlabel.domain.policy import Policy


class CaseQueries:
    """A case's state, the questions asked of it, and whether each of its steps may be taken now."""

    # The application, as submitted.
    cluster_id: UUID
    cluster_country: str
    level: Level
    kind: CaseKind
    catalogue_version: str
    previous_label_id: UUID | None
    previous_expert_ids: frozenset[UUID]
    improvement_areas: list[str]
    improvement_descriptions: list[dict[str, str]]  # on ESCA's form: area, actions, evidence (silver.DescribedArea)
    submitted_at: datetime
    # Where the case stands, the deadline of each step it has reached, and what needs the secretariat.
    state: CaseState
    deadlines: dict[str, datetime]
    attention: list[str]
    # The expert team: the open proposal, each member's seat, and who may not be asked again.
    proposed_expert_id: UUID | None
    proposed_nationality: Nationality | None
    team: dict[UUID, Nationality | None]
    former_team: set[UUID]  # released or objected to after they joined: they took part all the same
    excluded_expert_ids: set[UUID]
    # The agreement (when asked for, when given, and the audit's mode it priced: None if agreed before
    # the case kept it).
    agreement_asked_at: datetime | None
    agreed_at: datetime | None
    agreed_audit_mode: AuditMode | None
    # The audit (domain/case_visit.py): its date, how, where and for how long it is held, and the day
    # it took place; a team's assessment in versions, the current one's report and who has signed it.
    audit_date: datetime | None
    visit: dict[str, Any]
    audit_held_on: datetime | None
    audit_schedulings: int  # how often a date was set: the calendar invitation's SEQUENCE follows it
    assessment_version: int
    draft_report: str | None
    signed_by: list[UUID]
    scores: dict[str, int]
    assessed_at: datetime | None
    recommended_level: Level | None
    findings: case_assessment.Findings
    silver_validation: silver.Validation | None  # a Silver case's on-site validation (domain/silver.py)
    # The digest of the benchmarking report rendered for the decision: sha256, size, decided_at, at.
    frozen_report: dict[str, Any] | None
    decision: dict[str, Any] | None
    # The decision, who rejected at screening, the pending or last appeal (and those settled before a
    # new screening), the criteria a cluster missed at the decision, and the label an award led to.
    first_decided_by: str | None
    rejected_by: str | None
    appeal: dict[str, Any] | None
    past_appeals: list[dict[str, Any]]
    lapsed_criteria: list[str]
    label_id: UUID | None
    appealed_label_id: UUID | None  # an award's label, standing while an upheld appeal is decided again
    # The evidence documents by SHA-256: name, size, media type, who attached each (`by`) and when (`at`).
    evidence: dict[str, dict[str, Any]]

    def _nothing_yet(self) -> None:
        """What a new case does not have yet (its Submitted event sets the rest)."""
        self.proposed_expert_id = self.proposed_nationality = None
        self.agreement_asked_at = self.agreed_at = self.agreed_audit_mode = None
        self.audit_date = self.audit_held_on = None
        self.audit_schedulings = self.assessment_version = 0
        self.draft_report = self.assessed_at = self.recommended_level = self.frozen_report = None
        self.decision = self.first_decided_by = self.rejected_by = self.appeal = self.label_id = None
        self.appealed_label_id = None
        self.team, self.excluded_expert_ids, self.visit, self.signed_by = {}, set(), {}, []
        self.former_team = set()
        self.scores, self.findings = {}, case_assessment.NO_FINDINGS
        self.past_appeals, self.lapsed_criteria, self.attention, self.evidence = [], [], [], {}
        self.improvement_descriptions, self.silver_validation = [], None

    @property
    def expert_ids(self) -> list[UUID]:
        return list(self.team)

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def version_awaiting_signatures(self) -> int:
        """The team's version that awaits signatures, or 0: a team change sets a version's draft aside (the
        version count goes on)."""
        return self.assessment_version if self.draft_report is not None else 0

    @property
    def needs_attention(self) -> bool:
        return bool(self.attention)

    @property
    def audit_ahead(self) -> bool:
        """A date is set for an audit that has not taken place (no assessment yet): calling the case off
        cancels it in the team's and the cluster's calendars."""
        return self.audit_date is not None and self.audit_held_on is None and self.assessed_at is None

    def next_nationality(self) -> Nationality | None:
        """Which seat of the team the next proposal fills."""
        return case_team.next_nationality(self.level, self.team.values())

    @property
    def team_complete(self) -> bool:
        return case_team.is_team_complete(self.level, self.team)

    def awaiting_proposal(self) -> bool:
        return self.state is CaseState.ASSIGNING and self.proposed_expert_id is None and not self.team_complete

    def assignment_for(self, at: datetime, policy: Policy) -> Assignment:
        """What an expert must satisfy to be proposed for the next seat now.

        A member of the team is excluded along with those who declined, timed out or were objected
        to: nobody holds two seats, and nobody is asked twice."""
        return Assignment(
            cluster_id=self.cluster_id,
            cluster_country=self.cluster_country,
            at=at,
            level=self.level,
            cooling_off=policy.affiliation_cooling_off,
            previous_round_expert_ids=self.previous_expert_ids,
            rotate_experts=policy.rotate_experts,
            nationality=self.next_nationality(),
            excluded_expert_ids=frozenset(self.excluded_expert_ids | set(self.team)),
        )

    def current_deadline(self) -> tuple[str, datetime] | None:
        """The deadline the case is working against in its state, if any. A team completed before the
        agreement had a deadline (no AgreementRequested in its history) waits for the cluster with none."""
        step = deadline_step(self.state, self.proposed_expert_id is not None, "agreement" in self.deadlines)
        return (step, self.deadlines[step]) if step else None

    def step_since(self, step: str) -> datetime | None:
        """When the step the case works against began, where the case knows it: a deadline cut short (a
        renewal's, by its label's window) leaves less than the policy's allowance before it."""
        began = {"screening": self.submitted_at, "agreement": self.agreement_asked_at, "audit": self.agreed_at}
        return (self.appeal or {}).get("lodged_at") if step == "appeal_decision" else began.get(step)

    def awaits_help_for(self, reason: str) -> bool:
        """Already escalated for `reason`, and not settled since: a message would tell nobody anything new."""
        return reason in self.attention

    def appeal_decision_due(self, policy: Policy) -> datetime | None:
        """By when the appeals panel decides the appeal pending, if one is: `appeal_decision_deadline` after
        it was lodged, by the policy in force: an appeal left waiting is the secretariat's to chase."""
        if self.appeal is None or self.appeal["upheld"] is not None:
            return None
        return policy.appeal_decision_deadline.after(self.appeal["lodged_at"])

    def is_overdue(self, at: datetime) -> bool:
        deadline = self.current_deadline()
        return deadline is not None and at >= deadline[1]

    def is_concluded(self, at: datetime) -> bool:
        """Nothing more can happen: awarded, benchmarked, withdrawn, or refused or rejected for good. A
        rejection recorded before rejections could be appealed has no appeal window: it was final at once."""
        if self.state in APPEALABLE_STATES and "appeal" in self.deadlines:
            return self.decided_again or case_decision.is_refusal_final(self.appeal, self.deadlines["appeal"], at)
        return not self.is_open

    @property
    def decided_again(self) -> bool:
        """The adverse decision that stands was taken again after an upheld appeal: it is final (the appeals
        panel has had its say). A decision's upheld appeal stays on the case; a rejection's is settled by the
        screening again (CertificationCase._screened), so a case rejected once more has it among its past."""
        if self.appeal is not None:
            return bool(self.appeal.get("upheld"))
        return self.state is CaseState.REJECTED and any(
            past.get("upheld") and past.get("against") == CaseState.REJECTED.value for past in self.past_appeals
        )

    # ---- guards: each refuses its step with the DomainError that says why ------------

    def check_step(self, step: str) -> None:
        """Refuse a step that the case's state does not allow (CASE_STEPS)."""
        check_case_step(step, self.state)

    def check_screening(self, accepted: bool, reason: str, actor: str) -> None:
        """After an upheld appeal against a rejection, someone other than who rejected screens again."""
        self.check_step("screen")
        case_decision.check_not_appealed_decider(actor, self.rejected_by, "screen the application again")
        if not accepted:
            case_decision.require_reason(reason, "a rejection needs a reason")

    def check_seat_to_fill(self) -> None:
        """An expert may be proposed only for a free seat, and while no other proposal is open."""
        self.check_step("propose_expert")
        case_team.check_seat_to_fill(self.proposed_expert_id, self.team_complete)

    def check_answer(self, step: str, expert_id: UUID) -> None:
        """Only the expert currently proposed answers the proposal (or is timed out on it)."""
        check_proposed(step, self.state, self.proposed_expert_id, expert_id)

    def check_response_overdue(self, expert_id: UUID, at: datetime) -> None:
        self.check_answer("time_out_proposal", expert_id)
        case_team.check_response_overdue(self.deadlines["response"], at)

    def check_releasable(self, expert_id: UUID) -> None:
        """Only an expert on the team or proposed can be released, before the assessment is in."""
        self.check_step("release_expert")
        if expert_id not in self.team and expert_id != self.proposed_expert_id:
            raise StepNotAllowed(f"cannot release expert {expert_id}: they are neither on the team nor proposed")

    def check_team_to_agree_on(self) -> None:
        """The cluster answers to the whole expert team, not to part of it."""
        self.check_step("record_agreement")
        if not self.team_complete:
            raise StepNotAllowed("cannot record the cluster's agreement: the expert team is not complete")

    def check_assessment(
        self,
        expert_id: UUID,
        catalogue: Catalogue,
        indicators: Sequence[IndicatorScore],
        report: str,
        summaries: Sequence[AreaSummary] = (),
    ) -> None:
        """The case's own team assesses it, on the case's catalogue, completely."""
        self.check_step("submit_assessment")
        case_team.check_on_team(expert_id, self.team)
        case_assessment.check_assessment(catalogue, self.catalogue_version, indicators, report, summaries)

    def check_report_to_freeze(self, sha256: str, size: int) -> datetime | None:
        """The decision a report is frozen for; None when it is frozen for it already with this digest."""
        decision = self.decision_in_force  # not one an upheld appeal overturned: its report is no record
        if decision is None:
            why = "is not decided yet" if self.decision is None else "has no decision: an upheld appeal overturned it"
            raise StepNotAllowed(f"the case {why}: its report is frozen at the decision that stands")
        if not re.fullmatch(r"[0-9a-f]{64}", sha256) or size < 1:
            raise InvalidInput(f"{sha256!r} ({size} bytes) is not the SHA-256 of a rendered report")
        decided_at: datetime = decision["at"]
        frozen = self.frozen_report
        if frozen is None or frozen["decided_at"] != decided_at:
            return decided_at
        if frozen["sha256"] != sha256:
            raise StepNotAllowed(f"the case's report for this decision is frozen already, as {frozen['sha256']}")
        return None

    def check_decider(self, decided_by: str, rationale: str, decider_expert_ids: frozenset[UUID] = frozenset()) -> None:
        """Four eyes: nobody of the audit team decides; after an appeal, nor does whoever was appealed against."""
        self.check_step("record_decision")
        case_decision.check_not_auditor(decided_by, decider_expert_ids, self.evaluators, "decide on this case")
        if self.appeal is not None:
            case_decision.check_not_appealed_decider(decided_by, self.first_decided_by, "decide again")
        case_decision.require_reason(rationale, "a decision needs a rationale")

    @property
    def evaluators(self) -> frozenset[UUID]:
        """Every expert who was ever on the team: none of them judges the outcome (ISO/IEC 17065 §7.6)."""
        return frozenset(self.team) | self.former_team

    @property
    def decision_in_force(self) -> dict[str, Any] | None:
        """The decision that stands: the one the case's state follows from (awarded, refused, benchmarked).
        None before the first decision, and once an upheld appeal overturned it until a new one is taken, or
        for good if the case is withdrawn meanwhile: the overturned decision stays on the case (`decision`)
        and in its history, but no longer stands."""
        return self.decision if self.state in DECIDED_STATES else None

    @property
    def award_below_level_applied(self) -> bool:
        """An award the cluster may appeal: a lower level than it applied for (ISO/IEC 17065 §7.13)."""
        awarded = self.decision["level"] if self.state is CaseState.AWARDED and self.decision else None
        return awarded is not None and awarded.rank < self.level.rank

    @property
    def appeal_window_to_open(self) -> bool:
        """A lower award whose label is issued, its window not yet opened (a decision taken again after an
        upheld appeal has the first window's deadline already, and is final)."""
        return self.award_below_level_applied and self.label_id is not None and "appeal" not in self.deadlines

    def check_appeal_lodgeable(self, grounds: str, at: datetime) -> None:
        self.check_step("lodge_appeal")
        if self.state is CaseState.AWARDED and not self.award_below_level_applied:
            raise StepNotAllowed(f"the case was awarded the {self.level.value} level it applied for: nothing to appeal")
        if self.decided_again:
            raise StepNotAllowed(case_decision.FINAL_AFTER_APPEAL)
        if "appeal" not in self.deadlines:
            raise StepNotAllowed(self._why_no_appeal_window())
        case_decision.check_appeal_lodgeable(self.appeal, self.deadlines["appeal"], at, grounds)

    def _why_no_appeal_window(self) -> str:
        if self.state is not CaseState.AWARDED:
            return "this rejection was recorded before rejections could be appealed"
        if self.label_id is None:
            return "the appeal window of this award opens once its label is issued"
        return "this award was recorded before awards below the level applied for could be appealed"

    def appealed_decider(self) -> str | None:
        """Who took the decision under appeal: the screener for a rejection, else the first decider."""
        return self.rejected_by if self.state is CaseState.REJECTED else self.first_decided_by

    def check_appeal_decider(
        self, decided_by: str, rationale: str, decider_expert_ids: frozenset[UUID] = frozenset()
    ) -> None:
        """A pending appeal is decided by neither the audit team nor whoever took the appealed decision."""
        self.check_step("decide_appeal")
        case_decision.check_appeal_pending(self.appeal)
        case_decision.check_not_auditor(decided_by, decider_expert_ids, self.evaluators, "decide the appeal")
        case_decision.check_not_appealed_decider(decided_by, self.appealed_decider(), "decide the appeal")
        case_decision.check_not_appellant(decided_by, self.appeal, "decide the appeal")
        case_decision.require_reason(rationale, "an appeal decision needs a rationale")

    def check_label_to_record(self) -> None:
        """An awarded case leads to one label."""
        self.check_step("record_label")
        if self.label_id is not None:
            raise StepNotAllowed(f"label {self.label_id} was already issued for this case")

    def check_withdrawal(self, reason: str) -> None:
        self.check_step("withdraw")
        case_decision.require_reason(reason, "a withdrawal needs a reason")
