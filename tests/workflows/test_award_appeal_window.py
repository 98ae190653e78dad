"""A Gold case awarded Silver, on the time-skipping server: its Silver label is issued at once and the case
keeps its workflow through the award's appeal window (30 days by the real policy); unappealed it closes
then, and an appeal upheld inside the window leads to a new decision whose Gold label replaces the Silver."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio.client import WorkflowExecutionStatus, WorkflowHandle

from clusterlabel.activities.models import CaseView, LabelView
from clusterlabel.domain.base import Level
from clusterlabel.domain.case_lifecycle import Outcome
from clusterlabel.domain.commands import DecideAppeal, LodgeAppeal, RecordDecision
from clusterlabel.domain.label_lifecycle import LabelState
from clusterlabel.workflows.case import CaseWorkflow
from clusterlabel.workflows.label import label_workflow_id
from tests.workflows.harness import BOARD, Secretariat, drive_to_award, result_of, run, step
from tests.workflows.test_rejection_appeal_window import APPEALS_PANEL, time_skipping_office

SECOND_DECIDER = "secretariat:second-decider"


async def silver_for_gold(office: Secretariat) -> tuple[Any, WorkflowHandle[Any, CaseView], CaseView]:
    cluster = office.cluster(country="LT")
    office.expert(country="LT", name="Rasa National")
    office.expert(country="DE", name="Dieter Foreign")
    handle = await office.open_case(cluster, Level.GOLD)
    silver = RecordDecision(outcome=Outcome.AWARD, level=Level.SILVER, rationale="Gold's visit found gaps.")
    await drive_to_award(handle, Level.GOLD, decision=step(silver, actor=BOARD))
    return cluster, handle, await _label_issued(handle)


async def _label_issued(handle: WorkflowHandle[Any, CaseView]) -> CaseView:
    for _ in range(100):  # the workflow issues the label right after the decision
        view = await handle.query(CaseWorkflow.view)
        if view is not None and view.label_id is not None and "appeal" in view.deadlines:
            return view
        await handle.describe()
    raise AssertionError("the lower award's label was never issued or its appeal window never opened")


def test_a_lower_award_holds_its_label_and_the_case_open_until_the_appeal_window_closes() -> None:
    async def scenario() -> None:
        async with time_skipping_office() as (_, office):
            cluster, handle, awarded = await silver_for_gold(office)
            assert awarded.state == "awarded" and not awarded.concluded and awarded.current_step == "appeal"
            assert awarded.label_id is not None
            assert office.app.get_label(awarded.label_id).level is Level.SILVER
            assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
            final: CaseView = await result_of(handle)  # the window passes unappealed
            assert final.state == "awarded" and final.concluded and final.label_id == awarded.label_id
            assert office.app.get_cluster(cluster).open_cases == {}
            assert office.app.get_label(awarded.label_id).state is LabelState.ACTIVE

    run(scenario())


def test_an_upheld_appeal_against_a_lower_award_ends_with_the_gold_label_replacing_the_silver() -> None:
    async def scenario() -> None:
        async with time_skipping_office() as (env, office):
            cluster, handle, awarded = await silver_for_gold(office)
            silver_id = awarded.label_id
            assert silver_id is not None
            await env.sleep(timedelta(days=20))
            appeal = LodgeAppeal(grounds="The assessment supports Gold.")
            await handle.execute_update(CaseWorkflow.lodge_appeal, step(appeal, actor=f"cluster:{cluster}"))
            upheld = DecideAppeal(upheld=True, rationale="It does.")
            back: CaseView = await handle.execute_update(CaseWorkflow.decide_appeal, step(upheld, actor=APPEALS_PANEL))
            assert back.state == "deciding" and back.appealed_label_id == silver_id
            gold = RecordDecision(outcome=Outcome.AWARD, level=Level.GOLD, rationale="On appeal: Gold.")
            await handle.execute_update(CaseWorkflow.record_decision, step(gold, actor=SECOND_DECIDER))
            final: CaseView = await result_of(handle)
            assert final.state == "awarded" and final.label_id not in (None, silver_id)
            assert office.app.get_label(final.label_id).level is Level.GOLD
            assert office.app.get_cluster(cluster).current_labels == {Level.GOLD: final.label_id}
            silver_run = env.client.get_workflow_handle(label_workflow_id(silver_id), result_type=LabelView)
            ended: LabelView = await result_of(silver_run)  # told it was superseded, its workflow ends
            assert ended.state == LabelState.SUPERSEDED.value

    run(scenario())


def test_an_upheld_appeal_decided_again_at_the_same_level_keeps_the_silver_label_and_its_workflow() -> None:
    async def scenario() -> None:
        async with time_skipping_office() as (env, office):
            cluster, handle, awarded = await silver_for_gold(office)
            silver_id = awarded.label_id
            assert silver_id is not None
            appeal = LodgeAppeal(grounds="The assessment supports Gold.")
            await handle.execute_update(CaseWorkflow.lodge_appeal, step(appeal, actor=f"cluster:{cluster}"))
            upheld = DecideAppeal(upheld=True, rationale="It does.")
            await handle.execute_update(CaseWorkflow.decide_appeal, step(upheld, actor=APPEALS_PANEL))
            again = RecordDecision(outcome=Outcome.AWARD, level=Level.SILVER, rationale="On appeal: Silver still.")
            await handle.execute_update(CaseWorkflow.record_decision, step(again, actor=SECOND_DECIDER))
            final: CaseView = await result_of(handle)
            assert final.state == "awarded" and final.concluded and final.label_id == silver_id
            assert office.app.get_label(silver_id).state is LabelState.ACTIVE
            assert office.app.get_cluster(cluster).current_labels == {Level.SILVER: silver_id}
            silver_run = env.client.get_workflow_handle(label_workflow_id(silver_id))
            assert (await silver_run.describe()).status == WorkflowExecutionStatus.RUNNING

    run(scenario())
