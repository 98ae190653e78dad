"""A case rejected at screening keeps its workflow through the appeal window (30 days by the real
policy), on the time-skipping server: it closes once the window has passed unappealed, and an upheld
appeal sends it back to a new screening."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from clusterlabel.activities.models import CaseView
from clusterlabel.domain.commands import DecideAppeal, LodgeAppeal, Screen
from clusterlabel.domain.policy import default_policy
from clusterlabel.interfaces.temporal_server import SEARCH_ATTRIBUTES
from clusterlabel.workflows.case import CaseWorkflow
from clusterlabel.workflows.payloads import DATA_CONVERTER
from tests.workflows.harness import (
    Secretariat,
    memory_app,
    outbox,
    result_of,
    run,
    running_worker,
    step,
    time_skipping_server_path,
    view_when,
)

APPEALS_PANEL = "secretariat:appeals-panel"
SECOND_OFFICER = "secretariat:second-officer"


@asynccontextmanager
async def time_skipping_office() -> AsyncIterator[tuple[WorkflowEnvironment, Secretariat]]:
    async with await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=time_skipping_server_path(), data_converter=DATA_CONVERTER
    ) as env:
        await env.client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=env.client.namespace, search_attributes=SEARCH_ATTRIBUTES)
        )
        office = Secretariat(memory_app(default_policy()), env.client, task_queue=f"appeals-{uuid.uuid4().hex[:8]}")
        async with running_worker(env.client, office.app, office.task_queue):
            yield env, office


def test_a_rejected_case_stays_open_through_its_appeal_window_and_then_closes() -> None:
    async def scenario() -> None:
        async with time_skipping_office() as (_, office):
            cluster = office.cluster()
            handle = await office.open_case(cluster)
            rejected: CaseView = await handle.execute_update(
                CaseWorkflow.screen, step(Screen(accepted=False, reason="The questionnaire is missing."))
            )
            assert rejected.state == "rejected" and not rejected.concluded
            assert rejected.current_step == "appeal"
            assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
            final: CaseView = await result_of(handle)
            assert final.state == "rejected" and final.concluded
            assert final.deadlines["appeal"] - rejected.deadlines["appeal"] == timedelta(0)
            assert office.app.get_cluster(cluster).open_cases == {}  # closed: the cluster may apply again

    run(scenario())


def test_an_appeal_upheld_inside_the_window_sends_the_rejected_case_back_to_screening() -> None:
    async def scenario() -> None:
        async with time_skipping_office() as (env, office):
            cluster = office.cluster()
            handle = await office.open_case(cluster)
            await handle.execute_update(CaseWorkflow.screen, step(Screen(accepted=False, reason="Incomplete.")))
            await env.sleep(timedelta(days=29))  # one day of the window left
            appeal = LodgeAppeal(grounds="The questionnaire was sent by post.")
            lodged: CaseView = await handle.execute_update(
                CaseWorkflow.lodge_appeal, step(appeal, actor=f"cluster:{cluster}")
            )
            assert lodged.appeal_lodged and lodged.state == "rejected"
            await env.sleep(timedelta(days=5))  # past the window: a lodged appeal keeps the case open
            assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
            upheld = DecideAppeal(upheld=True, rationale="It arrived in time.")
            back: CaseView = await handle.execute_update(CaseWorkflow.decide_appeal, step(upheld, actor=APPEALS_PANEL))
            assert back.state == "screening" and back.current_step == "screening"
            screened: CaseView = await handle.execute_update(
                CaseWorkflow.screen, step(Screen(accepted=True), actor=SECOND_OFFICER)
            )
            assert screened.state == "assigning"
            await handle.terminate("test over")

    run(scenario())


def test_an_appeal_the_panel_leaves_undecided_is_reminded_then_escalated_and_settled_by_its_decision() -> None:
    """The policy gives the appeals panel 30 days, reminded 7 before: an appeal nobody decides is chased, not
    left waiting for ever with the case open; the panel's decision settles the escalation."""

    async def scenario() -> None:
        async with time_skipping_office() as (env, office):
            cluster = office.cluster()
            handle = await office.open_case(cluster)
            await handle.execute_update(CaseWorkflow.screen, step(Screen(accepted=False, reason="Incomplete.")))
            appeal = LodgeAppeal(grounds="The questionnaire was sent by post.")
            lodged: CaseView = await handle.execute_update(
                CaseWorkflow.lodge_appeal, step(appeal, actor=f"cluster:{cluster}")
            )
            assert lodged.current_step == "appeal_decision"
            assert [(a.kind, a.offset) for a in lodged.alarms] == [("reminder", "P7D"), ("deadline", None)]

            await env.sleep(timedelta(days=31))  # past the panel's deadline, its reminder on the way
            overdue: CaseView = await view_when(handle, lambda v: v.needs_attention)

            assert "appeal_decision deadline" in overdue.attention[0]
            reminders = outbox(office.app, "deadline_reminder")
            assert [(n.recipient, n.data["step"]) for n in reminders] == [("appeals-panel", "appeal_decision")]
            assert [n.recipient for n in outbox(office.app, "escalation")] == ["secretariat"]
            dismissed = DecideAppeal(upheld=False, rationale="The post arrived after the deadline.")
            final: CaseView = await handle.execute_update(
                CaseWorkflow.decide_appeal, step(dismissed, actor=APPEALS_PANEL)
            )
            assert final.concluded and not final.needs_attention and final.current_step is None
            assert (await result_of(handle)).state == "rejected"

    run(scenario())
