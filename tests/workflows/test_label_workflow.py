"""Labels on the real Temporal dev server with seconds-long policies: suspension, withdrawal, renewal."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowUpdateFailedError

from clusterlabel.activities.models import CaseView, LabelView
from clusterlabel.domain.commands import (
    DecideLabelAppeal,
    LodgeLabelAppeal,
    RestoreLabel,
    StartRenewal,
    SuspendLabel,
    WithdrawCase,
    WithdrawLabel,
)
from clusterlabel.domain.label_lifecycle import SUSPENSION_LIMIT_REASON
from clusterlabel.interfaces.temporal_server import EmbeddedTemporal
from clusterlabel.workflows.case import CaseWorkflow
from clusterlabel.workflows.label import LabelWorkflow
from clusterlabel.workflows.search_attributes import LABEL_STATE
from clusterlabel.workflows.starter import case_handle, label_handle
from tests.workflows.harness import (
    Secretariat,
    drive_to_award,
    event_count,
    office_on,
    outbox,
    result_of,
    run,
    running_worker,
    step,
    view_when,
)


async def labelled(server: EmbeddedTemporal, **policy: Any) -> tuple[Secretariat, Client]:
    office, client = await office_on(server, "labels", **policy)
    office.expert(name="Anna First")
    office.expert(name="Bruno Second")
    return office, client


async def award(office: Secretariat, cluster: uuid.UUID) -> CaseView:
    handle = await office.open_case(cluster)
    await drive_to_award(handle)
    final: CaseView = await result_of(handle)
    assert final.label_id is not None
    return final


async def suspended(office: Secretariat, client: Client) -> tuple[CaseView, Any]:
    """A new cluster's case awarded, and its label suspended through its workflow: the case, and the label's
    workflow."""
    final = await award(office, office.cluster())
    label = label_handle(client, final.label_id)
    await label.execute_update(LabelWorkflow.suspend, step(SuspendLabel(reason="complaint")))
    return final, label


def test_a_suspended_label_not_restored_within_the_limit_is_withdrawn_automatically(
    dev_server: EmbeddedTemporal,
) -> None:
    async def scenario() -> None:
        office, client = await labelled(dev_server, suspension_limit="PT2S")
        cluster = office.cluster()
        async with running_worker(client, office.app, office.task_queue):
            final = await award(office, cluster)
            label = label_handle(client, final.label_id)
            suspended = await label.execute_update(LabelWorkflow.suspend, step(SuspendLabel(reason="complaint")))
            assert suspended.state == "suspended" and suspended.suspended_until is not None
            withdrawn: LabelView = await result_of(label)
            assert withdrawn.state == "withdrawn"
            assert office.app.get_label(final.label_id).reason == SUSPENSION_LIMIT_REASON
            assert office.app.get_cluster(cluster).current_labels == {}
            attributes = (await label.describe()).typed_search_attributes
            assert attributes.get(LABEL_STATE) == "withdrawn"

    run(scenario())


def test_a_label_suspended_past_its_validity_stays_suspended_until_restored_and_then_its_window_runs(
    dev_server: EmbeddedTemporal,
) -> None:
    """The expiry does not end a suspension (DOMAIN.md: a suspension ends in a restoration or a withdrawal):
    the restoration finds the label suspended, expires it, and the renewal window's close follows."""

    async def scenario() -> None:
        office, client = await labelled(
            dev_server, suspension_limit="PT60S", label_validity="PT6S", expiry_reminders=[], renewal_window="PT2S"
        )
        async with running_worker(client, office.app, office.task_queue):
            final, label = await suspended(office, client)
            valid_until = office.app.get_label(final.label_id).valid_until
            await asyncio.sleep((valid_until - datetime.now(UTC)).total_seconds() + 3)  # past its expiry's timer
            assert office.app.get_label(final.label_id).state.value == "suspended"

            restored = await label.execute_update(LabelWorkflow.restore, step(RestoreLabel()))
            assert restored.state == "expired"
            lapsed: LabelView = await asyncio.wait_for(result_of(label), timeout=60)
            assert lapsed.state == "lapsed"

    run(scenario())


def test_restoring_a_label_that_is_not_suspended_is_refused_in_the_domains_words_and_records_nothing(
    dev_server: EmbeddedTemporal,
) -> None:
    async def scenario() -> None:
        office, client = await labelled(dev_server)
        cluster = office.cluster()
        async with running_worker(client, office.app, office.task_queue):
            final = await award(office, cluster)
            label = label_handle(client, final.label_id)
            view: LabelView = await view_when(label, lambda v: True, view_type=LabelView)
            before = event_count(office.app, final.label_id)
            with pytest.raises(WorkflowUpdateFailedError) as refused:
                await label.execute_update(LabelWorkflow.restore, step(RestoreLabel()))
            assert refused.value.cause.message == f"cannot restore: label {view.label_code} is active, not suspended"
            assert event_count(office.app, final.label_id) == before
            withdrawn = await label.execute_update(LabelWorkflow.withdraw, step(WithdrawLabel(reason="fraud")))
            assert withdrawn.state == "withdrawn"
            assert (await result_of(label)).state == "withdrawn"

    run(scenario())


