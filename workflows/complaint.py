"""ComplaintWorkflow: one complaint, from its lodging to its outcome, with its deadlines kept."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from clusterlabel.activities.complaints import ComplaintActivities as Acts
    from clusterlabel.activities.models import Alarm, ComplaintRef, ComplaintView
    from clusterlabel.domain import complaint_commands as commands
    from clusterlabel.domain.command_base import Command
    from clusterlabel.domain.complaint import ComplaintState, check_complaint_step
    from clusterlabel.workflows.messages import ComplaintWorkflowInput

from clusterlabel.workflows.common import NO_SILENT_WAITS, RECORD_PATCHES, human_step, takes_patch
from clusterlabel.workflows.record import RecordWorkflow
from clusterlabel.workflows.search_attributes import COMPLAINT_STATE


def complaint_workflow_id(complaint_id: UUID | str) -> str:
    return f"complaint-{complaint_id}"


@workflow.defn
class ComplaintWorkflow(
    RecordWorkflow[ComplaintView],
    kind="complaint",
    view=ComplaintView,
    state=COMPLAINT_STATE,
    commands=Acts.run_complaint_command,
):
    """Keeps one complaint on time until it is closed.

    Timers (instants computed by the domain): the reminders (policy deadline_reminders) before the
    acknowledgement deadline, then that deadline (missed: the complaint is escalated to the
    secretariat); once acknowledged, the same for the investigation's deadline.
    Updates (each a Step of its command, validated against the complaint's state before anything is
    recorded, failing with the domain's refusal): acknowledge, start_investigation, close. Each returns
    the new ComplaintView.
    Signals: resume and reload (RecordWorkflow). Queries: view (the latest ComplaintView), help_wanted.
    Result: the closed complaint's ComplaintView.
    """

    patches = (*RECORD_PATCHES, NO_SILENT_WAITS)

    @workflow.run
    async def run(self, input: ComplaintWorkflowInput) -> ComplaintView:
        await self._begin(input.complaint_id)
        while self.current.open:
            await self._await_step()
        await workflow.wait_condition(workflow.all_handlers_finished)
        workflow.logger.info("complaint closed", extra={"complaint_id": str(input.complaint_id)})
        return self.current

    def _load(self) -> tuple[Any, Any]:
        return Acts.load_complaint, ComplaintRef(complaint_id=self.record_id, at=workflow.now())

    def _check(self, command: Command) -> None:
        check_complaint_step(command.domain_step, ComplaintState(self.current.state))

    def _help(self, reason: str) -> Command | None:
        return commands.EscalateComplaint(reason=reason)

    async def _await_step(self) -> None:
        """Wait until a step moves the complaint on, reminding and escalating on time meanwhile."""
        state = self.current.state
        moved = lambda: self.current.state != state  # noqa: E731
        await self._await_alarms(self.current.alarms, moved, self._on_alarm, takes_patch(NO_SILENT_WAITS))

    async def _on_alarm(self, alarm: Alarm) -> ComplaintView:
        due = f"{alarm.at:%Y-%m-%dT%H:%M:%S}"
        assert alarm.step is not None
        if alarm.kind == "reminder":
            assert alarm.offset is not None
            deadline = self.current.deadlines[alarm.step]
            reminder = commands.RemindComplaint(step=alarm.step, offset=alarm.offset, due=deadline)
            return await self._run(reminder, self._automatic(f"reminder:{alarm.step}:{alarm.offset}:{due}"))
        reason = f"the {alarm.step} deadline of {alarm.at:%Y-%m-%d %H:%M:%S} UTC has passed"
        return await self._run(
            commands.EscalateComplaint(reason=reason), self._automatic(f"overdue:{alarm.step}:{due}")
        )

    # ---- human steps (updates) ------------------------------------------------------------

    acknowledge = human_step("acknowledge", commands.AcknowledgeComplaint, ComplaintView)
    start_investigation = human_step("start_investigation", commands.StartInvestigation, ComplaintView)
    close = human_step("close", commands.CloseComplaint, ComplaintView)
