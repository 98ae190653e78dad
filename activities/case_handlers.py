"""The handlers of the steps on cases (activities/handlers.py holds the table that maps each command to its
handler). Each loads the case, calls the domain, saves what changed in one go — with the messages it
queues and the records it touches (the cluster, the label, the expert) — and returns the case as saved.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar
from uuid import UUID

from clusterlabel.activities import accounts, fee_handlers, outbox
from clusterlabel.activities.application import CertificationApp, silver_criteria
from clusterlabel.activities.case_conclusion import Succession
from clusterlabel.domain import commands, notices, silver
from clusterlabel.domain.account import Role
from clusterlabel.domain.base import NotFound, RecordedAggregate
from clusterlabel.domain.baseline import current_baseline_for
from clusterlabel.domain.case_lifecycle import CaseKind, CaseState
from clusterlabel.domain.catalogue import Catalogue
from clusterlabel.domain.catalogue_shelf import load_catalogue
from clusterlabel.domain.certification_case import CertificationCase
from clusterlabel.domain.command_base import Command, Envelope
from clusterlabel.domain.expert import without_names
from clusterlabel.domain.label_lifecycle import check_not_suspended_by_award

C = TypeVar("C", bound=Command)
# A step on the loaded case (it may return the other records it changes), and the handler that takes it.
CaseStep = Callable[[CertificationApp, CertificationCase, C, Envelope], list[RecordedAggregate] | None]
CaseHandler = Callable[[CertificationApp, UUID, C, Envelope], CertificationCase]


def _case_step(step: CaseStep[C]) -> CaseHandler[C]:
    """The handler of a command whose whole work is a step on the case: the case is loaded, the step taken
    once per key and saved with the records it returns (app.change), and the case returned as saved."""

    def handler(app: CertificationApp, case_id: UUID, command: C, env: Envelope) -> CertificationCase:
        return app.change(case_id, CertificationCase, env, lambda case: step(app, case, command, env))

    # Not functools.wraps: its __wrapped__ would make the handler's signature read as the step's.
    handler.__name__, handler.__qualname__, handler.__doc__ = step.__name__, step.__qualname__, step.__doc__
    return handler


def submit_application(
    app: CertificationApp, cluster_id: UUID, command: commands.SubmitApplication, env: Envelope
) -> CertificationCase:
    """A new initial case for a cluster; refused for an ineligible cluster with every unmet criterion,
    unless it asks for benchmarking only (the report, no label)."""
    kind = CaseKind.BENCHMARKING if command.benchmarking_only else CaseKind.INITIAL

    def build() -> list[RecordedAggregate]:
        cluster = app.get_cluster(cluster_id)
        app.check_no_label_in_force(cluster, command.level, env.instant())
        case = app.new_case(cluster, command.level, kind, None, command.improvement_areas, env)
        return [case, cluster]

    case = app.created(CertificationCase.create_id(env.key), build)
    assert isinstance(case, CertificationCase)
    return case


@_case_step
def screen(
    app: CertificationApp, case: CertificationCase, command: commands.Screen, env: Envelope
) -> list[RecordedAggregate]:
    """A rejection is told to the cluster, with its reason and the appeal window, in the same save."""
    case.screen(command.accepted, command.reason, env.instant(), app.policy, *env.who())
    return [] if command.accepted else outbox.queue(notices.case_refused(case, command.reason), env)


def propose_expert(
    app: CertificationApp, case_id: UUID, command: commands.ProposeExpert, env: Envelope
) -> CertificationCase:
    """Propose the expert, and queue the offer to them in the same save."""
    expert = app.get_expert(command.expert_id)

    def act(case: CertificationCase) -> list[RecordedAggregate]:
        case.propose_expert(expert, env.instant(), app.policy, *env.who(), renew_by=_renew_by(app, case))
        return outbox.queue(notices.offer(case, command.expert_id, case.deadlines["response"]), env)

    return app.change(case_id, CertificationCase, env, act)


@_case_step
def answer_proposal(
    app: CertificationApp, case: CertificationCase, command: commands.AnswerProposal, env: Envelope
) -> list[RecordedAggregate]:
    if not command.accept:
        case.decline_assignment(command.expert_id, command.reason, *env.when())
        return []
    _check_qualified(app, case, command.expert_id, env, "accept an assignment")
    expert = app.get_expert(command.expert_id)
    cooling_off = app.policy.affiliation_cooling_off
    expert.check_no_conflict(case.cluster_id, env.instant(), cooling_off)
    case.accept_assignment(command.expert_id, env.instant(), app.policy, *env.who(), renew_by=_renew_by(app, case))
    # The last seat filled: the cluster is asked to agree to its experts, in the same save.
    told = outbox.queue(notices.experts_to_agree(case), env) if "agreement" in case.deadlines else []
    if not command.no_conflict_declared:
        return told  # accepted as before the declaration was asked for: the expert's record shows none
    expert.declare_no_conflict(case.id, case.cluster_id, env.instant(), cooling_off, *env.who())
    return [expert, *told]


@_case_step
def time_out_proposal(
    app: CertificationApp, case: CertificationCase, command: commands.TimeOutProposal, env: Envelope
) -> None:
    case.time_out_proposal(command.expert_id, *env.when())


def escalate(app: CertificationApp, case_id: UUID, command: commands.Escalate, env: Envelope) -> CertificationCase:
    """Flag the case for the secretariat's attention (its page shows every time), and tell them why in the
    same save: once only while that reason stands unsettled (a case waiting for an expert is woken by
    every expert registered, and each wake would mail the secretariat the same news)."""

    reason = without_names(command.reason, (app.get_expert(expert_id) for expert_id in app.expert_ids()))

    def act(case: CertificationCase) -> list[RecordedAggregate]:
        told_already = case.awaits_help_for(reason)
        case.escalate(reason, *env.when())
        return [] if told_already else outbox.queue(notices.escalation(case, reason), env)

    return app.change(case_id, CertificationCase, env, act)


def remind_deadline(
    app: CertificationApp, case_id: UUID, command: commands.RemindDeadline, env: Envelope
) -> CertificationCase:
    """Remind the secretariat (and whoever takes the step: the experts, the cluster) of a deadline coming up."""
    return outbox.remind(app, app.get_case(case_id), notices.deadline_reminders, command, env)


@_case_step
def record_agreement(
    app: CertificationApp, case: CertificationCase, command: commands.RecordAgreement, env: Envelope
) -> list[RecordedAggregate]:
    """An agreement issues the case's invoice, with the quote from the price list, and sends it to the
    cluster, in the same save."""
    invoice = fee_handlers.invoice_on_agreement(app, case, command.audit_mode, env) if command.agreed else None
    renew_by = _renew_by(app, case) if command.agreed else None
    case.record_agreement(
        command.agreed, env.instant(), app.policy, *env.who(), audit_mode=command.audit_mode, renew_by=renew_by
    )
    return [] if invoice is None else [invoice, *outbox.queue(notices.invoice_issued(invoice), env)]


def _renew_by(app: CertificationApp, case: CertificationCase) -> datetime | None:
    """By when a renewal's benchmarking is held: its label's `renewable_until`; None for another case."""
    if case.kind is not CaseKind.RENEWAL or case.previous_label_id is None:
        return None
    return app.get_label(case.previous_label_id).renewable_until


@_case_step
def schedule_audit(
    app: CertificationApp, case: CertificationCase, command: commands.ScheduleAudit, env: Envelope
) -> list[RecordedAggregate]:
    """Set (or move) the audit's date, and invite the team and the cluster in the same save."""
    fee_handlers.check_paid_before(app, case.id, "schedule the audit")
    experts = [app.get_expert(expert_id) for expert_id in case.expert_ids]
    visit = command.model_dump(include={"mode", "place", "duration"})
    rules = silver_rules(app, case, load_catalogue(case.catalogue_version))
    gap = (rules.bronze_benchmarked_at, app.policy) if rules and rules.bronze_benchmarked_at else None
    case.schedule_audit(command.audit_date, *env.who(), experts=experts, silver_gap=gap, **visit)
    cluster_name = app.get_cluster(case.cluster_id).name
    return outbox.queue(notices.audit_invitations(case, cluster_name), env)


