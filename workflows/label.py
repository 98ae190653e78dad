"""LabelWorkflow: one label over its years: reminders, expiry, renewal window, suspension, renewal."""

from __future__ import annotations

from functools import partial
from typing import Any
from uuid import UUID

from temporalio import workflow
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    from clusterlabel.activities.certification import CertificationActivities as Acts
    from clusterlabel.activities.models import Alarm, LabelRef, LabelView
    from clusterlabel.domain import label_commands as commands
    from clusterlabel.domain.certification_case import CertificationCase
    from clusterlabel.domain.command_base import Command, LabelCommand
    from clusterlabel.domain.label_lifecycle import SUSPENSION_LIMIT_REASON, LabelState
    from clusterlabel.domain.step_checks import check_label_command
    from clusterlabel.workflows.messages import CaseWorkflowInput, LabelWorkflowInput, RenewalEnded, Step

from clusterlabel.workflows.common import (
    ANSWER_ACCEPTED_STEPS,
    RECORD_PATCHES,
    TELL_SUPERSEDED,
    human_step,
    takes_patch,
    wait_until,
)
from clusterlabel.workflows.record import RecordWorkflow
from clusterlabel.workflows.search_attributes import CLUSTER_ID, LABEL_LEVEL, LABEL_STATE


def label_workflow_id(label_id: UUID | str) -> str:
    return f"label-{label_id}"


