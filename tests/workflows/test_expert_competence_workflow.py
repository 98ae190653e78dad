"""Expert competence on the real Temporal dev server, with a policy compressed to seconds: a qualification
is checked again when the expert answers, not only when they were proposed."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from temporalio.client import WorkflowUpdateFailedError

from clusterlabel.domain.commands import AnswerProposal, Screen
from clusterlabel.domain.record_commands import RegisterExpert
from clusterlabel.interfaces.temporal_server import EmbeddedTemporal
from clusterlabel.workflows.case import CaseWorkflow
from tests.builders import expert_profile, register
from tests.workflows.harness import SECRETARY, event_count, office_on, run, running_worker, step, view_when


def test_an_expert_whose_qualification_ends_while_the_proposal_waits_cannot_accept_and_the_next_is_proposed(
    dev_server: EmbeddedTemporal,
) -> None:
    async def scenario() -> None:
        office, client = await office_on(dev_server, "competence", expert_response_timeout="PT5S")
        cluster = office.cluster()
        ends = datetime.now(UTC) + timedelta(seconds=2)
        lapsing = RegisterExpert(profile=expert_profile(name="Aaron Lapsing", certified_until=ends))
        first = register(office.app, lapsing, actor=SECRETARY, command_key=f"expert-{office.keys()}")
        second = office.expert(name="Berta Current")
        async with running_worker(client, office.app, office.task_queue):
            handle = await office.open_case(cluster)
            await handle.execute_update(CaseWorkflow.screen, step(Screen(accepted=True)))
            view = await view_when(handle, lambda v: v.proposed_expert_id is not None)
            assert view.proposed_expert_id == first
            await asyncio.sleep(max(0.0, (ends - datetime.now(UTC)).total_seconds()) + 0.2)

            before = event_count(office.app, view.case_id)
            with pytest.raises(WorkflowUpdateFailedError) as refused:
                answer = AnswerProposal(expert_id=first, accept=True, no_conflict_declared=True)
                await handle.execute_update(CaseWorkflow.respond_to_proposal, step(answer, actor=f"expert:{first}"))
            assert "bronze expert certification ended on" in str(refused.value.cause.message)
            assert event_count(office.app, view.case_id) == before

            replaced = await view_when(handle, lambda v: v.proposed_expert_id == second, timeout=20)
            assert replaced.state == "assigning" and first not in replaced.team
            await handle.terminate("test over")

    run(scenario())
