"""The steps of a case from its screening to its audit date: screening, proposing experts and their
answers, the cluster's agreement to the team, scheduling the audit, and escalating to the secretariat.

Each checks the step (the guards of CaseQueries, the team rules of case_team) and records it through the
event methods of CertificationCase (domain/certification_case.py), which inherits these, as it inherits
the audit and decision steps of domain/case_steps.py: the events are the aggregate's own, so that their
topics name it; the commands live here to keep each module readable.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from uuid import UUID

from clusterlabel.domain import case_team
from clusterlabel.domain.case_queries import CaseQueries
from clusterlabel.domain.expert import Expert
from clusterlabel.domain.policy import Policy


class IntakeAndAssignmentSteps(CaseQueries):
    """The commands of a case from its screening to its audit date; CertificationCase records their events."""

    # The event methods of CertificationCase that these commands record.
    _screened: Callable[..., None]
    _appeal_window_opened: Callable[..., None]
    _expert_proposed: Callable[..., None]
    _expert_accepted: Callable[..., None]
    _expert_declined: Callable[..., None]
    _expert_response_timed_out: Callable[..., None]
    _expert_released: Callable[..., None]
    _escalated: Callable[..., None]
    _cluster_agreed: Callable[..., None]
    _cluster_objected: Callable[..., None]
    _audit_scheduled: Callable[..., None]

    def screen(self, accepted: bool, reason: str, at: datetime, policy: Policy, actor: str, command_key: str) -> None:
        """Accept or reject; a rejection opens the appeal window (ISO/IEC 17065 §7.13)."""
        self.check_screening(accepted, reason, actor)
        self._screened(accepted=accepted, reason=reason, at=at, actor=actor, command_key=command_key)
        if not accepted:
            self._appeal_window_opened(appeal_due=policy.appeal_window.after(at), actor=actor, command_key=command_key)

    def propose_expert(self, expert: Expert, at: datetime, policy: Policy, actor: str, command_key: str) -> None:
        self.check_seat_to_fill()
        proposal = case_team.propose(expert, self.assignment_for(at, policy), policy.expert_response_timeout.after(at))
        self._expert_proposed(**proposal, at=at, actor=actor, command_key=command_key)

    def accept_assignment(self, expert_id: UUID, at: datetime, actor: str, command_key: str) -> None:
        self.check_answer("accept_assignment", expert_id)
        self._expert_accepted(expert_id=expert_id, at=at, actor=actor, command_key=command_key)

    def decline_assignment(self, expert_id: UUID, reason: str, at: datetime, actor: str, command_key: str) -> None:
        self.check_answer("decline_assignment", expert_id)
        self._expert_declined(expert_id=expert_id, reason=reason, at=at, actor=actor, command_key=command_key)

    def time_out_proposal(self, expert_id: UUID, at: datetime, actor: str, command_key: str) -> None:
        self.check_response_overdue(expert_id, at)
        self._expert_response_timed_out(expert_id=expert_id, at=at, actor=actor, command_key=command_key)

    def release_expert(self, expert_id: UUID, reason: str, at: datetime, actor: str, command_key: str) -> None:
        """An expert who may no longer work on the case (their certification was revoked) leaves it; the
        case goes back to assigning, so that another expert is proposed and the cluster agrees again
        (ISO/IEC 17065 §6.1: the evaluation is done by competent, certified personnel)."""
        self.check_releasable(expert_id)
        self._expert_released(expert_id=expert_id, reason=reason, at=at, actor=actor, command_key=command_key)

    def escalate(self, reason: str, at: datetime, actor: str, command_key: str) -> None:
        """The secretariat must step in (no eligible expert, a missed deadline, ...)."""
        self.check_step("escalate")
        self._escalated(reason=reason, at=at, actor=actor, command_key=command_key)

    def record_agreement(self, agreed: bool, at: datetime, policy: Policy, actor: str, command_key: str) -> None:
        """The cluster's answer to the expert team, recorded by the secretariat."""
        self.check_team_to_agree_on()
        if agreed:
            self._cluster_agreed(audit_due=policy.audit_deadline.after(at), at=at, actor=actor, command_key=command_key)
        else:
            self._cluster_objected(expert_ids=self.expert_ids, at=at, actor=actor, command_key=command_key)

    def schedule_audit(self, audit_date: datetime, actor: str, command_key: str) -> None:
        self.check_step("schedule_audit")
        self._audit_scheduled(audit_date=audit_date, actor=actor, command_key=command_key)
