"""Certification cases on the real Temporal dev server, with a policy compressed to seconds."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.service import RPCError

from clusterlabel.activities.models import CaseView, LabelView
from clusterlabel.domain.base import Level
from clusterlabel.domain.case_lifecycle import Outcome
from clusterlabel.domain.catalogue_shelf import current_version_for
from clusterlabel.domain.commands import (
    AnswerProposal,
    LodgeAppeal,
    RecordAgreement,
    RecordDecision,
    ScheduleAudit,
    Screen,
    SignAssessment,
    SubmitAssessment,
)
from clusterlabel.domain.fee_commands import RecordPayment
from clusterlabel.domain.invoice import Invoice, invoice_id_for
from clusterlabel.interfaces.temporal_server import EmbeddedTemporal
from clusterlabel.interfaces.worker import notify_experts_changed
from clusterlabel.workflows.case import CaseWorkflow
from clusterlabel.workflows.label import label_workflow_id
from tests.builders import T0, full_scores, indicators, send
from tests.workflows.harness import (
    BOARD,
    SECRETARY,
    Secretariat,
    accept_proposal,
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


async def secretariat(server: EmbeddedTemporal, **policy: Any) -> tuple[Secretariat, Client]:
    return await office_on(server, "cases", **policy)


def test_a_gold_case_gets_one_national_and_one_foreign_expert_and_ends_with_a_gold_label(
    dev_server: EmbeddedTemporal,
) -> None:
    async def scenario() -> None:
        office, client = await secretariat(dev_server)
        cluster = office.cluster(country="LT")
        national = office.expert(country="LT", name="Rasa National")
        foreign = office.expert(country="DE", name="Dieter Foreign")
        async with running_worker(client, office.app, office.task_queue):
            handle = await office.open_case(cluster, Level.GOLD)
            await drive_to_award(handle, Level.GOLD)
            final: CaseView = await handle.result()
            assert final.state == "awarded"
            assert set(final.team) == {national, foreign}
            assert final.label_id is not None
            label = office.app.get_label(final.label_id)
            assert label.level is Level.GOLD
            assert set(label.expert_ids) == {national, foreign}
            offers = outbox(office.app, "offer")
            assert {offer.recipient for offer in offers} == {f"expert:{national}", f"expert:{foreign}"}
            label_view = await view_when(
                client.get_workflow_handle(label_workflow_id(final.label_id)), lambda v: True, view_type=LabelView
            )
            assert label_view.state == "active"

    run(scenario())


def test_an_expert_who_does_not_answer_in_time_is_replaced_by_the_next_one(dev_server: EmbeddedTemporal) -> None:
    async def scenario() -> None:
        office, client = await secretariat(dev_server, expert_response_timeout="PT2S")
        cluster = office.cluster()
        first = office.expert(name="Aaron Silent")
        second = office.expert(name="Berta Responsive")
        async with running_worker(client, office.app, office.task_queue):
            handle = await office.open_case(cluster)
            await handle.execute_update(CaseWorkflow.screen, step(Screen(accepted=True)))
            assert (await view_when(handle, lambda v: v.proposed_expert_id is not None)).proposed_expert_id == first
            view = await view_when(handle, lambda v: v.proposed_expert_id == second, timeout=15)
            assert view.state == "assigning"
            topics = [type(event).__name__ for event in office.app.repository.event_store.get(handle_case_id(view))]
            assert "ExpertResponseTimedOut" in topics
            assert [offer.recipient for offer in outbox(office.app, "offer")] == [f"expert:{first}", f"expert:{second}"]
            await handle.execute_update(
                CaseWorkflow.respond_to_proposal,
                step(AnswerProposal(expert_id=second, accept=True), actor=f"expert:{second}"),
            )
            assert (await view_when(handle, lambda v: v.team_complete)).team == [second]
            await handle.terminate("test over")

    run(scenario())


def handle_case_id(view: CaseView) -> uuid.UUID:
    return view.case_id


@pytest.mark.parametrize("told", ["experts_changed", "resume"])
def test_a_case_without_an_eligible_expert_escalates_says_why_it_waits_and_looks_again_when_told(
    dev_server: EmbeddedTemporal, told: str
) -> None:
    """Told that experts changed (a registration, a re-certification), or resumed by an officer (POST
    /cases/{id}/resume): an expert may become eligible with time alone (an affiliation's cooling-off ends),
    which nobody signals. It waited for experts_changed alone."""

    async def scenario() -> None:
        office, client = await secretariat(dev_server)
        cluster = office.cluster()
        async with running_worker(client, office.app, office.task_queue):
            handle = await office.open_case(cluster)
            await handle.execute_update(CaseWorkflow.screen, step(Screen(accepted=True)))
            waiting = await view_when(handle, lambda v: v.needs_attention)
            assert waiting.state == "assigning"
            assert "no eligible expert" in waiting.attention[0]
            assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
            assert [n.recipient for n in outbox(office.app, "escalation")] == ["secretariat"]
            wanted = await handle.query(CaseWorkflow.help_wanted)
            assert wanted is not None and "no eligible expert" in wanted  # the reconciler reports it as waiting

            newcomer = office.expert(name="Nora Newcomer")  # in the store; nobody told yet
            if told == "resume":
                await handle.signal(CaseWorkflow.resume)
            else:
                await tell_experts_changed(client, handle)
            view = await view_when(handle, lambda v: v.proposed_expert_id == newcomer)
            assert not view.needs_attention and await handle.query(CaseWorkflow.help_wanted) is None
            await handle.terminate("test over")

    run(scenario())


async def tell_experts_changed(client: Client, handle: WorkflowHandle[Any, CaseView]) -> None:
    await view_when(handle, lambda v: True)  # the search attribute CaseState is indexed by now
    for _ in range(50):  # visibility is eventually consistent
        if await notify_experts_changed(client, "expert registered"):
            return
    raise AssertionError("no waiting case was told that experts changed")


def test_a_step_that_does_not_fit_the_case_is_refused_in_the_domains_words_and_records_nothing(
    dev_server: EmbeddedTemporal,
) -> None:
    async def scenario() -> None:
        office, client = await secretariat(dev_server)
        cluster = office.cluster()
        office.expert()
        async with running_worker(client, office.app, office.task_queue):
            handle = await office.open_case(cluster)
            view = await view_when(handle, lambda v: v.state == "screening")
            before = event_count(office.app, view.case_id)
            with pytest.raises(WorkflowUpdateFailedError) as refused:
                await handle.execute_update(
                    CaseWorkflow.record_decision,
                    step(RecordDecision(outcome="award", level="bronze", rationale="?")),
                )
            assert refused.value.cause.message == "cannot record a decision: the case is screening, not deciding"
            assert refused.value.cause.type == "StepNotAllowed"
            assert event_count(office.app, view.case_id) == before
            assert (await handle.query(CaseWorkflow.view)).state == "screening"
            await handle.terminate("test over")

    run(scenario())


def test_an_incomplete_assessment_is_refused_by_the_domain_and_records_nothing(dev_server: EmbeddedTemporal) -> None:
    async def scenario() -> None:
        office, client = await secretariat(dev_server)
        cluster = office.cluster()
        office.expert()
        async with running_worker(client, office.app, office.task_queue):
            handle = await office.open_case(cluster)
            await handle.execute_update(CaseWorkflow.screen, step(Screen(accepted=True)))
            expert = await accept_proposal(handle)
            view = await handle.execute_update(CaseWorkflow.record_agreement, step(RecordAgreement(agreed=True)))
            before = event_count(office.app, view.case_id)
            scores = full_scores(current_version_for("bronze", T0))
            missing = sorted(scores)[0]
            del scores[missing]
            with pytest.raises(WorkflowUpdateFailedError) as refused:
                await handle.execute_update(
                    CaseWorkflow.submit_assessment,
                    step(
                        SubmitAssessment(expert_id=expert, indicators=indicators(scores), report="report"),
                        actor=f"expert:{expert}",
                    ),
                )
            assert refused.value.cause.type == "InvalidInput"
            assert f"indicator {missing}" in refused.value.cause.message
            assert event_count(office.app, view.case_id) == before
            assert (await handle.query(CaseWorkflow.view)).state == "auditing"
            await handle.terminate("test over")

    run(scenario())


def test_when_the_audit_waits_for_payment_the_workflow_refuses_the_audit_until_the_invoice_is_paid(
    dev_server: EmbeddedTemporal,
) -> None:
    async def scenario() -> None:
        office, client = await secretariat(dev_server, audit_waits_for_payment=True)
        cluster = office.cluster()
        office.expert()
        async with running_worker(client, office.app, office.task_queue):
            handle = await office.open_case(cluster)
            await handle.execute_update(CaseWorkflow.screen, step(Screen(accepted=True)))
            await accept_proposal(handle)
            view = await handle.execute_update(CaseWorkflow.record_agreement, step(RecordAgreement(agreed=True)))
            invoice = office.app.load(invoice_id_for(view.case_id), Invoice)
            before = event_count(office.app, view.case_id)
            held = datetime.now(UTC)  # the day the cluster agreed
            audit = step(ScheduleAudit(audit_date=held, place="the cluster office"))
            with pytest.raises(WorkflowUpdateFailedError) as refused:
                await handle.execute_update(CaseWorkflow.schedule_audit, audit)
            assert refused.value.cause.type == "StepNotAllowed"
            assert "the case's invoice is not paid yet" in refused.value.cause.message
            assert event_count(office.app, view.case_id) == before

            paid = RecordPayment(paid_on=invoice.issued_at.date(), reference="SEPA-1")
            send(office.app, invoice.id, paid, actor=SECRETARY)
            await handle.execute_update(CaseWorkflow.schedule_audit, step(audit.command))
            assert office.app.get_case(view.case_id).audit_date == held
            await handle.terminate("test over")

    run(scenario())


def test_a_missed_audit_deadline_is_escalated_after_its_reminder_and_the_case_keeps_waiting(
    dev_server: EmbeddedTemporal,
) -> None:
    async def scenario() -> None:
        office, client = await secretariat(dev_server, audit_deadline="PT3S", deadline_reminders=["PT2S"])
        cluster = office.cluster()
        expert = office.expert()
        async with running_worker(client, office.app, office.task_queue):
            handle = await office.open_case(cluster)
            await handle.execute_update(CaseWorkflow.screen, step(Screen(accepted=True)))
            await accept_proposal(handle)
            await handle.execute_update(CaseWorkflow.record_agreement, step(RecordAgreement(agreed=True)))
            overdue = await view_when(handle, lambda v: v.needs_attention, timeout=15)
            assert overdue.state == "auditing"
            assert "audit deadline" in overdue.attention[0]
            reminded = {n.recipient for n in outbox(office.app, "deadline_reminder")}
            assert reminded == {"secretariat", f"expert:{expert}"}
            assert [n.recipient for n in outbox(office.app, "escalation")] == ["secretariat"]
            assessed = await handle.execute_update(
                CaseWorkflow.submit_assessment,
                step(
                    SubmitAssessment(
                        expert_id=expert,
                        indicators=indicators(full_scores(current_version_for("bronze", T0))),
                        report="Late but complete.",
                    ),
                    actor=f"expert:{expert}",
                ),
            )
            assert assessed.state == "deciding" and not assessed.needs_attention
            await handle.terminate("test over")

    run(scenario())


def test_a_missed_screening_deadline_is_escalated_and_the_application_can_still_be_screened(
    dev_server: EmbeddedTemporal,
) -> None:
    async def scenario() -> None:
        office, client = await secretariat(dev_server, screening_deadline="PT2S")
        cluster = office.cluster()
        office.expert()
        async with running_worker(client, office.app, office.task_queue):
            handle = await office.open_case(cluster)
            overdue = await view_when(handle, lambda v: v.needs_attention, timeout=15)
            assert overdue.state == "screening"
            assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
            screened = await handle.execute_update(CaseWorkflow.screen, step(Screen(accepted=True)))
            assert screened.state == "assigning"
            await handle.terminate("test over")

    run(scenario())


def test_a_refusal_not_appealed_within_the_window_closes_the_case(dev_server: EmbeddedTemporal) -> None:
    async def scenario() -> None:
        office, client = await secretariat(dev_server, appeal_window="PT2S")
        cluster = office.cluster()
        office.expert()
        async with running_worker(client, office.app, office.task_queue):
            handle = await office.open_case(cluster)
            refusal = step(
                RecordDecision(outcome=Outcome.REFUSE, level=Level.BRONZE, rationale="Below the bar."),
                actor=BOARD,
            )
            refused = await drive_to_award(handle, decision=refusal)
            assert refused.state == "refused" and not refused.concluded
            final: CaseView = await result_of(handle)
            assert final.state == "refused" and final.concluded
            assert final.label_id is None
            assert office.app.get_cluster(cluster).open_cases == {}  # the cluster may apply again
            with pytest.raises(RPCError) as closed:
                await handle.execute_update(
                    CaseWorkflow.lodge_appeal, step(LodgeAppeal(grounds="late"), actor=f"cluster:{cluster}")
                )
            assert "already completed" in str(closed.value)

    run(scenario())


def test_steps_sent_in_the_format_before_commands_were_data_are_keyed_as_the_old_code_keyed_them(
    dev_server: EmbeddedTemporal,
) -> None:
    """An API process of the previous release (during a rolling deploy) sends flat steps: each is
    taken once, under the key that release derived, and two without a key are two steps."""

    async def scenario() -> None:
        office, client = await secretariat(dev_server)
        cluster = office.cluster()
        office.expert()
        async with running_worker(client, office.app, office.task_queue):
            handle = await office.open_case(cluster)
            flat_screen = {"actor": SECRETARY, "idempotency_key": None, "accepted": True, "reason": ""}
            screened = await handle.execute_update("screen", flat_screen, id="old-api-1", result_type=CaseView)
            assert screened.state == "assigning"
            keyed = {"actor": SECRETARY, "idempotency_key": "client-key-7", "reason": "merger"}
            withdrawn = await handle.execute_update("withdraw", keyed, id="old-api-2", result_type=CaseView)
            assert withdrawn.state == "withdrawn"
            case_id = screened.case_id
            stored = [
                (type(event).__name__, event.command_key)
                for event in (
                    office.app.mapper.to_domain_event(item) for item in office.app.recorder.select_events(case_id)
                )
            ]
            assert ("Screened", f"case:{case_id}:screen:old-api-1") in stored
            assert ("Withdrawn", f"case:{case_id}:withdraw:client-key-7") in stored

    run(scenario())


def test_a_gold_case_waits_in_auditing_for_the_second_signature_and_refuses_one_from_off_the_team(
    dev_server: EmbeddedTemporal,
) -> None:
    async def scenario() -> None:
        office, client = await secretariat(dev_server)
        cluster = office.cluster(country="LT")
        office.expert(country="LT", name="Rasa National")
        office.expert(country="DE", name="Dieter Foreign")
        async with running_worker(client, office.app, office.task_queue):
            handle = await office.open_case(cluster, Level.GOLD)
            await handle.execute_update(CaseWorkflow.screen, step(Screen(accepted=True)))
            first, second = [await accept_proposal(handle) for _ in range(2)]
            await handle.execute_update(CaseWorkflow.record_agreement, step(RecordAgreement(agreed=True)))
            scores = indicators(full_scores(current_version_for(Level.GOLD, T0)))
            assessment = SubmitAssessment(expert_id=first, indicators=scores, report="Visited for two days.")
            drafted: CaseView = await handle.execute_update(
                CaseWorkflow.submit_assessment, step(assessment, actor=f"expert:{first}")
            )
            assert drafted.state == "auditing" and drafted.signed_by == [first]
            outsider = office.expert(country="FR", name="Odile Outsider")
            before = event_count(office.app, drafted.case_id)
            with pytest.raises(WorkflowUpdateFailedError) as refused:
                await handle.execute_update(
                    CaseWorkflow.sign_assessment, step(SignAssessment(expert_id=outsider), actor=f"expert:{outsider}")
                )
            assert refused.value.cause.type == "ImpartialityViolation"
            assert event_count(office.app, drafted.case_id) == before
            signed: CaseView = await handle.execute_update(
                CaseWorkflow.sign_assessment, step(SignAssessment(expert_id=second), actor=f"expert:{second}")
            )
            assert signed.state == "deciding" and signed.signed_by == [first, second]
            await handle.terminate("test over")

    run(scenario())
