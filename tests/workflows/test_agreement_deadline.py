"""A case whose expert team is complete waits for the cluster's agreement against the policy's deadline (21
days, reminded 7 days before), on the time-skipping server: a cluster that never answers is reminded, with the
secretariat, and the secretariat is then asked to step in, while the case keeps waiting for the answer."""

from __future__ import annotations

from datetime import timedelta

from clusterlabel.activities.models import CaseView
from clusterlabel.domain.commands import RecordAgreement, Screen
from clusterlabel.workflows.case import CaseWorkflow
from tests.workflows.harness import accept_proposal, outbox, run, step, view_when
from tests.workflows.test_rejection_appeal_window import time_skipping_office


def test_a_cluster_that_never_answers_to_its_complete_team_is_reminded_and_the_case_escalated() -> None:
    async def scenario() -> None:
        async with time_skipping_office() as (env, office):
            cluster = office.cluster()
            office.expert()
            handle = await office.open_case(cluster)
            await handle.execute_update(CaseWorkflow.screen, step(Screen(accepted=True)))
            await accept_proposal(handle)
            staffed: CaseView = await view_when(handle, lambda v: v.team_complete)
            assert staffed.current_step == "agreement"
            assert [n.recipient for n in outbox(office.app, "experts_to_agree")] == [f"cluster:{cluster}"]

            await env.sleep(timedelta(days=22))  # past the agreement's deadline, its reminder on the way
            overdue: CaseView = await view_when(handle, lambda v: v.needs_attention)

            assert overdue.state == "assigning" and "agreement deadline" in overdue.attention[0]
            reminded = sorted(n.recipient for n in outbox(office.app, "deadline_reminder"))
            assert reminded == sorted(["secretariat", f"cluster:{cluster}"])
            assert [n.recipient for n in outbox(office.app, "escalation")] == ["secretariat"]
            agreed = await handle.execute_update(CaseWorkflow.record_agreement, step(RecordAgreement(agreed=True)))
            assert agreed.state == "auditing" and not agreed.needs_attention
            await handle.terminate("test over")

    run(scenario())
