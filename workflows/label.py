"""LabelWorkflow: one label over its years: reminders, expiry, renewal window, suspension, renewal."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any
from uuid import UUID

from temporalio import workflow
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    from activities.certification import CertificationActivities as Acts
    from activities.models import (
        Alarm,
        ExpiryReminderInput,
        LabelCommandInput,
        LabelReasonInput,
        LabelRef,
        LabelView,
        RenewalStarted,
        StartRenewalInput,
    )
    from workflows.messages import (
        CaseWorkflowInput,
        HumanStep,
        LabelWorkflowInput,
        RenewalEnded,
        RestoreLabel,
        StartRenewal,
        SuspendLabel,
        WithdrawLabel,
    )

from workflows.common import RETRY_PAUSE, check_label_step, run_activity, step_key, wait_until
from workflows.search_attributes import CLUSTER_ID, LABEL_LEVEL, LABEL_STATE

AUTO_WITHDRAWAL_REASON = "suspended for longer than the policy's suspension limit without being restored"


def label_workflow_id(label_id: UUID | str) -> str:
    return f"label-{label_id}"


@workflow.defn
class LabelWorkflow:
    """Keeps one label's lifecycle on time, from its issue until it lapses, is superseded or withdrawn.

    Timers (instants computed by the domain): each expiry reminder (policy expiry_reminders before
    valid_until), the expiry, the close of the renewal window (the label lapses unless a renewal is open),
    and the suspension limit (a label not restored by then is withdrawn).
    Updates (validated against the label's state, failing with the domain's message when refused):
    suspend, restore, withdraw, start_renewal (opens a renewal case and starts its CaseWorkflow; returns
    the case id). Each returns the new LabelView, except start_renewal.
    Signals: renewal_ended (from the renewal's CaseWorkflow: superseded by the new label, or abandoned).
    Queries: view (the latest LabelView).
    Continues as new after `continue_after` handled events or when the server suggests it.
    """

    def __init__(self) -> None:
        self._label_id: UUID | None = None
        self._view: LabelView | None = None
        self._lock = asyncio.Lock()
        self._revision = 0  # bumped whenever the view changes, so the waiting loop looks again
        self._stale = False  # a signal said the label changed elsewhere: reload it
        self._handled = 0

    @workflow.run
    async def run(self, input: LabelWorkflowInput) -> LabelView:
        self._label_id = input.label_id
        view = await self._command(Acts.load_label, LabelRef(label_id=input.label_id, at=workflow.now()))
        workflow.upsert_search_attributes(
            [CLUSTER_ID.value_set(str(view.cluster_id)), LABEL_LEVEL.value_set(view.level)]
        )
        while not self.current.final:
            if self._handled >= input.continue_after or workflow.info().is_continue_as_new_suggested():
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(
                    LabelWorkflowInput(label_id=input.label_id, continue_after=input.continue_after)
                )
            if self._stale:
                self._stale = False
                await self._command(Acts.load_label, LabelRef(label_id=input.label_id, at=workflow.now()))
                continue
            revision = self._revision
            alarm = self.current.alarms[0] if self.current.alarms else None
            moved = await wait_until(
                lambda seen=revision: self._revision != seen or self._stale, alarm.at if alarm else None
            )
            if not moved and alarm is not None:
                await self._on_alarm(alarm, revision)
            self._handled += 1
        workflow.logger.info(
            "label workflow done", extra={"label_id": str(input.label_id), "state": self.current.state}
        )
        return self.current

    @property
    def current(self) -> LabelView:
        assert self._view is not None, "the label is loaded first thing in run()"
        return self._view

    def _key(self, step: str, step_input: HumanStep | None = None) -> str:
        assert self._label_id is not None
        return step_key("label", self._label_id, step, step_input)

    async def _command(self, activity: Callable[..., Any], arg: Any, check: Callable[[], None] | None = None) -> LabelView:
        """Run a command activity under the lock; `check` first, against a view nothing else moves."""
        async with self._lock:
            if check is not None:
                check()
            result = await run_activity(activity, arg)
        view: LabelView = result.label if isinstance(result, RenewalStarted) else result
        self._remember(view)
        return view

    def _remember(self, view: LabelView) -> None:
        if self._view is None or self._view.state != view.state:
            workflow.upsert_search_attributes([LABEL_STATE.value_set(view.state)])
        self._view = view
        self._revision += 1

    async def _on_alarm(self, alarm: Alarm, revision: int) -> None:
        """Act on a due alarm, unless an update or signal changed the label meanwhile."""
        assert self._label_id is not None
        label_id, now = self._label_id, workflow.now()
        activity: Callable[..., Any]
        if alarm.kind == "reminder":
            assert alarm.offset is not None
            activity, arg = (
                Acts.send_expiry_reminder,
                ExpiryReminderInput(
                    label_id=label_id, offset=alarm.offset, command_key=self._key(f"reminder:{alarm.offset}"), at=now
                ),
            )
        elif alarm.kind == "expiry":
            activity, arg = (
                Acts.expire_label,
                LabelCommandInput(label_id=label_id, command_key=self._key("expire"), at=now),
            )
        elif alarm.kind == "renewal_window_close":
            activity, arg = (
                Acts.close_renewal_window,
                LabelCommandInput(label_id=label_id, command_key=self._key("close-renewal-window"), at=now),
            )
        elif alarm.kind == "suspension_limit":
            activity, arg = Acts.withdraw_label, LabelReasonInput(
                label_id=label_id, reason=AUTO_WITHDRAWAL_REASON,
                command_key=self._key(f"suspension-limit:{alarm.at:%Y-%m-%dT%H:%M:%S}"), at=now,
            )  # fmt: skip
        else:
            raise ApplicationError(f"unknown label alarm {alarm.kind!r}", non_retryable=True)
        try:
            async with self._lock:
                if self._revision != revision or self._stale:
                    return  # e.g. restored just before the suspension limit: that alarm no longer applies
                view = await run_activity(activity, arg)
        except ApplicationError as error:
            # The domain refused (a renewal opened, ...): reload and look again.
            workflow.logger.info("alarm not acted on", extra={"alarm": alarm.kind, "error": error.message})
            await workflow.sleep(RETRY_PAUSE)
            await self._command(Acts.load_label, LabelRef(label_id=label_id, at=workflow.now()))
            return
        self._remember(view)

    # ---- signals ------------------------------------------------------------------------------

    @workflow.signal
    def renewal_ended(self, signal: RenewalEnded) -> None:
        workflow.logger.info("renewal ended", extra={"case_id": str(signal.case_id), "outcome": signal.outcome})
        self._stale = True

    # ---- updates --------------------------------------------------------------------------------

    async def _human_step(
        self, step: str, step_input: HumanStep, activity: Callable[..., Any], arg_type: type[Any], **fields: Any
    ) -> LabelView:
        await workflow.wait_condition(lambda: self._view is not None)
        assert self._label_id is not None
        arg = arg_type(
            label_id=self._label_id,
            actor=step_input.actor,
            command_key=self._key(step, step_input),
            at=workflow.now(),
            **fields,
        )
        view = await self._command(activity, arg, check=lambda: self._check(step))
        self._handled += 1
        return view

    def _validate(self, step: str) -> None:
        """The update validator; while a command is in flight the handler decides (see CaseWorkflow)."""
        if self._view is not None and not self._lock.locked():
            self._check(step)

    def _check(self, step: str) -> None:
        assert self._view is not None
        check_label_step(step, self._view.state, self._view.label_code)

    @workflow.update
    async def suspend(self, step: SuspendLabel) -> LabelView:
        return await self._human_step("suspend", step, Acts.suspend_label, LabelReasonInput, reason=step.reason)

    @suspend.validator
    def _suspension_fits(self, step: SuspendLabel) -> None:
        self._validate("suspend")

    @workflow.update
    async def restore(self, step: RestoreLabel) -> LabelView:
        return await self._human_step("restore", step, Acts.restore_label, LabelCommandInput)

    @restore.validator
    def _restoration_fits(self, step: RestoreLabel) -> None:
        self._validate("restore")

    @workflow.update
    async def withdraw(self, step: WithdrawLabel) -> LabelView:
        return await self._human_step("withdraw", step, Acts.withdraw_label, LabelReasonInput, reason=step.reason)

    @withdraw.validator
    def _withdrawal_fits(self, step: WithdrawLabel) -> None:
        self._validate("withdraw")

    @workflow.update
    async def start_renewal(self, step: StartRenewal) -> UUID:
        """Open the renewal case (the domain checks the window) and start its CaseWorkflow."""
        await workflow.wait_condition(lambda: self._view is not None)
        assert self._label_id is not None
        arg = StartRenewalInput(
            label_id=self._label_id, actor=step.actor, command_key=self._key("renewal", step),
            improvement_areas=step.improvement_areas, at=workflow.now(),
        )  # fmt: skip
        async with self._lock:
            started: RenewalStarted = await run_activity(Acts.start_renewal, arg)
        self._remember(started.label)
        self._handled += 1
        try:
            # By name: the case workflow's module imports this one (a case starts its label's workflow).
            await workflow.start_child_workflow(
                "CaseWorkflow",
                CaseWorkflowInput(case_id=started.case_id),
                id=f"case-{started.case_id}",
                parent_close_policy=workflow.ParentClosePolicy.ABANDON,
            )
        except WorkflowAlreadyStartedError:
            pass  # a retried update: the case workflow runs already
        return started.case_id

    # ---- queries ---------------------------------------------------------------------------

    @workflow.query
    def view(self) -> LabelView | None:
        return self._view
