"""CaseWorkflow: one certification case, from screening to its closing, durable across crashes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any
from uuid import UUID

from temporalio import workflow
from temporalio.exceptions import ApplicationError, ChildWorkflowError, WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    from activities.certification import CertificationActivities as Acts
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
        LabelIssued,
        ProposeExpertInput,
        RespondInput,
        ScheduleAuditInput,
        ScreenInput,
        TimeOutProposalInput,
        WithdrawCaseInput,
    )
    from workflows.messages import (
        CaseWorkflowInput,
        DecideAppeal,
        ExpertsChanged,
        HumanStep,
        LabelWorkflowInput,
        LodgeAppeal,
        RecordAgreement,
        RecordDecision,
        RenewalEnded,
        RespondToProposal,
        ScheduleAudit,
        ScreenApplication,
        SubmitAssessment,
        WithdrawCase,
    )

from workflows.common import RETRY_PAUSE, check_case_step, run_activity, step_key, wait_until
from workflows.label import LabelWorkflow, label_workflow_id
from workflows.search_attributes import CASE_STATE, CLUSTER_ID, LABEL_LEVEL


def case_workflow_id(case_id: UUID | str) -> str:
    return f"case-{case_id}"


@workflow.defn
class CaseWorkflow:
    """Runs one certification case: deadlines, reminders, expert proposals, label issue, closing.

    Updates (human steps; each validated against the case's state before anything is recorded, and
    failing with the domain's message when the domain refuses): screen, respond_to_proposal,
    record_agreement, schedule_audit, submit_assessment, record_decision, lodge_appeal, decide_appeal,
    withdraw. Each returns the case's new CaseView.
    Signals: experts_changed (experts were registered or re-certified; a case waiting for one retries).
    Queries: view (the latest CaseView, None before the first load).
    Result: the final CaseView. On award it issues the label and starts its LabelWorkflow
    (label-<label_id>, a child abandoned on close); a renewal tells the renewed label's workflow how
    it ended (signal renewal_ended).
    """

    def __init__(self) -> None:
        self._case_id: UUID | None = None
        self._view: CaseView | None = None
        self._lock = asyncio.Lock()  # one command at a time, so the view is always the latest
        self._experts_generation = 0
        self._alarms_done: set[tuple[Any, ...]] = set()
        self._label_continue_after: int | None = None

    # ---- the run ----------------------------------------------------------------------

    @workflow.run
    async def run(self, input: CaseWorkflowInput) -> CaseView:
        self._case_id = input.case_id
        self._label_continue_after = input.label_continue_after
        view = await self._command(Acts.load_case, CaseRef(case_id=input.case_id, at=workflow.now()))
        workflow.upsert_search_attributes(
            [CLUSTER_ID.value_set(str(view.cluster_id)), LABEL_LEVEL.value_set(view.level)]
        )
        while True:
            view = self.current
            if view.state == "awarded" or view.concluded:
                try:
                    final = await self._conclude()
                except ApplicationError as error:
                    # The domain is not ready to close yet (a clock a hair behind a deadline): look again.
                    workflow.logger.warning("case not closed yet", extra={"error": error.message})
                    await workflow.sleep(RETRY_PAUSE)
                    await self._command(Acts.load_case, CaseRef(case_id=input.case_id, at=workflow.now()))
                    continue
                workflow.logger.info("case closed", extra={"case_id": str(self._case_id), "state": final.state})
                return final
            if view.awaiting_proposal:
                await self._propose_next_expert()
            else:
                await self._await_step()

    async def _conclude(self) -> CaseView:
        if self.current.state == "awarded":
            await self._issue_label()
        return await self._close()

    @property
    def current(self) -> CaseView:
        assert self._view is not None, "the case is loaded first thing in run()"
        return self._view

    def _key(self, step: str, step_input: HumanStep | None = None) -> str:
        assert self._case_id is not None
        return step_key("case", self._case_id, step, step_input)

    async def _command(self, activity: Callable[..., Any], arg: Any, check: Callable[[], None] | None = None) -> CaseView:
        """Run a command activity under the lock and keep the view (and the CaseState attribute) current.

        `check` runs under the lock first, against the view no other command can move meanwhile.
        """
        async with self._lock:
            if check is not None:
                check()
            result = await run_activity(activity, arg)
        view: CaseView = result.case if isinstance(result, LabelIssued) else result
        self._remember(view)
        return view

    def _remember(self, view: CaseView) -> None:
        if self._view is None or self._view.state != view.state:
            workflow.upsert_search_attributes([CASE_STATE.value_set(view.state)])
        self._view = view

    # ---- waiting on a step: reminders, then the deadline -------------------------------------

    async def _await_step(self) -> None:
        """Wait until the case moves on, sending reminders and acting on the deadline meanwhile."""
        view = self.current
        phase = view.phase()
        changed = lambda: self.current.phase() != phase  # noqa: E731
        for alarm in view.alarms:
            done_key = (alarm.kind, alarm.step, alarm.offset, alarm.at)
            if done_key in self._alarms_done:
                continue
            if await wait_until(changed, alarm.at):
                return
            await self._on_alarm(alarm, phase)
            self._alarms_done.add(done_key)
            if changed():
                return
        await workflow.wait_condition(changed)

    async def _on_alarm(self, alarm: Alarm, phase: tuple[object, ...]) -> None:
        """Act on a reminder or a missed deadline, unless a human step moved the case meanwhile."""
        view = self.current
        assert self._case_id is not None
        now = workflow.now()
        due = f"{alarm.at:%Y-%m-%dT%H:%M:%S}"
        activity: Callable[..., Any]
        if alarm.kind == "reminder":
            assert alarm.step and alarm.offset
            activity, arg = Acts.send_case_reminder, CaseReminderInput(
                case_id=self._case_id, step=alarm.step, offset=alarm.offset, due=view.deadlines[alarm.step],
                command_key=self._key(f"reminder:{alarm.step}:{alarm.offset}:{due}"), at=now,
            )  # fmt: skip
        elif alarm.step == "response" and view.proposed_expert_id is not None:
            expert_id = view.proposed_expert_id
            activity, arg = (
                Acts.time_out_proposal,
                TimeOutProposalInput(
                    case_id=self._case_id, expert_id=expert_id, command_key=self._key(f"timeout:{expert_id}"), at=now
                ),
            )
        elif alarm.step == "appeal":
            activity, arg = Acts.load_case, CaseRef(case_id=self._case_id, at=now)
        else:
            reason = f"the {alarm.step} deadline of {alarm.at:%Y-%m-%d %H:%M:%S} UTC has passed"
            activity, arg = (
                Acts.escalate,
                EscalateInput(
                    case_id=self._case_id, reason=reason, command_key=self._key(f"overdue:{alarm.step}:{due}"), at=now
                ),
            )
        try:
            async with self._lock:
                if self.current.phase() != phase:
                    return  # a human step got the lock first: the alarm no longer applies
                result = await run_activity(activity, arg)
        except ApplicationError as error:
            workflow.logger.info("alarm not acted on", extra={"alarm": alarm.kind, "error": error.message})
            await workflow.sleep(RETRY_PAUSE)
            await self._command(Acts.load_case, CaseRef(case_id=self._case_id, at=workflow.now()))
            return
        if isinstance(result, CaseView):
            self._remember(result)

    # ---- expert proposals ---------------------------------------------------------------

    async def _propose_next_expert(self) -> None:
        assert self._case_id is not None
        choice = await run_activity(Acts.choose_expert, ChooseExpertInput(case_id=self._case_id, at=workflow.now()))
        if choice.expert_id is None:
            await self._wait_for_experts()
            return
        try:
            await self._command(
                Acts.propose_expert,
                ProposeExpertInput(
                    case_id=self._case_id,
                    expert_id=choice.expert_id,
                    command_key=self._key(f"propose:{choice.expert_id}"),
                    at=workflow.now(),
                ),
            )
        except ApplicationError as error:
            workflow.logger.info("proposal refused", extra={"error": error.message})
            await workflow.sleep(RETRY_PAUSE)
            await self._command(Acts.load_case, CaseRef(case_id=self._case_id, at=workflow.now()))

    async def _wait_for_experts(self) -> None:
        """No eligible expert: escalate (without failing) and wait to be told that experts changed."""
        assert self._case_id is not None
        view = self.current
        generation = self._experts_generation
        reason = (
            "no eligible expert for the next seat of the team; register or re-certify an expert, "
            "then signal experts_changed"
        )
        await self._command(
            Acts.escalate,
            EscalateInput(
                case_id=self._case_id,
                reason=reason,
                command_key=self._key(f"no-expert:v{view.version}"),
                at=workflow.now(),
            ),
        )
        phase = self.current.phase()
        await workflow.wait_condition(lambda: self._experts_generation != generation or self.current.phase() != phase)

    @workflow.signal
    def experts_changed(self, signal: ExpertsChanged) -> None:
        self._experts_generation += 1

    # ---- conclusion ---------------------------------------------------------------------

    async def _issue_label(self) -> None:
        assert self._case_id is not None
        async with self._lock:
            issued: LabelIssued = await run_activity(
                Acts.issue_label,
                CaseCommandInput(case_id=self._case_id, command_key=self._key("issue-label"), at=workflow.now()),
            )
        self._remember(issued.case)
        # A child workflow: its start is recorded exactly once in this history, and ABANDON lets the
        # label live on for years after the case closes.
        try:
            await workflow.start_child_workflow(
                LabelWorkflow.run,
                _label_input(issued.label_id, self._label_continue_after),
                id=label_workflow_id(issued.label_id),
                parent_close_policy=workflow.ParentClosePolicy.ABANDON,
            )
        except (WorkflowAlreadyStartedError, ChildWorkflowError) as error:
            workflow.logger.warning("label workflow already running", extra={"error": str(error)})
        previous = issued.case.previous_label_id
        if previous is not None:
            await self._tell_previous_label(
                RenewalEnded(case_id=self._case_id, outcome="superseded", new_label_id=issued.label_id)
            )

    async def _close(self) -> CaseView:
        assert self._case_id is not None
        view = await self._command(
            Acts.close_case, CaseCommandInput(case_id=self._case_id, command_key=self._key("close"), at=workflow.now())
        )
        if view.previous_label_id is not None and view.state != "awarded":
            await self._tell_previous_label(RenewalEnded(case_id=self._case_id, outcome="abandoned"))
        return view

    async def _tell_previous_label(self, signal: RenewalEnded) -> None:
        previous = self.current.previous_label_id
        assert previous is not None
        handle = workflow.get_external_workflow_handle(label_workflow_id(previous))
        try:
            await handle.signal(LabelWorkflow.renewal_ended, signal)
        except Exception as error:  # its workflow has ended: nothing left to tell
            workflow.logger.warning("previous label workflow not reachable", extra={"error": str(error)})

    # ---- human steps (updates) ------------------------------------------------------------

    async def _human_step(
        self, step: str, step_input: HumanStep, activity: Callable[..., Any], input_model: type[Any], **fields: Any
    ) -> CaseView:
        await workflow.wait_condition(lambda: self._view is not None)
        assert self._case_id is not None
        details = fields
        fields = {name: value for name, value in fields.items() if name in input_model.model_fields}
        arg = input_model(
            case_id=self._case_id,
            actor=step_input.actor,
            command_key=self._key(step, step_input),
            at=workflow.now(),
            **fields,
        )
        # Checked again under the lock: another command may have moved the case since the validator ran.
        view = await self._command(activity, arg, check=lambda: self._check(step, **details))
        workflow.logger.info("human step done", extra={"step": step, "actor": step_input.actor})
        return view

    def _validate(self, step: str, **details: Any) -> None:
        """The update validator: refuse a step out of turn before anything is recorded.

        While a command is in flight the view is about to change, so the validator lets the
        update in and the handler decides under the lock, on the view that command leaves.
        """
        if self._view is not None and not self._lock.locked():
            self._check(step, **details)

    def _check(self, step: str, **details: Any) -> None:
        assert self._view is not None
        check_case_step(step, self._view.state, self._view.proposed_expert_id, **details)

    @workflow.update
    async def screen(self, step: ScreenApplication) -> CaseView:
        return await self._human_step(
            "screen", step, Acts.screen, ScreenInput, accepted=step.accepted, reason=step.reason
        )

    @screen.validator
    def _screen_fits(self, step: ScreenApplication) -> None:
        self._validate("screen")

    @workflow.update
    async def respond_to_proposal(self, step: RespondToProposal) -> CaseView:
        return await self._human_step(
            "respond_to_proposal", step, Acts.respond_to_proposal, RespondInput,
            expert_id=step.expert_id, accept=step.accept, reason=step.reason,
        )  # fmt: skip

    @respond_to_proposal.validator
    def _respond_fits(self, step: RespondToProposal) -> None:
        self._validate("respond_to_proposal", expert_id=step.expert_id, accept=step.accept)

    @workflow.update
    async def record_agreement(self, step: RecordAgreement) -> CaseView:
        return await self._human_step(
            "record_agreement", step, Acts.record_agreement, AgreementInput, agreed=step.agreed
        )

    @record_agreement.validator
    def _agreement_fits(self, step: RecordAgreement) -> None:
        self._validate("record_agreement")

    @workflow.update
    async def schedule_audit(self, step: ScheduleAudit) -> CaseView:
        return await self._human_step(
            "schedule_audit", step, Acts.schedule_audit, ScheduleAuditInput, audit_date=step.audit_date
        )

    @schedule_audit.validator
    def _schedule_fits(self, step: ScheduleAudit) -> None:
        self._validate("schedule_audit")

    @workflow.update
    async def submit_assessment(self, step: SubmitAssessment) -> CaseView:
        return await self._human_step(
            "submit_assessment", step, Acts.submit_assessment, AssessmentInput,
            expert_id=step.expert_id, scores=step.scores, evidence=step.evidence, report=step.report,
        )  # fmt: skip

    @submit_assessment.validator
    def _assessment_fits(self, step: SubmitAssessment) -> None:
        self._validate("submit_assessment")

    @workflow.update
    async def record_decision(self, step: RecordDecision) -> CaseView:
        return await self._human_step(
            "record_decision", step, Acts.record_decision, DecisionInput,
            outcome=step.outcome.value, level=step.level.value, rationale=step.rationale, decided_by=step.decided_by,
        )  # fmt: skip

    @record_decision.validator
    def _decision_fits(self, step: RecordDecision) -> None:
        self._validate("record_decision")

    @workflow.update
    async def lodge_appeal(self, step: LodgeAppeal) -> CaseView:
        return await self._human_step("lodge_appeal", step, Acts.lodge_appeal, AppealInput, grounds=step.grounds)

    @lodge_appeal.validator
    def _appeal_fits(self, step: LodgeAppeal) -> None:
        self._validate("lodge_appeal")

    @workflow.update
    async def decide_appeal(self, step: DecideAppeal) -> CaseView:
        return await self._human_step(
            "decide_appeal", step, Acts.decide_appeal, AppealDecisionInput,
            upheld=step.upheld, rationale=step.rationale, decided_by=step.decided_by,
        )  # fmt: skip

    @decide_appeal.validator
    def _appeal_decision_fits(self, step: DecideAppeal) -> None:
        self._validate("decide_appeal")

    @workflow.update
    async def withdraw(self, step: WithdrawCase) -> CaseView:
        return await self._human_step("withdraw", step, Acts.withdraw_case, WithdrawCaseInput, reason=step.reason)

    @withdraw.validator
    def _withdrawal_fits(self, step: WithdrawCase) -> None:
        self._validate("withdraw")

    # ---- queries ---------------------------------------------------------------------------

    @workflow.query
    def view(self) -> CaseView | None:
        return self._view


def _label_input(label_id: UUID, continue_after: int | None) -> LabelWorkflowInput:
    if continue_after is None:
        return LabelWorkflowInput(label_id=label_id)
    return LabelWorkflowInput(label_id=label_id, continue_after=continue_after)