@_case_step
def record_audit_held(
    app: CertificationApp, case: CertificationCase, command: commands.RecordAuditHeld, env: Envelope
) -> None:
    if command.expert_id is not None:  # an officer records it for the team: no expert's step
        _check_qualified(app, case, command.expert_id, env, "record the audit as held")
    experts = [app.get_expert(expert_id) for expert_id in case.expert_ids]
    case.record_audit_held(command.expert_id, command.held_on, env, renew_by=_renew_by(app, case), experts=experts)


@_case_step
def submit_assessment(
    app: CertificationApp, case: CertificationCase, command: commands.SubmitAssessment, env: Envelope
) -> None:
    _check_qualified(app, case, command.expert_id, env, "submit an assessment")
    fee_handlers.check_paid_before(app, case.id, "submit the assessment")
    catalogue = load_catalogue(case.catalogue_version)
    case.submit_assessment(
        command.expert_id,
        command.indicators,
        command.report,
        catalogue,
        app.policy,
        *env.when(),
        summaries=command.area_summaries,
        overall=command.model_dump(include={"strengths", "areas_for_improvement", "success_stories"}),
        validation=command.validation,
        silver_rules=silver_rules(app, case, catalogue),
        renew_by=_renew_by(app, case),
    )


@_case_step
def sign_assessment(
    app: CertificationApp, case: CertificationCase, command: commands.SignAssessment, env: Envelope
) -> None:
    _check_qualified(app, case, command.expert_id, env, "sign an assessment")
    case.sign_assessment(command.expert_id, command.version, app.policy, *env.when())