@workflow.defn
class LabelWorkflow(
    RecordWorkflow[LabelView], kind="label", view=LabelView, state=LABEL_STATE, commands=Acts.run_label_command
):
    """Keeps one label's lifecycle on time, from its issue until it lapses, is superseded or withdrawn.

    Timers (instants computed by the domain, activities/views.label_view): an active label's expiry
    reminders (policy expiry_reminders before valid_until, none while a renewal is open; one gone stale
    while it waited is dropped, domain/reminders.py) and its expiry; the close of the renewal window (the
    label lapses unless a renewal is open); the suspension limit (a label not restored by then is
    withdrawn; a suspended label is expired by its restoration, not by a timer).
    Updates (each a Step of its command, validated against the label's state, failing with the
    domain's refusal): suspend, restore, withdraw, lodge_appeal and decide_appeal (against a suspension
    or withdrawal; a withdrawn label's ended workflow is started again by the appeal: see
    interfaces/web/labels.py), start_renewal (opens a renewal case and starts its
    CaseWorkflow; the view's renewal_case_id names it). Each returns the new LabelView.
    Signals: renewal_ended (from the renewal's CaseWorkflow: superseded by the new label, or abandoned);
    resume and reload (RecordWorkflow).
    Queries: view (the latest LabelView).
    Continues as new after `continue_after` handled events or when the server suggests it.
    Its first run tells the label it supersedes, if any (signal renewal_ended: superseded).
    """

    patches = (*RECORD_PATCHES, TELL_SUPERSEDED)

    def __init__(self) -> None:
        super().__init__()
        self._revision = 0  # bumped whenever the view changes, so the waiting loop looks again
        self._stale = False  # a signal said the label changed elsewhere: reload it
        self._handled = 0

    @workflow.run
    async def run(self, input: LabelWorkflowInput) -> LabelView:
        view = await self._begin(input.label_id)
        workflow.upsert_search_attributes(
            [CLUSTER_ID.value_set(str(view.cluster_id)), LABEL_LEVEL.value_set(view.level)]
        )
        if takes_patch(TELL_SUPERSEDED) and workflow.info().continued_run_id is None:
            await self._tell_superseded(view)
        while True:
            await self._until_final(input)
            if takes_patch(ANSWER_ACCEPTED_STEPS):
                await workflow.wait_condition(workflow.all_handlers_finished)
            if self.current.final:
                break
            # A step answered at the end left the label waiting again (an appeal lodged against the
            # withdrawal that ended the loop): keep it. Before appeals no step did, so histories replay.
        workflow.logger.info(
            "label workflow done", extra={"label_id": str(input.label_id), "state": self.current.state}
        )
        return self.current

    async def _until_final(self, input: LabelWorkflowInput) -> None:
        """Act on the alarms and take the steps until the label is final (or continue as new)."""
        while not self.current.final:
            if self._handled >= input.continue_after or workflow.info().is_continue_as_new_suggested():
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(
                    LabelWorkflowInput(label_id=input.label_id, continue_after=input.continue_after)
                )
            if self._stale:
                self._stale = False
                await self._reload()
                continue
            revision = self._revision
            alarm = self.current.alarms[0] if self.current.alarms else None
            moved = await wait_until(partial(self._moved_since, revision), alarm.at if alarm else None)
            if not moved and alarm is not None:
                await self._on_alarm(alarm, revision)
            self._handled += 1

    async def _tell_superseded(self, view: LabelView) -> None:
        """Tell the label this one supersedes that it is superseded: its workflow loads it again, and ends.
        The renewal's case tells the label it renews too: a second telling changes nothing."""
        if view.supersedes is None or view.case_id is None:
            return
        told = RenewalEnded(case_id=view.case_id, outcome="superseded", new_label_id=view.label_id)
        try:
            await workflow.get_external_workflow_handle(label_workflow_id(view.supersedes)).signal(
                LabelWorkflow.renewal_ended, told
            )
        except Exception as error:  # its workflow has ended: nothing left to tell
            workflow.logger.info("superseded label's workflow not reachable", extra={"error": str(error)})

    def _moved_since(self, revision: int) -> bool:
        """An update or signal changed the label since the loop looked at `revision`."""
        return self._revision != revision or self._stale

    def _load(self) -> tuple[Any, Any]:
        return Acts.load_label, LabelRef(label_id=self.record_id, at=workflow.now())

    def _check(self, command: Command) -> None:
        check_label_command(command, LabelState(self.current.state), self.current.label_code)

    def _remember(self, view: LabelView) -> None:
        super()._remember(view)
        self._revision += 1

    async def _on_alarm(self, alarm: Alarm, revision: int) -> None:
        """Act on a due alarm, unless an update or signal changed the label meanwhile."""
        # E.g. restored just before the suspension limit: that alarm no longer applies.
        command, occurrence = _alarm_command(alarm)
        act = partial(self._run, command, self._automatic(occurrence))
        await self._act_on_alarm(lambda: not self._moved_since(revision), act, alarm.kind)

    # ---- signals ------------------------------------------------------------------------------

    @workflow.signal
    def renewal_ended(self, signal: RenewalEnded) -> None:
        workflow.logger.info("renewal ended", extra={"case_id": str(signal.case_id), "outcome": signal.outcome})
        self._stale = True

    # ---- updates --------------------------------------------------------------------------------

    async def _human_step(self, step: Step[Any]) -> LabelView:
        view = await super()._human_step(step)
        self._handled += 1
        return view

    suspend = human_step("suspend", commands.SuspendLabel, LabelView)
    restore = human_step("restore", commands.RestoreLabel, LabelView)
    withdraw = human_step("withdraw", commands.WithdrawLabel, LabelView)
    lodge_appeal = human_step("lodge_appeal", commands.LodgeLabelAppeal, LabelView)
    decide_appeal = human_step("decide_appeal", commands.DecideLabelAppeal, LabelView)

    @workflow.update
    async def start_renewal(self, step: Step[commands.StartRenewal]) -> LabelView:
        """Open the renewal case (the domain checks the window) and start its CaseWorkflow; the
        label's view names the case (renewal_case_id)."""
        await workflow.wait_condition(lambda: self._view is not None)
        envelope = self.envelope_of(step)
        view = await self._command(step.command, envelope)
        self._handled += 1
        # The case this step opened: its id derives from the step's key, so a repeat answers the same
        # case even after that renewal has ended and the label no longer names it.
        case_id = CertificationCase.create_id(envelope.key)
        try:
            # By name: the case workflow's module imports this one (a case starts its label's workflow).
            await workflow.start_child_workflow(
                "CaseWorkflow",
                CaseWorkflowInput(case_id=case_id),
                id=f"case-{case_id}",
                parent_close_policy=workflow.ParentClosePolicy.ABANDON,
            )
        except WorkflowAlreadyStartedError:
            pass  # a retried update: the case workflow runs already
        return view.model_copy(update={"renewal_case_id": case_id})


def _alarm_command(alarm: Alarm) -> tuple[LabelCommand, str]:
    """What a due alarm asks for, and the occurrence that keys it."""
    if alarm.kind == "reminder":
        assert alarm.offset is not None
        return commands.RemindExpiry(offset=alarm.offset), f"reminder:{alarm.offset}"
    if alarm.kind == "expiry":
        return commands.ExpireLabel(), "expire"
    if alarm.kind == "renewal_window_close":
        return commands.CloseRenewalWindow(), "close-renewal-window"
    if alarm.kind == "suspension_limit":
        return commands.WithdrawLabel(reason=SUSPENSION_LIMIT_REASON), f"suspension-limit:{alarm.at:%Y-%m-%dT%H:%M:%S}"
    raise ApplicationError(f"unknown label alarm {alarm.kind!r}", non_retryable=True)
