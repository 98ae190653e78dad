"""A deadline whose timer fires in the same workflow task as a human step (a worker back after an outage,
the step sent while it was away): the step moves the record first, and the deadline, still due in the
record's new phase, is acted on all the same. It was counted done without being acted on, and the run
waited with no timer (NO_SILENT_WAITS). Real dev server, real time: a deadline of a few seconds."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from uuid import UUID

from clusterlabel.activities.handlers import handle
from clusterlabel.domain.base import Level
from clusterlabel.domain.command_base import Envelope
from clusterlabel.domain.commands import ReleaseExpert, Screen
from clusterlabel.domain.complaint import Complaint
from clusterlabel.domain.complaint_commands import AcknowledgeComplaint, LodgeComplaint, StartInvestigation
from clusterlabel.interfaces.temporal_server import EmbeddedTemporal
from clusterlabel.workflows.case import CaseWorkflow
from clusterlabel.workflows.complaint import ComplaintWorkflow
from clusterlabel.workflows.starter import start_complaint_workflow
from tests.workflows.harness import accept_proposal, office_on, outbox, run, running_worker, step, view_when

DEADLINE_SECONDS = 3


async def until(condition: Callable[[], bool], seconds: float) -> bool:
    """Whether the condition comes to hold within `seconds` (looked at every tenth of a second)."""
    for _ in range(int(seconds * 10)):
        if condition():
            return True
        await asyncio.sleep(0.1)
    return condition()


def test_a_complaints_investigation_deadline_missed_while_the_worker_was_away_is_escalated_though_it_started(
    dev_server: EmbeddedTemporal,
) -> None:
    async def scenario() -> None:
        office, client = await office_on(dev_server, "complaint-race", complaint_investigation_deadline="PT3S")
        key = f"http:complaint:{uuid.uuid4().hex}"
        complaint_id = Complaint.create_id(key)
        lodge = LodgeComplaint(about="ECEI-B-AAAA-BBBB-CCCC", text="Shown after expiry.", cluster_id=uuid.uuid4())
        handle(office.app, complaint_id, lodge, Envelope(actor="public", key=key, at=datetime.now(UTC)))
        async with running_worker(client, office.app, office.task_queue):
            complaint = await start_complaint_workflow(client, complaint_id, office.task_queue)
            await complaint.execute_update(ComplaintWorkflow.acknowledge, step(AcknowledgeComplaint()))
        await asyncio.sleep(DEADLINE_SECONDS + 1.5)  # the worker is away while the investigation's deadline passes
        started = asyncio.create_task(
            complaint.execute_update(ComplaintWorkflow.start_investigation, step(StartInvestigation()))
        )
        await asyncio.sleep(1)  # the step waits on the server beside the timer, for the worker's next task
        async with running_worker(client, office.app, office.task_queue):
            assert (await started).state == "investigating"
            escalated = await until(lambda: bool(office.app.load(complaint_id, Complaint).escalations), 10)
            await complaint.terminate("test over")
        assert escalated, "the missed investigation deadline was never escalated"
        assert "investigation deadline" in office.app.load(complaint_id, Complaint).escalations[0]
        assert outbox(office.app, "complaint_escalation")

    run(scenario())


def test_a_proposed_experts_answer_missed_while_the_worker_was_away_times_out_though_the_team_changed(
    dev_server: EmbeddedTemporal,
) -> None:
    async def scenario() -> None:
        office, client = await office_on(dev_server, "case-race", expert_response_timeout="PT3S")
        cluster = office.cluster(country="LT")
        for name, country in (("Rasa", "LT"), ("Dieter", "DE"), ("Lina", "LT"), ("Marc", "FR")):
            office.expert(name=name, country=country)
        async with running_worker(client, office.app, office.task_queue):
            case = await office.open_case(cluster, Level.GOLD)
            await case.execute_update(CaseWorkflow.screen, step(Screen(accepted=True)))
            first = await accept_proposal(case)
            second = (await view_when(case, lambda v: v.proposed_expert_id is not None)).proposed_expert_id
        await asyncio.sleep(DEADLINE_SECONDS + 2.5)  # the worker is away while the second expert's answer is due
        release = ReleaseExpert(expert_id=first, reason="their certification was revoked")
        released = asyncio.create_task(case.execute_update(CaseWorkflow.release_expert, step(release)))
        await asyncio.sleep(1)
        case_id = UUID(case.id.removeprefix("case-"))
        async with running_worker(client, office.app, office.task_queue):
            assert first not in (await released).team
            timed_out = await until(lambda: office.app.get_case(case_id).proposed_expert_id != second, 10)
            await case.terminate("test over")
        assert timed_out, "the second expert's missed answer never timed out: the case waited with no timer"

    run(scenario())