def record_decision(
    app: CertificationApp, case_id: UUID, command: commands.RecordDecision, env: Envelope
) -> CertificationCase:
    """The eligibility criteria are checked again here, on the cluster's profile as it stands now. A refusal
    is told to the cluster, with the rationale and the appeal window, in the same save, as is a benchmarking
    with no label (an award is told by the label's own message)."""
    expert_ids = accounts.decider(app, env.actor, Role.DECIDER, "decide on a case")

    def act(case: CertificationCase) -> list[RecordedAggregate]:
        unmet = app.get_cluster(case.cluster_id).unmet_criteria(app.policy)  # a waiver stands in for one
        decision = (command.outcome, command.level, command.rationale, app.policy, env)
        case.record_decision(*decision, decider_expert_ids=expert_ids, unmet_criteria=unmet)
        if case.state is CaseState.AWARDED:
            _check_suspension_stands(app, case)
        if case.state is CaseState.BENCHMARKED:
            return outbox.queue(notices.case_benchmarked(case, command.rationale), env)
        if case.state is not CaseState.REFUSED:
            return []
        return outbox.queue(notices.case_refused(case, command.rationale), env)

    return app.change(case_id, CertificationCase, env, act)


def _check_suspension_stands(app: CertificationApp, case: CertificationCase) -> None:
    """The labels the award's label would supersede (case_conclusion.Succession): none suspended."""
    try:
        succession = Succession.of(app, case, app.get_cluster(case.cluster_id))
    except NotFound:  # a label the store lacks: issuing the award's label says so, and asks for help
        return
    for label in succession.replaced:
        check_not_suspended_by_award(label.state, label.label_code)


@_case_step
def lodge_appeal(
    app: CertificationApp, case: CertificationCase, command: commands.LodgeAppeal, env: Envelope
) -> list[RecordedAggregate]:
    case.lodge_appeal(command.grounds, *env.when())
    return outbox.queue(notices.appeal_lodged(case), env)


def decide_appeal(
    app: CertificationApp, case_id: UUID, command: commands.DecideAppeal, env: Envelope
) -> CertificationCase:
    expert_ids = accounts.decider(app, env.actor, Role.APPEALS, "decide an appeal")

    def act(case: CertificationCase) -> list[RecordedAggregate]:
        case.decide_appeal(command.upheld, command.rationale, app.policy, env, expert_ids)
        return outbox.queue(notices.appeal_decided(case, command.upheld, command.rationale), env)

    return app.change(case_id, CertificationCase, env, act)


@_case_step
def release_expert(
    app: CertificationApp, case: CertificationCase, command: commands.ReleaseExpert, env: Envelope
) -> list[RecordedAggregate]:
    """Take the expert off the case; an audit it had scheduled is cancelled for everyone it invited, in the
    same save (the next team sets a new date, an update of the same calendar event)."""
    cancelled = []
    if case.audit_ahead:  # worded before the release, which clears the date and changes the team
        cluster_name = app.get_cluster(case.cluster_id).name
        cancelled = notices.audit_cancellations(case, cluster_name, because=notices.TEAM_CHANGED)
    case.release_expert(command.expert_id, command.reason, *env.when())
    return outbox.queue(cancelled, env)


@_case_step
def withdraw_case(
    app: CertificationApp, case: CertificationCase, command: commands.WithdrawCase, env: Envelope
) -> list[RecordedAggregate]:
    """Withdraw the case; an audit still ahead is cancelled in its attendees' calendars, and an unpaid invoice
    cancelled, in the same save."""
    case.withdraw(command.reason, *env.when())
    cancelled = fee_handlers.cancel_unpaid(app, case, command.reason, env)
    if not case.audit_ahead:
        return cancelled
    cluster_name = app.get_cluster(case.cluster_id).name
    return [*cancelled, *outbox.queue(notices.audit_cancellations(case, cluster_name), env)]


def _check_qualified(app: CertificationApp, case: CertificationCase, expert_id: UUID, env: Envelope, step: str) -> None:
    """An expert whose qualification at the case's level was revoked, has ended or was never held takes no
    step on it, whenever they take it; an id that names no expert is left to the case's own rule (only the
    proposed expert answers, only the team assesses), which says so."""
    try:
        expert = app.get_expert(expert_id)
    except NotFound:
        return
    expert.check_qualified(case.level, env.instant(), step)


def silver_rules(app: CertificationApp, case: CertificationCase, catalogue: Catalogue) -> silver.SilverRules | None:
    """What a Silver case is validated against: the baseline and the Gold criteria current on its application day
    (None for a case its level and catalogue validate nothing on; the assessment page shows them too)."""
    criteria = silver_criteria(case.level, case.submitted_at)
    if criteria is None or not silver.validates_on_site(case.level, catalogue):
        return None
    renewal = case.kind is CaseKind.RENEWAL
    bronze = None if renewal else app.get_cluster(case.cluster_id).last_bronze_benchmarking()
    return silver.SilverRules(current_baseline_for(case.submitted_at), criteria, bronze)
