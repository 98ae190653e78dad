"""The steps of a case from its application to the cluster's agreement: the application, screening,
proposing experts and their answers, the cluster's agreement to the team, escalating to the secretariat,
and the withdrawal (the audit's visit is domain/case_visit.py's).

Each checks the step (the guards of CaseQueries, the team rules of case_team) and records it through the
event methods of CertificationCase (domain/certification_case.py), which inherits these, as it inherits
the audit and decision steps of domain/case_steps.py: the events are the aggregate's own, so that their
topics name it; the commands live here to keep each module readable.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Self
from uuid import UUID

from clusterlabel.domain import case_assessment, case_team, silver
from clusterlabel.domain.base import Level, StepNotAllowed
from clusterlabel.domain.case_lifecycle import CaseKind, CaseState, EventFields, case_state_after
from clusterlabel.domain.case_queries import CaseQueries
from clusterlabel.domain.catalogue import Catalogue
from clusterlabel.domain.cluster import Cluster
from clusterlabel.domain.command_base import Envelope
from clusterlabel.domain.expert import Expert
from clusterlabel.domain.fees import AuditMode
from clusterlabel.domain.label_lifecycle import check_renewal_window_open, renewal_audit_due, within_renewal_window
from clusterlabel.domain.policy import Policy


class IntakeAndAssignmentSteps(CaseQueries):
    """The commands of a case from its application to the cluster's agreement, and its withdrawal;
    CertificationCase records their events."""

    # The event methods of CertificationCase that these commands record.
    _screened: Callable[..., None]
    _appeal_window_opened: Callable[..., None]
    _expert_proposed: Callable[..., None]
    _expert_accepted: Callable[..., None]
    _agreement_requested: Callable[..., None]
    _expert_declined: Callable[..., None]
    _expert_response_timed_out: Callable[..., None]
    _expert_released: Callable[..., None]
    _escalated: Callable[..., None]
    _withdrawn: Callable[..., None]
    _cluster_agreed: Callable[..., None]
    _cluster_objected: Callable[..., None]
    _improvement_areas_described: Callable[..., None]

    if TYPE_CHECKING:  # the aggregate's own __init__, its Submitted event, takes the application's fields

        def __init__(self, **fields: Any) -> None: ...

    @classmethod
    def submit(
        cls,
        env: Envelope,
        *,
        cluster: Cluster,
        level: Level,
        kind: CaseKind,
        catalogue: Catalogue,
        policy: Policy,
        previous_label_id: UUID | None = None,
        improvement_areas: Sequence[str | silver.DescribedArea] = (),
        criteria: Catalogue | None = None,
        renewed_case_id: UUID | None = None,
        renew_by: datetime | None = None,
    ) -> Self:
        """A new case (the aggregate's Submitted event), after every rule about who may apply for what has passed;
        a Silver application's areas named on ESCA's form (with actions and evidence) are recorded beside it.
        A renewal names the case that earned the label it renews (`renewed_case_id`): its experts rotate out;
        its screening is due by that label's `renewable_until` (`renew_by`) at the latest."""
        at, actor, command_key = env.when()
        silver.check_descriptions(improvement_areas)
        codes = silver.area_codes(improvement_areas)
        fields = case_assessment.check_application(
            cluster, level, kind, catalogue, policy, at, codes, criteria, renewed_case_id, renew_by
        )
        case = cls(**fields, previous_label_id=previous_label_id, actor=actor, command_key=command_key)
        if described := silver.descriptions(improvement_areas):
            case._improvement_areas_described(areas=described, actor=actor, command_key=command_key)
        return case

    def screen(self, accepted: bool, reason: str, at: datetime, policy: Policy, actor: str, command_key: str) -> None:
        """Accept or reject; a rejection opens the appeal window (ISO/IEC 17065 §7.13)."""
        self.check_screening(accepted, reason, actor)
        self._screened(accepted=accepted, reason=reason, at=at, actor=actor, command_key=command_key)
        if not accepted:
            self._appeal_window_opened(appeal_due=policy.appeal_window.after(at), actor=actor, command_key=command_key)

    def propose_expert(
        self,
        expert: Expert,
        at: datetime,
        policy: Policy,
        actor: str,
        command_key: str,
        renew_by: datetime | None = None,
    ) -> None:
        """`renew_by`: a renewal's label's `renewable_until`, past which no expert is asked to audit it."""
        self.check_seat_to_fill()
        check_renewal_window_open(renew_by, at, "propose an expert")
        proposal = case_team.propose(expert, self.assignment_for(at, policy), policy.expert_response_timeout.after(at))
        self._expert_proposed(**proposal, at=at, actor=actor, command_key=command_key)

    def accept_assignment(
        self,
        expert_id: UUID,
        at: datetime,
        policy: Policy,
        actor: str,
        command_key: str,
        renew_by: datetime | None = None,
    ) -> None:
        """The proposed expert takes their seat; the one who fills the last seat completes the team, and the
        cluster is asked to agree to it (or object) within the policy's `agreement_deadline` (a renewal's:
        by its label's `renewable_until`, `renew_by`, at the latest)."""
        self.check_answer("accept_assignment", expert_id)
        self._expert_accepted(expert_id=expert_id, at=at, actor=actor, command_key=command_key)
        if self.team_complete:
            due = within_renewal_window(policy.agreement_deadline.after(at), renew_by)
            self._agreement_requested(agreement_due=due, at=at, actor=actor, command_key=command_key)

    def decline_assignment(self, expert_id: UUID, reason: str, at: datetime, actor: str, command_key: str) -> None:
        self.check_answer("decline_assignment", expert_id)
        self._expert_declined(expert_id=expert_id, reason=reason, at=at, actor=actor, command_key=command_key)

    def time_out_proposal(self, expert_id: UUID, at: datetime, actor: str, command_key: str) -> None:
        self.check_response_overdue(expert_id, at)
        self._expert_response_timed_out(expert_id=expert_id, at=at, actor=actor, command_key=command_key)

    def release_expert(self, expert_id: UUID, reason: str, at: datetime, actor: str, command_key: str) -> None:
        """An expert who may no longer work on the case (their certification was revoked, or a conflict of
        interest with the cluster was recorded) leaves it; the case goes back to assigning, so that another
        expert is proposed and the cluster agrees again (ISO/IEC 17065 §6.1: the evaluation is done by
        competent, certified personnel; §4.2: impartially)."""
        self.check_releasable(expert_id)
        self._expert_released(expert_id=expert_id, reason=reason, at=at, actor=actor, command_key=command_key)

    def escalate(self, reason: str, at: datetime, actor: str, command_key: str) -> None:
        """The secretariat must step in (no eligible expert, a missed deadline, ...). A refused or rejected
        case only while its appeal waits for the panel: else nothing is left to chase on it."""
        self.check_step("escalate")
        appeal_waits = self.appeal is not None and self.appeal["upheld"] is None
        if self.state in (CaseState.REFUSED, CaseState.REJECTED) and not appeal_waits:
            raise StepNotAllowed(f"cannot escalate: the case is {self.state.value} and no appeal waits")
        self._escalated(reason=reason, at=at, actor=actor, command_key=command_key)

    def record_agreement(
        self,
        agreed: bool,
        at: datetime,
        policy: Policy,
        actor: str,
        command_key: str,
        audit_mode: AuditMode = AuditMode.ON_SITE,
        renew_by: datetime | None = None,
    ) -> None:
        """The cluster's answer to the expert team, recorded by the secretariat; an agreement names how
        the audit is held (the visit's default mode, see domain/case_visit.py). `renew_by`: a renewal's
        label's `renewable_until`, by which its benchmarking is held (label_lifecycle.renewal_audit_due)."""
        self.check_team_to_agree_on()
        if agreed:
            audit_due = policy.audit_deadline.after(at)
            if renew_by is not None:
                audit_due = renewal_audit_due(audit_due, renew_by, at)
            mode = audit_mode.value
            self._cluster_agreed(audit_due=audit_due, audit_mode=mode, at=at, actor=actor, command_key=command_key)
        else:
            self._cluster_objected(expert_ids=self.expert_ids, at=at, actor=actor, command_key=command_key)

    # ---- what the event methods of CertificationCase share ---------------------------------

    def _clear_proposal(self) -> None:
        self.proposed_expert_id = None
        self.proposed_nationality = None
        self.deadlines.pop("response", None)

    def _settle_appeal(self, upheld: bool, decided_by: str) -> None:
        """The appeals panel has decided: the appeal no longer waits, nor does what its delay escalated."""
        self.appeal = {**(self.appeal or {}), "upheld": upheld, "decided_by": decided_by}
        self.attention = []

    def _follow(self, event_type: str, fields: EventFields) -> None:
        """Enter the state the event leads to; entering a new state settles what needed attention."""
        state = case_state_after(event_type, fields)
        if state is not None and state is not self.state:
            self.state = state
            self.attention = []

    def withdraw(self, reason: str, at: datetime, actor: str, command_key: str) -> None:
        self.check_withdrawal(reason)
        self._withdrawn(reason=reason, at=at, actor=actor, command_key=command_key)
