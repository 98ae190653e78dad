"""A Bronze label over its real lifetime (P2Y valid, P1Y renewable, reminders 90/30/7 days before
expiry) on the time-skipping server: years pass in seconds, and the domain sees the server's clock.

Each story runs in its own server: the test server stops skipping time once a child workflow ends
after its parent closed (a label outliving its case does exactly that), so each story ends with the
one label workflow that finishes last.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from clusterlabel.activities.models import CaseView, LabelView
from clusterlabel.domain.base import Level
from clusterlabel.domain.commands import StartRenewal
from clusterlabel.domain.policy import default_policy
from clusterlabel.interfaces.temporal_server import SEARCH_ATTRIBUTES
from clusterlabel.workflows.label import LabelWorkflow
from clusterlabel.workflows.payloads import DATA_CONVERTER
from clusterlabel.workflows.starter import case_handle, label_handle
from tests.workflows.harness import (
    Secretariat,
    drive_to_award,
    memory_app,
    outbox,
    result_of,
    run,
    running_worker,
    step,
    time_skipping_server_path,
    view_when,
)


@asynccontextmanager
async def time_skipping_office() -> AsyncIterator[tuple[WorkflowEnvironment, Secretariat]]:
    """A time-skipping server, a worker on the real policy, and a secretariat with a cluster and two experts."""
    async with await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=time_skipping_server_path(), data_converter=DATA_CONVERTER
    ) as env:
        # The test server lists no search attributes; registering them is all it offers.
        await env.client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=env.client.namespace, search_attributes=SEARCH_ATTRIBUTES)
        )
        office = Secretariat(memory_app(default_policy()), env.client, task_queue=f"labels-{uuid.uuid4().hex[:8]}")
        async with running_worker(env.client, office.app, office.task_queue):
            yield env, office


async def first_label(
    env: WorkflowEnvironment, office: Secretariat, cluster: uuid.UUID
) -> tuple[CaseView, WorkflowHandle[Any, LabelView]]:
    handle = await office.open_case(cluster, Level.BRONZE, at=await env.get_current_time())
    await drive_to_award(handle)
    awarded: CaseView = await result_of(handle)
    assert awarded.label_id is not None
    return awarded, label_handle(env.client, awarded.label_id)


async def skip_to(env: WorkflowEnvironment, instant: Any) -> None:
    await env.sleep(instant - await env.get_current_time())


def test_a_label_never_renewed_is_reminded_three_times_expires_and_lapses_when_its_window_closes() -> None:
    async def story() -> None:
        async with time_skipping_office() as (env, office):
            cluster = office.cluster()
            office.expert()
            _awarded, label = await first_label(env, office, cluster)
            issued: LabelView = await view_when(label, lambda v: True, view_type=LabelView)
            assert issued.state == "active"
            # Two years from the month the audit was held (not from the decision, which the test server
            # may have skipped ahead of while the worker sat idle).
            stored = office.app.get_label(issued.label_id)
            assert stored.case_id is not None
            held = office.app.get_case(stored.case_id).audit_date
            assert held is not None and stored.valid_until - held > timedelta(days=700)
            assert stored.valid_until > stored.valid_from

            await skip_to(env, issued.valid_until - timedelta(days=1))
            reminded = await view_when(label, lambda v: len(v.reminders_sent) == 3, view_type=LabelView)
            assert reminded.reminders_sent == ["P90D", "P30D", "P7D"]
            assert reminded.state == "active"
            reminders = outbox(office.app, "expiry_reminder")
            assert len(reminders) == 6
            assert {r.recipient for r in reminders} == {f"cluster:{cluster}", "secretariat"}

            await skip_to(env, issued.valid_until + timedelta(days=2))
            expired = await view_when(label, lambda v: v.state == "expired", view_type=LabelView)
            assert office.app.get_label(expired.label_id).is_valid_at(await env.get_current_time()) is False

            # The last second passes in real time: the workflow ends during it, and the test server would
            # not finish a skip across that end.
            await skip_to(env, issued.renewable_until - timedelta(seconds=1))
            lapsed: LabelView = await result_of(label)
            assert lapsed.state == "lapsed"
            stored = office.app.get_label(lapsed.label_id)
            assert stored.state_since >= stored.renewable_until
            assert office.app.get_cluster(cluster).current_labels == {}  # the cluster may apply anew

    run(story())


def test_a_renewal_inside_the_window_supersedes_the_expired_label_and_ends_its_workflow() -> None:
    async def story() -> None:
        async with time_skipping_office() as (env, office):
            cluster = office.cluster()
            first_expert = office.expert(name="Anna First")
            second_expert = office.expert(name="Bruno Second")
            awarded, label = await first_label(env, office, cluster)
            issued: LabelView = await view_when(label, lambda v: True, view_type=LabelView)

            await skip_to(env, issued.valid_until + timedelta(days=31))
            await view_when(label, lambda v: v.state == "expired", view_type=LabelView)
            renewing: LabelView = await label.execute_update(
                LabelWorkflow.start_renewal, step(StartRenewal(), actor=f"cluster:{cluster}")
            )
            assert renewing.renewal_case_id is not None
            renewal = case_handle(env.client, renewing.renewal_case_id)
            await drive_to_award(renewal, audit_date=await env.get_current_time())
            renewed: CaseView = await result_of(renewal)
            assert renewed.kind == "renewal" and renewed.label_id is not None
            # Rotation: the renewal is audited by the expert who did not audit the first round.
            assert awarded.team == [first_expert] and renewed.team == [second_expert]

            superseded: LabelView = await result_of(label)
            assert superseded.state == "superseded"
            assert superseded.superseded_by == renewed.label_id
            new_label = office.app.get_label(renewed.label_id)
            assert new_label.supersedes == issued.label_id
            assert new_label.valid_until > issued.renewable_until - timedelta(days=366)
            assert office.app.get_cluster(cluster).current_labels == {Level.BRONZE: renewed.label_id}

    run(story())