def test_an_abandoned_renewal_lets_the_expired_label_lapse_when_its_window_closes(dev_server: EmbeddedTemporal) -> None:
    async def scenario() -> None:
        office, client = await labelled(
            dev_server, label_validity="PT2S", expiry_reminders=["PT1S"], renewal_window="PT5S"
        )
        cluster = office.cluster()
        async with running_worker(client, office.app, office.task_queue):
            final = await award(office, cluster)
            label = label_handle(client, final.label_id)
            await view_when(label, lambda v: v.state == "expired", view_type=LabelView)
            renewing: LabelView = await label.execute_update(
                LabelWorkflow.start_renewal, step(StartRenewal(), actor=f"cluster:{cluster}")
            )
            renewal_case = renewing.renewal_case_id
            assert renewal_case is not None
            assert (await label.query(LabelWorkflow.view)).renewal_case_id == renewal_case
            renewal = case_handle(client, renewal_case)
            await view_when(renewal, lambda v: v.state == "screening")
            await renewal.execute_update(
                CaseWorkflow.withdraw, step(WithdrawCase(reason="no budget"), actor=f"cluster:{cluster}")
            )
            assert (await result_of(renewal)).state == "withdrawn"
            lapsed: LabelView = await result_of(label)
            assert lapsed.state == "lapsed"
            assert lapsed.renewal_case_id is None
            assert [n.recipient for n in outbox(office.app, "expiry_reminder")] == [f"cluster:{cluster}", "secretariat"]

    run(scenario())


def test_a_renewal_of_a_label_withdrawn_meanwhile_is_awarded_its_own_label_and_the_case_closes(
    dev_server: EmbeddedTemporal,
) -> None:
    async def scenario() -> None:
        office, client = await labelled(dev_server)
        cluster = office.cluster()
        async with running_worker(client, office.app, office.task_queue):
            final = await award(office, cluster)
            label = label_handle(client, final.label_id)
            renewing: LabelView = await label.execute_update(
                LabelWorkflow.start_renewal, step(StartRenewal(), actor=f"cluster:{cluster}")
            )
            assert renewing.renewal_case_id is not None
            await label.execute_update(LabelWorkflow.withdraw, step(WithdrawLabel(reason="misleading claims")))
            assert (await result_of(label)).state == "withdrawn"

            renewal = case_handle(client, renewing.renewal_case_id)
            await drive_to_award(renewal)
            closed: CaseView = await asyncio.wait_for(result_of(renewal), timeout=60)

            assert closed.state == "awarded" and closed.label_id is not None
            new_label = office.app.get_label(closed.label_id)
            assert new_label.state.value == "active" and new_label.supersedes is None
            assert office.app.get_label(final.label_id).state.value == "withdrawn"
            assert office.app.get_cluster(cluster).current_labels == {new_label.level: new_label.id}

    run(scenario())


def test_an_appeal_pending_at_the_suspension_limit_keeps_the_workflow_until_the_panel_restores_the_label(
    dev_server: EmbeddedTemporal,
) -> None:
    """The suspension's limit withdraws the label while its appeal waits: the workflow waits for the panel,
    and once the appeal is upheld runs the label's timers again (its expiry, then its renewal window)."""

    async def scenario() -> None:
        office, client = await labelled(
            dev_server, suspension_limit="PT2S", label_validity="PT20S", expiry_reminders=[], renewal_window="PT2S"
        )
        async with running_worker(client, office.app, office.task_queue):
            final, label = await suspended(office, client)
            cluster = final.cluster_id
            grounds = LodgeLabelAppeal(grounds="the complaint concerns another cluster")
            await label.execute_update(LabelWorkflow.lodge_appeal, step(grounds, actor=f"cluster:{cluster}"))
            withdrawn = await view_when(label, lambda v: v.state == "withdrawn", view_type=LabelView)
            assert withdrawn.appeal is not None and withdrawn.appeal.upheld is None and not withdrawn.final
            assert (await label.describe()).status == WorkflowExecutionStatus.RUNNING

            upheld = DecideLabelAppeal(upheld=True, rationale="misdirected complaint")
            restored = await label.execute_update(LabelWorkflow.decide_appeal, step(upheld, actor="board:appeals"))
            assert restored.state == "active"
            assert office.app.get_cluster(cluster).current_labels == {
                office.app.get_label(final.label_id).level: final.label_id
            }
            lapsed: LabelView = await asyncio.wait_for(result_of(label), timeout=60)
            assert lapsed.state == "lapsed"  # expired, then its renewal window closed: the timers ran again

    run(scenario())
