"""CaseWorkflow: one certification case, from screening to its closing, durable across crashes."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from temporalio import workflow
from temporalio.exceptions import ApplicationError, ChildWorkflowError, WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    from clusterlabel.activities.certification import CertificationActivities as Acts
    from clusterlabel.activities.models import Alarm, CaseRef, CaseView, ChooseExpertInput
    from clusterlabel.domain import commands
    from clusterlabel.domain.case_lifecycle import NO_EXPERT, CaseState, deadline_passed
    from clusterlabel.domain.command_base import CaseCommand, Command
    from clusterlabel.domain.step_checks import check_case_command
    from clusterlabel.workflows.messages import CaseWorkflowInput, ExpertsChanged, LabelWorkflowInput, RenewalEnded

from clusterlabel.workflows.common import (
    ANSWER_ACCEPTED_STEPS,
    AWARD_APPEALS,
    CHOOSE_UNDER_LOCK,
    NO_SILENT_WAITS,
    PATCHES_FIRST,
    RECORD_PATCHES,
    human_step,
    run_activity,
    takes_patch,
)
from clusterlabel.workflows.label import LabelWorkflow, label_workflow_id
from clusterlabel.workflows.record import RecordWorkflow
from clusterlabel.workflows.search_attributes import CASE_STATE, CLUSTER_ID, LABEL_LEVEL


def awards_appealable() -> bool:
    """Whether this run keeps an award below the level applied for open through its appeal window
    (AWARD_APPEALS). A run recorded before PATCHES_FIRST was told "not patched" for that at its start, and
    so is never asked for AWARD_APPEALS at all: its marker would land mid-history, the race PATCHES_FIRST
    is about."""
    return takes_patch(PATCHES_FIRST) and takes_patch(AWARD_APPEALS)


def case_workflow_id(case_id: UUID | str) -> str:
    return f"case-{case_id}"


@workflow.defn
class CaseWorkflow(
    RecordWorkflow[CaseView], kind="case", view=CaseView, state=CASE_STATE, commands=Acts.run_case_command
):
    """Runs one certification case: deadlines, reminders, expert proposals, label issue, closing.

    Updates (human steps, each a Step of its command; validated against the case's state before
    anything is recorded, and failing with the domain's refusal): screen, respond_to_proposal,
    record_agreement, schedule_audit, record_audit_held, submit_assessment, sign_assessment,
    record_decision, lodge_appeal, decide_appeal, withdraw, release_expert. Each returns the case's new CaseView.
    Signals: experts_changed (experts were registered or re-certified; a case waiting for one retries);
    resume and reload (RecordWorkflow).
    Queries: view (the latest CaseView, None before the first load).
    A refused or rejected case waits out its appeal window (or its lodged appeal) before it closes, as does
    a case awarded below the level it applied for, once its label is issued and its window opened; an
    upheld appeal takes it back to deciding, or to screening, and the loop carries on from there.
    Result: the final CaseView. On award it issues the label and starts its LabelWorkflow
    (label-<label_id>, a child abandoned on close); a renewal tells the renewed label's workflow how
    it ended (signal renewal_ended).
    """

    patches = (*RECORD_PATCHES, CHOOSE_UNDER_LOCK, AWARD_APPEALS, NO_SILENT_WAITS)

    def __init__(self) -> None:
        super().__init__()
        self._experts_generation = 0
        self._label_continue_after: int | None = None
        self._label_started: UUID | None = None  # the label whose workflow this run has started

    # ---- the run ----------------------------------------------------------------------

    @workflow.run
    async def run(self, input: CaseWorkflowInput) -> CaseView:
        self._label_continue_after = input.label_continue_after
        view = await self._begin(input.case_id)
        workflow.upsert_search_attributes(
            [CLUSTER_ID.value_set(str(view.cluster_id)), LABEL_LEVEL.value_set(view.level)]
        )
        while True:
            view = self.current
            if view.state == "awarded" and awards_appealable() and not await self._award_settled():
                continue
            if view.state == "awarded" or view.concluded:
                try:
                    final = await self._conclude()
                except ApplicationError as error:
                    # The domain is not ready to close yet (a clock a hair behind a deadline): look again.
                    await self._after_refusal("closing the case", error)
                    continue
                if takes_patch(ANSWER_ACCEPTED_STEPS):
                    await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.logger.info("case closed", extra={"case_id": str(self.record_id), "state": final.state})
                return final
            if view.awaiting_proposal:
                await self._propose_next_expert()
            else:
                await self._await_step()

    async def _conclude(self) -> CaseView:
        if self.current.state == "awarded" and not awards_appealable():
            await self._issue_label()  # since AWARD_APPEALS, _award_settled has issued it
        return await self._close()

    async def _award_settled(self) -> bool:
        """Issue an award's label at once; an award below the level applied for then opens its appeal window
        and waits it out, or its appeal (the label stands meanwhile). True once the case may close."""
        try:
            # Issued and started by this run, not merely in the store: a step retried after a lost workflow
            # task answers with the case as stored, its label already there but its workflow never started.
            if self.current.label_id is None or self.current.label_id != self._label_started:
                await self._issue_label()
            if self.current.appeal_window_to_open:
                await self._command(commands.OpenAppealWindow(), self._automatic("appeal-window"))
        except ApplicationError as error:
            await self._after_refusal("issuing the label", error)
            return False
        if self.current.concluded:
            return True
        await self._await_step()
        return False

    def _load(self) -> tuple[Any, Any]:
        return Acts.load_case, CaseRef(case_id=self.record_id, at=workflow.now())

    def _check(self, command: Command) -> None:
        check_case_command(command, CaseState(self.current.state), self.current.proposed_expert_id)

    # ---- waiting on a step: reminders, then the deadline -------------------------------------

    async def _await_step(self) -> None:
        """Wait until the case moves on, sending reminders and acting on the deadline meanwhile."""
        view = self.current
        phase = view.phase()
        changed = lambda: self.current.phase() != phase  # noqa: E731
        await self._await_alarms(view.alarms, changed, self._alarm_action, takes_patch(NO_SILENT_WAITS))

    async def _alarm_action(self, alarm: Alarm) -> CaseView:
        if alarm.step == "appeal":  # the appeal window closed: the case is concluded now
            view: CaseView = await run_activity(*self._load())
            return view
        command, occurrence = self._alarm_command(alarm)
        return await self._run(command, self._automatic(occurrence))

    def _alarm_command(self, alarm: Alarm) -> tuple[CaseCommand, str]:
        """What a due alarm asks for, and the occurrence that keys it."""
        view = self.current
        due = f"{alarm.at:%Y-%m-%dT%H:%M:%S}"
        if alarm.kind == "reminder":
            assert alarm.step and alarm.offset
            reminder = commands.RemindDeadline(step=alarm.step, offset=alarm.offset, due=view.deadlines[alarm.step])
            return reminder, f"reminder:{alarm.step}:{alarm.offset}:{due}"
        if alarm.step == "response" and view.proposed_expert_id is not None:
            return commands.TimeOutProposal(expert_id=view.proposed_expert_id), f"timeout:{view.proposed_expert_id}"
        reason = deadline_passed(str(alarm.step), alarm.at)
        return commands.Escalate(reason=reason), f"overdue:{alarm.step}:{due}"

    # ---- expert proposals ---------------------------------------------------------------

    async def _propose_next_expert(self) -> None:
        try:
            if takes_patch(CHOOSE_UNDER_LOCK):
                # Read first: experts changing, or a resume, during the choice count.
                generation, resumes = self._experts_generation, self._resumes
                async with self._lock:
                    choice = await self._choose_expert()
                    proposed = await self._propose(choice.expert_id)
            else:
                choice = await self._choose_expert()
                generation, resumes = self._experts_generation, self._resumes
                proposed = await self._propose(choice.expert_id, under_lock=False)
        except ApplicationError as error:
            await self._after_refusal("proposing an expert", error)
            return
        if not proposed:
            await self._wait_for_experts(generation, resumes)

    async def _choose_expert(self) -> Any:
        return await run_activity(Acts.choose_expert, ChooseExpertInput(case_id=self.record_id, at=workflow.now()))

    async def _propose(self, expert_id: UUID | None, under_lock: bool = True) -> bool:
        """Propose the chosen expert, if there is one; the caller holds the lock, or (in runs recorded
        before CHOOSE_UNDER_LOCK) the command takes it."""
        if expert_id is None:
            return False
        command, envelope = commands.ProposeExpert(expert_id=expert_id), self._automatic(f"propose:{expert_id}")
        if under_lock:
            self._remember(await self._run(command, envelope))
        else:
            await self._command(command, envelope)
        return True

    async def _wait_for_experts(self, generation: int, resumes: int) -> None:
        """No eligible expert: escalate (without failing) and wait to be told that experts changed, or to
        `resume` (an expert eligible again with time alone), while the help it wants shows (help_wanted)."""
        reason = f"{NO_EXPERT}; register or re-certify an expert, or have the case look again once one is eligible"
        try:
            await self._command(commands.Escalate(reason=reason), self._automatic(f"no-expert:v{self.current.version}"))
        except ApplicationError as error:  # e.g. withdrawn meanwhile: the loop looks at the case again
            await self._after_refusal("escalating the missing expert", error)
            return
        phase, on_resume = self.current.phase(), takes_patch(NO_SILENT_WAITS)
        self._help_wanted = reason
        try:
            await workflow.wait_condition(
                lambda: (
                    self._experts_generation != generation
                    or self.current.phase() != phase
                    or (on_resume and self._resumes != resumes)
                )
            )
        finally:
            self._help_wanted = None

    def _help(self, reason: str) -> Command | None:
        return commands.Escalate(reason=reason)

    @workflow.signal
    def experts_changed(self, signal: ExpertsChanged) -> None:
        self._experts_generation += 1

    # ---- conclusion ---------------------------------------------------------------------

    async def _issue_label(self) -> None:
        appealed = self.current.appealed_label_id  # a new award on appeal replaces the label of the one appealed
        key = "issue-label" if appealed is None else f"issue-label:replacing:{appealed}"
        view = await self._command(commands.IssueLabel(), self._automatic(key))
        assert view.label_id is not None
        # A child workflow: its start is recorded exactly once in this history, and ABANDON lets the
        # label live on for years after the case closes.
        try:
            await workflow.start_child_workflow(
                LabelWorkflow.run,
                _label_input(view.label_id, self._label_continue_after),
                id=label_workflow_id(view.label_id),
                parent_close_policy=workflow.ParentClosePolicy.ABANDON,
            )
        except (WorkflowAlreadyStartedError, ChildWorkflowError) as error:
            workflow.logger.warning("label workflow already running", extra={"error": str(error)})
        self._label_started = view.label_id
        superseded = RenewalEnded(case_id=self.record_id, outcome="superseded", new_label_id=view.label_id)
        if view.previous_label_id is not None:
            await self._tell_label(view.previous_label_id, superseded)
        if appealed is not None:
            await self._tell_label(appealed, superseded)

    async def _close(self) -> CaseView:
        view = await self._command(commands.CloseCase(), self._automatic("close"))
        if view.previous_label_id is not None and view.state != "awarded":
            await self._tell_label(view.previous_label_id, RenewalEnded(case_id=self.record_id, outcome="abandoned"))
        return view

    async def _tell_label(self, label_id: UUID, signal: RenewalEnded) -> None:
        """Tell a label this case replaced (or failed to renew) how it ended: its workflow looks again."""
        handle = workflow.get_external_workflow_handle(label_workflow_id(label_id))
        try:
            await handle.signal(LabelWorkflow.renewal_ended, signal)
        except Exception as error:  # its workflow has ended: nothing left to tell
            workflow.logger.warning("previous label workflow not reachable", extra={"error": str(error)})

    # ---- human steps (updates) ------------------------------------------------------------

    screen = human_step("screen", commands.Screen, CaseView)
    respond_to_proposal = human_step("respond_to_proposal", commands.AnswerProposal, CaseView)
    record_agreement = human_step("record_agreement", commands.RecordAgreement, CaseView)
    schedule_audit = human_step("schedule_audit", commands.ScheduleAudit, CaseView)
    record_audit_held = human_step("record_audit_held", commands.RecordAuditHeld, CaseView)
    submit_assessment = human_step("submit_assessment", commands.SubmitAssessment, CaseView)
    sign_assessment = human_step("sign_assessment", commands.SignAssessment, CaseView)
    record_decision = human_step("record_decision", commands.RecordDecision, CaseView)
    lodge_appeal = human_step("lodge_appeal", commands.LodgeAppeal, CaseView)
    decide_appeal = human_step("decide_appeal", commands.DecideAppeal, CaseView)
    withdraw = human_step("withdraw", commands.WithdrawCase, CaseView)
    release_expert = human_step("release_expert", commands.ReleaseExpert, CaseView)


def _label_input(label_id: UUID, continue_after: int | None) -> LabelWorkflowInput:
    if continue_after is None:
        return LabelWorkflowInput(label_id=label_id)
    return LabelWorkflowInput(label_id=label_id, continue_after=continue_after)
