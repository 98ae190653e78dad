"""A step accepted while the case's workflow closes gets the domain's answer, never an abandoned update.

The close (CloseCase) runs under the command lock; a step that arrives meanwhile passes the update's
validator (the view still says the case may take it) and waits for the lock. The workflow ends only once
every accepted step has its answer (ANSWER_ACCEPTED_STEPS): here the domain's refusal, since the case
closed first. The test holds the close in its activity until the step is accepted, so the race is not
left to chance.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from temporalio.client import WorkflowUpdateFailedError, WorkflowUpdateStage
from temporalio.exceptions import ApplicationError

from clusterlabel.activities.certification import CertificationActivities
from clusterlabel.activities.models import CaseView, CommandRun
from clusterlabel.domain.commands import LodgeAppeal, Screen
from clusterlabel.interfaces.temporal_server import EmbeddedTemporal
from clusterlabel.workflows.case import CaseWorkflow
from tests.workflows.harness import all_events, office_on, result_of, run, running_worker, step


class HeldClose:
    """Holds the case's CloseCase command, in the worker's activity thread, until released."""

    def __init__(self) -> None:
        self.started, self.released = threading.Event(), threading.Event()

    def wrap(self, handle: Any) -> Any:
        def held(activities: CertificationActivities, run: CommandRun) -> Any:
            if run.name == "CloseCase":
                self.started.set()
                self.released.wait(60)
            return handle(activities, run)

        return held


def test_an_appeal_lodged_while_the_case_closes_is_refused_by_the_domain(
    dev_server: EmbeddedTemporal, monkeypatch: pytest.MonkeyPatch
) -> None:
    close = HeldClose()
    monkeypatch.setattr(CertificationActivities, "_handle", close.wrap(CertificationActivities._handle))

    async def scenario() -> None:
        office, client = await office_on(dev_server, "closing", appeal_window="PT2S")
        async with running_worker(client, office.app, office.task_queue):
            cluster = office.cluster()
            case = await office.open_case(cluster)
            await case.execute_update(CaseWorkflow.screen, step(Screen(accepted=False, reason="Incomplete.")))
            assert await asyncio.to_thread(close.started.wait, 30), "the window passed and the close began"

            appeal = step(LodgeAppeal(grounds="Sent by post."), actor=f"cluster:{cluster}")
            lodged = await case.start_update(
                CaseWorkflow.lodge_appeal, appeal, wait_for_stage=WorkflowUpdateStage.ACCEPTED
            )
            close.released.set()
            with pytest.raises(WorkflowUpdateFailedError) as refused:
                await lodged.result()
            final: CaseView = await result_of(case)

        cause = refused.value.cause
        assert isinstance(cause, ApplicationError), cause
        assert "appeal" in cause.message, cause.message  # the domain's words, not "update abandoned"
        assert final.state == "rejected" and final.concluded
        assert not [fact for fact in all_events(office.app) if fact.topic.endswith("AppealLodged")]

    run(scenario())
