"""The activities: the only code the workflows use to touch the event store and the outside world.

Each activity takes one input model, runs one command of CertificationApp under the idempotency key the
workflow derived from domain data, and answers with a small view. eventsourcing is synchronous, so these
are plain functions, run by the worker on a thread pool. A domain refusal is final (non-retryable
ApplicationError typed with the error's class name); a concurrency conflict is retried by Temporal.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Any
from uuid import UUID

import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.application import CertificationApp
from activities.models import (
    AgreementInput,
    Alarm,
    AppealDecisionInput,
    AppealInput,
    AssessmentInput,
    CaseCommandInput,
    CaseRef,
    CaseReminderInput,
    CaseView,
    ChooseExpertInput,
    DecisionInput,
    EscalateInput,
    ExpertChoice,
    ExpiryReminderInput,
    LabelCommandInput,
    LabelIssued,
    LabelReasonInput,
    LabelRef,
    LabelView,
    ProposeExpertInput,
    RenewalStarted,
    RespondInput,
    ScheduleAuditInput,
    ScreenInput,
    StartRenewalInput,
    TimeOutProposalInput,
    WithdrawCaseInput,
)
from domain.base import ConcurrencyConflict, DomainError, Level
from domain.certification_case import CaseState, CertificationCase, Outcome
from domain.label import Label, LabelState

log = structlog.stdlib.get_logger(__name__)

SECRETARIAT = "secretariat"
FINAL_LABEL_STATES = frozenset({LabelState.LAPSED, LabelState.SUPERSEDED, LabelState.WITHDRAWN})


@contextmanager
def unit_of_work(**ids: Any) -> Iterator[None]:
    """Bind the ids to every log line of the activity, and turn domain refusals into Temporal failures."""
    info = activity.info() if activity.in_activity() else None
    bound = {name: str(value) for name, value in ids.items() if value is not None}
    if info is not None:
        bound.update(workflow_id=info.workflow_id, activity=info.activity_type, attempt=str(info.attempt))
    with structlog.contextvars.bound_contextvars(**bound):
        try:
            yield
        except ConcurrencyConflict as error:
            log.warning("concurrency conflict, Temporal retries", error=error.message)
            raise ApplicationError(error.message, error.problems, type=type(error).__name__) from error
        except DomainError as error:
            log.info("command refused", error=error.message, error_type=type(error).__name__)
            raise ApplicationError(
                error.message, error.problems, type=type(error).__name__, non_retryable=True
            ) from error


def case_view(app: CertificationApp, case: CertificationCase, at: datetime) -> CaseView:
    """The case as its workflow sees it, with the alarms of the step it is in."""
    current = case.current_deadline()
    step = current[0] if current else None
    alarms: list[Alarm] = []
    if current is not None:
        step, due = current
        if step in app.policy.reminded_deadlines:
            for offset in app.policy.deadline_reminders:
                remind_at = offset.before(due)
                alarms.append(Alarm(kind="reminder", step=step, offset=str(offset), at=remind_at))
        alarms.append(Alarm(kind="deadline", step=step, at=due))
    elif case.state is CaseState.REFUSED and case.appeal is None:
        step = "appeal"
        alarms.append(Alarm(kind="deadline", step=step, at=case.deadlines["appeal"]))
    appeal = case.appeal or {}
    return CaseView(
        case_id=case.id,
        cluster_id=case.cluster_id,
        level=case.level.value,
        kind=case.kind.value,
        state=case.state.value,
        version=case.version,
        team=case.expert_ids,
        team_complete=case.team_complete,
        awaiting_proposal=case.awaiting_proposal(),
        proposed_expert_id=case.proposed_expert_id,
        deadlines=dict(case.deadlines),
        current_step=step,
        alarms=sorted(alarms, key=lambda alarm: alarm.at),
        needs_attention=case.needs_attention,
        attention=list(case.attention),
        appeal_lodged=case.appeal is not None,
        appeal_upheld=appeal.get("upheld"),
        concluded=case.is_concluded(at),
        label_id=case.label_id,
        previous_label_id=case.previous_label_id,
    )


def label_view(app: CertificationApp, label: Label) -> LabelView:
    """The label as its workflow sees it, with every alarm still pending, earliest first."""
    alarms: list[Alarm] = []
    if label.state in (LabelState.ACTIVE, LabelState.SUSPENDED):
        for offset in app.policy.expiry_reminders:
            remind_at = offset.before(label.valid_until)
            if str(offset) not in label.reminders_sent and remind_at >= label.decided_at:
                alarms.append(Alarm(kind="reminder", offset=str(offset), at=remind_at))
        alarms.append(Alarm(kind="expiry", at=label.valid_until))
    if label.state is LabelState.SUSPENDED and label.suspended_until is not None:
        alarms.append(Alarm(kind="suspension_limit", at=label.suspended_until))
    if label.state is LabelState.EXPIRED and label.renewal_case_id is None:
        alarms.append(Alarm(kind="renewal_window_close", at=label.renewable_until))
    return LabelView(
        label_id=label.id,
        label_code=label.label_code,
        case_id=label.case_id,
        cluster_id=label.cluster_id,
        level=label.level.value,
        state=label.state.value,
        version=label.version,
        valid_until=label.valid_until,
        renewable_until=label.renewable_until,
        reminders_sent=list(label.reminders_sent),
        suspended_until=label.suspended_until,
        renewal_case_id=label.renewal_case_id,
        superseded_by=label.superseded_by,
        alarms=sorted(alarms, key=lambda alarm: alarm.at),
        final=label.state in FINAL_LABEL_STATES,
    )


class CertificationActivities:
    """Every activity of the certification workflows, bound to one application (one event store)."""

    def __init__(self, app: CertificationApp, workload: Callable[[], Mapping[UUID, int]] | None = None) -> None:
        self.app = app
        self.workload = workload  # open assignments per expert (a read model), to balance proposals

    def all(self) -> list[Callable[..., Any]]:
        """The bound activity functions, for Worker(activities=...)."""
        return [
            self.load_case, self.screen, self.choose_expert, self.propose_expert, self.respond_to_proposal,
            self.time_out_proposal, self.escalate, self.send_case_reminder, self.record_agreement,
            self.schedule_audit, self.submit_assessment, self.record_decision, self.lodge_appeal,
            self.decide_appeal, self.withdraw_case, self.issue_label, self.close_case,
            self.load_label, self.send_expiry_reminder, self.expire_label, self.close_renewal_window,
            self.suspend_label, self.restore_label, self.withdraw_label, self.start_renewal,
        ]  # fmt: skip

    # ---- cases ---------------------------------------------------------------------

    def _case(self, case_id: UUID, at: datetime) -> CaseView:
        return case_view(self.app, self.app.get_case(case_id), at)

    @activity.defn
    def load_case(self, input: CaseRef) -> CaseView:
        with unit_of_work(case_id=input.case_id):
            return self._case(input.case_id, input.at)

    @activity.defn
    def screen(self, input: ScreenInput) -> CaseView:
        with unit_of_work(case_id=input.case_id):
            self.app.screen(
                input.case_id,
                input.accepted,
                input.reason,
                actor=input.actor,
                command_key=input.command_key,
                at=input.at,
            )
            log.info("application screened", accepted=input.accepted)
            return self._case(input.case_id, input.at)

    @activity.defn
    def choose_expert(self, input: ChooseExpertInput) -> ExpertChoice:
        """The next eligible expert for the case's open seat, or none."""
        with unit_of_work(case_id=input.case_id):
            eligible = self.app.eligible_experts(input.case_id, at=input.at, workload=self._current_workload())
            log.info("experts considered", eligible=len(eligible))
            return ExpertChoice(expert_id=eligible[0] if eligible else None, candidates=len(eligible))

    def _current_workload(self) -> Mapping[UUID, int] | None:
        """The read side's workload; a proposal never waits on it or fails for it."""
        if self.workload is None:
            return None
        try:
            return self.workload()
        except Exception:  # noqa: BLE001 - balancing is best effort; eligibility is what counts
            log.warning("expert workload unavailable; proposing in name order", exc_info=True)
            return None

    @activity.defn
    def propose_expert(self, input: ProposeExpertInput) -> CaseView:
        """Propose the expert and queue the offer to them."""
        with unit_of_work(case_id=input.case_id, expert_id=input.expert_id):
            self.app.propose_expert(
                input.case_id, input.expert_id, actor=input.actor, command_key=input.command_key, at=input.at
            )
            view = self._case(input.case_id, input.at)
            self._notify(
                f"expert:{input.expert_id}",
                "offer",
                "Benchmarking assignment offered",
                f"You are proposed as expert for case {input.case_id}; please answer by "
                f"{view.deadlines.get('response', input.at):%Y-%m-%d %H:%M:%S} UTC.",
                input,
                case_id=input.case_id,
            )
            return view

    @activity.defn
    def respond_to_proposal(self, input: RespondInput) -> CaseView:
        with unit_of_work(case_id=input.case_id, expert_id=input.expert_id):
            if input.accept:
                self.app.accept_assignment(
                    input.case_id, input.expert_id, actor=input.actor, command_key=input.command_key, at=input.at
                )
            else:
                self.app.decline_assignment(
                    input.case_id, input.expert_id, input.reason,
                    actor=input.actor, command_key=input.command_key, at=input.at,
                )  # fmt: skip
            log.info("expert answered the proposal", accepted=input.accept)
            return self._case(input.case_id, input.at)

    @activity.defn
    def time_out_proposal(self, input: TimeOutProposalInput) -> CaseView:
        with unit_of_work(case_id=input.case_id, expert_id=input.expert_id):
            self.app.time_out_proposal(
                input.case_id, input.expert_id, actor=input.actor, command_key=input.command_key, at=input.at
            )
            log.info("expert did not answer in time")
            return self._case(input.case_id, input.at)

    @activity.defn
    def escalate(self, input: EscalateInput) -> CaseView:
        """Flag the case for the secretariat's attention and tell them why."""
        with unit_of_work(case_id=input.case_id):
            self.app.escalate(
                input.case_id, input.reason, actor=input.actor, command_key=input.command_key, at=input.at
            )
            self._notify(
                SECRETARIAT, "escalation", "A case needs attention", input.reason, input, case_id=input.case_id
            )
            log.warning("case escalated", reason=input.reason)
            return self._case(input.case_id, input.at)

    @activity.defn
    def send_case_reminder(self, input: CaseReminderInput) -> None:
        """Remind the secretariat (and, for the audit, the experts) of a deadline coming up."""
        with unit_of_work(case_id=input.case_id):
            case = self.app.get_case(input.case_id)
            recipients = [SECRETARIAT]
            if input.step == "audit":
                recipients += [f"expert:{expert_id}" for expert_id in case.expert_ids]
            for recipient in recipients:
                self._notify(
                    recipient,
                    "deadline_reminder",
                    f"The {input.step} of case {input.case_id} is due",
                    f"The {input.step} is due on {input.due:%Y-%m-%d %H:%M:%S} UTC ({input.offset} before).",
                    input,
                    case_id=input.case_id,
                )
            log.info("deadline reminder queued", step=input.step, offset=input.offset)

    @activity.defn
    def record_agreement(self, input: AgreementInput) -> CaseView:
        with unit_of_work(case_id=input.case_id):
            self.app.record_agreement(
                input.case_id, input.agreed, actor=input.actor, command_key=input.command_key, at=input.at
            )
            return self._case(input.case_id, input.at)

    @activity.defn
    def schedule_audit(self, input: ScheduleAuditInput) -> CaseView:
        with unit_of_work(case_id=input.case_id):
            self.app.schedule_audit(input.case_id, input.audit_date, actor=input.actor, command_key=input.command_key)
            return self._case(input.case_id, input.at)

    @activity.defn
    def submit_assessment(self, input: AssessmentInput) -> CaseView:
        with unit_of_work(case_id=input.case_id, expert_id=input.expert_id):
            self.app.submit_assessment(
                input.case_id, input.expert_id, input.scores, input.evidence, input.report,
                actor=input.actor, command_key=input.command_key, at=input.at,
            )  # fmt: skip
            return self._case(input.case_id, input.at)

    @activity.defn
    def record_decision(self, input: DecisionInput) -> CaseView:
        with unit_of_work(case_id=input.case_id):
            self.app.record_decision(
                input.case_id, Outcome(input.outcome), Level(input.level), input.rationale,
                decided_by=input.decided_by, actor=input.actor, command_key=input.command_key, at=input.at,
            )  # fmt: skip
            log.info("decision recorded", outcome=input.outcome, level=input.level)
            return self._case(input.case_id, input.at)

    @activity.defn
    def lodge_appeal(self, input: AppealInput) -> CaseView:
        with unit_of_work(case_id=input.case_id):
            self.app.lodge_appeal(
                input.case_id, input.grounds, actor=input.actor, command_key=input.command_key, at=input.at
            )
            return self._case(input.case_id, input.at)

    @activity.defn
    def decide_appeal(self, input: AppealDecisionInput) -> CaseView:
        with unit_of_work(case_id=input.case_id):
            self.app.decide_appeal(
                input.case_id, input.upheld, input.rationale,
                decided_by=input.decided_by, actor=input.actor, command_key=input.command_key, at=input.at,
            )  # fmt: skip
            return self._case(input.case_id, input.at)

    @activity.defn
    def withdraw_case(self, input: WithdrawCaseInput) -> CaseView:
        with unit_of_work(case_id=input.case_id):
            self.app.withdraw_case(
                input.case_id, input.reason, actor=input.actor, command_key=input.command_key, at=input.at
            )
            return self._case(input.case_id, input.at)

    @activity.defn
    def issue_label(self, input: CaseCommandInput) -> LabelIssued:
        """The awarded case's label (superseding the label it renews, if any)."""
        with unit_of_work(case_id=input.case_id):
            label_id = self.app.issue_label(
                input.case_id, actor=input.actor, command_key=input.command_key, at=input.at
            )
            log.info("label issued", label_id=str(label_id))
            return LabelIssued(label_id=label_id, case=self._case(input.case_id, input.at))

    @activity.defn
    def close_case(self, input: CaseCommandInput) -> CaseView:
        with unit_of_work(case_id=input.case_id):
            self.app.close_case(input.case_id, actor=input.actor, command_key=input.command_key, at=input.at)
            log.info("case closed")
            return self._case(input.case_id, input.at)

    # ---- labels ----------------------------------------------------------------------

    def _label(self, label_id: UUID) -> LabelView:
        return label_view(self.app, self.app.get_label(label_id))

    @activity.defn
    def load_label(self, input: LabelRef) -> LabelView:
        with unit_of_work(label_id=input.label_id):
            return self._label(input.label_id)

    @activity.defn
    def send_expiry_reminder(self, input: ExpiryReminderInput) -> LabelView:
        """Record the reminder on the label and queue it to the cluster and the secretariat."""
        with unit_of_work(label_id=input.label_id):
            self.app.send_expiry_reminder(
                input.label_id, input.offset, actor=input.actor, command_key=input.command_key, at=input.at
            )
            label = self.app.get_label(input.label_id)
            for recipient in (f"cluster:{label.cluster_id}", SECRETARIAT):
                self._notify(
                    recipient,
                    "expiry_reminder",
                    f"Label {label.label_code} expires on {label.valid_until:%Y-%m-%d}",
                    f"The {label.level} label of {label.cluster_name} is valid until "
                    f"{label.valid_until:%Y-%m-%d %H:%M:%S} UTC and renewable until "
                    f"{label.renewable_until:%Y-%m-%d}. Reminder sent {input.offset} before expiry.",
                    input,
                    label_id=input.label_id,
                )
            log.info("expiry reminder queued", offset=input.offset)
            return label_view(self.app, label)

    @activity.defn
    def expire_label(self, input: LabelCommandInput) -> LabelView:
        with unit_of_work(label_id=input.label_id):
            self.app.expire_label(input.label_id, actor=input.actor, command_key=input.command_key, at=input.at)
            log.info("label expired")
            return self._label(input.label_id)

    @activity.defn
    def close_renewal_window(self, input: LabelCommandInput) -> LabelView:
        with unit_of_work(label_id=input.label_id):
            self.app.close_renewal_window(input.label_id, actor=input.actor, command_key=input.command_key, at=input.at)
            log.info("renewal window closed: label lapsed")
            return self._label(input.label_id)

    @activity.defn
    def suspend_label(self, input: LabelReasonInput) -> LabelView:
        with unit_of_work(label_id=input.label_id):
            self.app.suspend_label(
                input.label_id, input.reason, actor=input.actor, command_key=input.command_key, at=input.at
            )
            return self._label(input.label_id)

    @activity.defn
    def restore_label(self, input: LabelCommandInput) -> LabelView:
        with unit_of_work(label_id=input.label_id):
            self.app.restore_label(input.label_id, actor=input.actor, command_key=input.command_key, at=input.at)
            return self._label(input.label_id)

    @activity.defn
    def withdraw_label(self, input: LabelReasonInput) -> LabelView:
        with unit_of_work(label_id=input.label_id):
            self.app.withdraw_label(
                input.label_id, input.reason, actor=input.actor, command_key=input.command_key, at=input.at
            )
            return self._label(input.label_id)

    @activity.defn
    def start_renewal(self, input: StartRenewalInput) -> RenewalStarted:
        with unit_of_work(label_id=input.label_id):
            case_id = self.app.start_renewal(
                input.label_id, actor=input.actor, command_key=input.command_key,
                improvement_areas=input.improvement_areas or None, at=input.at,
            )  # fmt: skip
            log.info("renewal started", case_id=str(case_id))
            return RenewalStarted(case_id=case_id, label=self._label(input.label_id))

    # ---- the outbox --------------------------------------------------------------------

    def _notify(
        self,
        recipient: str,
        kind: str,
        subject: str,
        body: str,
        command: Any,
        *,
        case_id: UUID | None = None,
        label_id: UUID | None = None,
    ) -> None:
        """Queue one message; its key derives from the command's, so a retry queues nothing twice."""
        self.app.queue_notification(
            recipient, kind, subject, body,
            actor=command.actor, command_key=f"{command.command_key}/notify/{recipient}",
            case_id=case_id, label_id=label_id,
        )  # fmt: skip
        log.info("notification queued", recipient=recipient, kind=kind)
