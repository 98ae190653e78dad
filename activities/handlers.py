"""Who handles each command: one function per command type, in one table (HANDLERS). The steps on cases
are here, those on labels in activities/label_handlers.py, the registrations, which no workflow
orchestrates, in activities/registrations.py, accounts in activities/accounts.py, the outbox's in
activities/outbox.py.

A handler loads the aggregate the command addresses, calls the domain, saves what changed and returns
the aggregate as saved, so the caller builds its answer without loading it again. The envelope's key
makes every handler idempotent (see CertificationApp.change and .create): Temporal retries activities,
clients retry requests.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from clusterlabel.activities import accounts, complaint_handlers, label_handlers, outbox, registrations, webhooks
from clusterlabel.activities.application import CertificationApp
from clusterlabel.domain import commands, complaint_commands, notices, record_commands, webhook_commands
from clusterlabel.domain.account import Role
from clusterlabel.domain.base import NotFound, RecordedAggregate, StepNotAllowed
from clusterlabel.domain.case_lifecycle import CaseKind, CaseState
from clusterlabel.domain.catalogue import load_catalogue
from clusterlabel.domain.certification_case import CertificationCase
from clusterlabel.domain.command import Command, Envelope
from clusterlabel.domain.digest import SendDigest
from clusterlabel.domain.label import Label

Handler = Callable[[CertificationApp, UUID, Any, Envelope], RecordedAggregate]


def handle(app: CertificationApp, subject_id: UUID, command: Command, envelope: Envelope) -> RecordedAggregate:
    """Run one command through its handler and return the aggregate it addressed, as saved.
    An envelope without an instant is stamped with the application's clock."""
    if envelope.at is None:
        envelope = envelope.stamped(app.clock())
    return handler_of(command)(app, subject_id, command, envelope)


def handler_of(command: Command) -> Handler:
    """The handler of the command's type; an HTTP body that extends a command is handled as that command."""
    for kind in type(command).__mro__:
        if kind in HANDLERS:
            return HANDLERS[kind]
    raise TypeError(f"no handler for {type(command).__name__}")


# ---- cases ---------------------------------------------------------------------------------


def submit_application(
    app: CertificationApp, cluster_id: UUID, command: commands.SubmitApplication, env: Envelope
) -> CertificationCase:
    """A new initial case for a cluster; refused for an ineligible cluster with every unmet criterion,
    unless it asks for benchmarking only (the report, no label)."""
    kind = CaseKind.BENCHMARKING if command.benchmarking_only else CaseKind.INITIAL

    def build() -> list[RecordedAggregate]:
        cluster = app.get_cluster(cluster_id)
        app.check_no_label_in_force(cluster, command.level)
        case = app.new_case(cluster, command.level, kind, None, command.improvement_areas, env)
        return [case, cluster]

    case = app.created(CertificationCase.create_id(env.key), build)
    assert isinstance(case, CertificationCase)
    return case


def screen(app: CertificationApp, case_id: UUID, command: commands.Screen, env: Envelope) -> CertificationCase:
    def act(case: CertificationCase) -> None:
        case.screen(command.accepted, command.reason, env.instant(), app.policy, *env.who())

    return app.change(case_id, CertificationCase, env, act)


def propose_expert(
    app: CertificationApp, case_id: UUID, command: commands.ProposeExpert, env: Envelope
) -> CertificationCase:
    """Propose the expert, and queue the offer to them in the same save."""
    expert = app.get_expert(command.expert_id)

    def act(case: CertificationCase) -> list[RecordedAggregate]:
        case.propose_expert(expert, env.instant(), app.policy, *env.who())
        return outbox.queue(notices.offer(case, command.expert_id, case.deadlines["response"]), env)

    return app.change(case_id, CertificationCase, env, act)


def answer_proposal(
    app: CertificationApp, case_id: UUID, command: commands.AnswerProposal, env: Envelope
) -> CertificationCase:
    def act(case: CertificationCase) -> None:
        if command.accept:
            _check_certified(app, command.expert_id, env, "accept an assignment")
            case.accept_assignment(command.expert_id, *env.when())
        else:
            case.decline_assignment(command.expert_id, command.reason, *env.when())

    return app.change(case_id, CertificationCase, env, act)


def time_out_proposal(
    app: CertificationApp, case_id: UUID, command: commands.TimeOutProposal, env: Envelope
) -> CertificationCase:
    return app.change(
        case_id, CertificationCase, env, lambda case: case.time_out_proposal(command.expert_id, *env.when())
    )


def escalate(app: CertificationApp, case_id: UUID, command: commands.Escalate, env: Envelope) -> CertificationCase:
    """Flag the case for the secretariat's attention, and tell them why in the same save."""

    def act(case: CertificationCase) -> list[RecordedAggregate]:
        case.escalate(command.reason, *env.when())
        return outbox.queue(notices.escalation(case, command.reason), env)

    return app.change(case_id, CertificationCase, env, act)


def remind_deadline(
    app: CertificationApp, case_id: UUID, command: commands.RemindDeadline, env: Envelope
) -> CertificationCase:
    """Remind the secretariat (and, for the audit, the experts) of a deadline coming up."""
    case = app.get_case(case_id)
    outbox.tell(app, notices.deadline_reminders(case, command.step, command.offset, command.due), env)
    return case


def record_agreement(
    app: CertificationApp, case_id: UUID, command: commands.RecordAgreement, env: Envelope
) -> CertificationCase:
    return app.change(
        case_id,
        CertificationCase,
        env,
        lambda case: case.record_agreement(command.agreed, env.instant(), app.policy, *env.who()),
    )


def schedule_audit(
    app: CertificationApp, case_id: UUID, command: commands.ScheduleAudit, env: Envelope
) -> CertificationCase:
    """Set (or move) the audit's date, and invite the team and the cluster in the same save."""

    def act(case: CertificationCase) -> list[RecordedAggregate]:
        case.schedule_audit(command.audit_date, *env.who())
        cluster_name = app.get_cluster(case.cluster_id).name
        return outbox.queue(notices.audit_invitations(case, cluster_name), env)

    return app.change(case_id, CertificationCase, env, act)


def submit_assessment(
    app: CertificationApp, case_id: UUID, command: commands.SubmitAssessment, env: Envelope
) -> CertificationCase:
    def act(case: CertificationCase) -> None:
        _check_certified(app, command.expert_id, env, "submit an assessment")
        catalogue = load_catalogue(case.catalogue_version)
        case.submit_assessment(
            command.expert_id, command.indicators, command.report, catalogue, app.policy, *env.when()
        )

    return app.change(case_id, CertificationCase, env, act)


def sign_assessment(
    app: CertificationApp, case_id: UUID, command: commands.SignAssessment, env: Envelope
) -> CertificationCase:
    def act(case: CertificationCase) -> None:
        _check_certified(app, command.expert_id, env, "sign an assessment")
        case.sign_assessment(command.expert_id, command.version, app.policy, *env.when())

    return app.change(case_id, CertificationCase, env, act)


def record_decision(
    app: CertificationApp, case_id: UUID, command: commands.RecordDecision, env: Envelope
) -> CertificationCase:
    """The eligibility criteria are checked again here, on the cluster's profile as it stands now."""
    expert_ids = accounts.decider(app, env.actor, Role.DECIDER, "decide on a case")

    def act(case: CertificationCase) -> None:
        unmet = app.get_cluster(case.cluster_id).unmet_criteria(app.policy)  # a waiver stands in for one
        decision = (command.outcome, command.level, command.rationale, env.actor)
        case.record_decision(
            *decision, env.instant(), app.policy, *env.who(), decider_expert_ids=expert_ids, unmet_criteria=unmet
        )

    return app.change(case_id, CertificationCase, env, act)


def lodge_appeal(
    app: CertificationApp, case_id: UUID, command: commands.LodgeAppeal, env: Envelope
) -> CertificationCase:
    return app.change(case_id, CertificationCase, env, lambda case: case.lodge_appeal(command.grounds, *env.when()))


def decide_appeal(
    app: CertificationApp, case_id: UUID, command: commands.DecideAppeal, env: Envelope
) -> CertificationCase:
    expert_ids = accounts.decider(app, env.actor, Role.APPEALS, "decide an appeal")

    def act(case: CertificationCase) -> None:
        appeal = (command.upheld, command.rationale, env.actor)
        case.decide_appeal(*appeal, env.instant(), app.policy, *env.who(), decider_expert_ids=expert_ids)

    return app.change(case_id, CertificationCase, env, act)


def release_expert(
    app: CertificationApp, case_id: UUID, command: commands.ReleaseExpert, env: Envelope
) -> CertificationCase:
    """Take the expert off the case; an audit it had scheduled is cancelled for everyone it invited, in the
    same save (the next team sets a new date, an update of the same calendar event)."""

    def act(case: CertificationCase) -> list[RecordedAggregate]:
        cancelled = []
        if case.audit_ahead:  # worded before the release, which clears the date and changes the team
            cluster_name = app.get_cluster(case.cluster_id).name
            cancelled = notices.audit_cancellations(case, cluster_name, because=notices.TEAM_CHANGED)
        case.release_expert(command.expert_id, command.reason, *env.when())
        return outbox.queue(cancelled, env)

    return app.change(case_id, CertificationCase, env, act)


def withdraw_case(
    app: CertificationApp, case_id: UUID, command: commands.WithdrawCase, env: Envelope
) -> CertificationCase:
    """Withdraw the case; an audit still ahead is cancelled in its attendees' calendars in the same save."""

    def act(case: CertificationCase) -> list[RecordedAggregate]:
        case.withdraw(command.reason, *env.when())
        if not case.audit_ahead:
            return []
        cluster_name = app.get_cluster(case.cluster_id).name
        return outbox.queue(notices.audit_cancellations(case, cluster_name), env)

    return app.change(case_id, CertificationCase, env, act)


def issue_label(app: CertificationApp, case_id: UUID, command: commands.IssueLabel, env: Envelope) -> CertificationCase:
    """The awarded case's label, and the message that tells the cluster, in one save; a renewal's label
    supersedes the one it renews (unless that one was withdrawn meanwhile: see Label.may_be_superseded)."""
    case = app.get_case(case_id)
    if case.label_id is not None:
        return case
    cluster = app.get_cluster(case.cluster_id)
    renewed = app.get_label(case.previous_label_id) if case.previous_label_id else None
    previous = renewed if renewed is not None and renewed.may_be_superseded else None
    label = Label.issue(
        case=case,
        cluster=cluster,
        verification_code=app.new_verification_code(),
        policy=app.policy,
        supersedes=previous,
        actor=env.actor,
        command_key=env.key,
    )
    case.record_label(label.id, *env.who())
    cluster.grant_label(label.id, label.level, previous.id if previous else None, *env.who())
    changed: list[RecordedAggregate] = [label, cluster, *outbox.queue(notices.label_issued(label), env)]
    changed += webhooks.announce(app, label, env)
    if previous is not None:
        previous.supersede(label.id, case.id, env.instant(), *env.who())
        changed += [previous, *webhooks.announce(app, previous, env)]
    app.save_once(env.key, case, *changed)
    return case


def close_case(app: CertificationApp, case_id: UUID, command: commands.CloseCase, env: Envelope) -> CertificationCase:
    """The case has concluded: the cluster may open another at its level, a failed renewal ends."""
    case = app.get_case(case_id)
    cluster = app.get_cluster(case.cluster_id)
    if cluster.has_applied(env.key):
        return case
    if not case.is_concluded(env.instant()):
        raise StepNotAllowed(f"case {case_id} is still {case.state.value} and cannot be closed")
    changed: list[RecordedAggregate] = []
    cluster.close_case(case.id, case.state.value, case.assessed_at, case.expert_ids, *env.who())
    if case.previous_label_id is not None and case.state is not CaseState.AWARDED:
        previous = app.get_label(case.previous_label_id)
        if previous.renewal_case_id == case.id:
            previous.abandon_renewal(case.id, env.instant(), *env.who())
            changed.append(previous)
    app.save_once(env.key, cluster, *changed)
    return case


def _check_certified(app: CertificationApp, expert_id: UUID, env: Envelope, step: str) -> None:
    """A revoked or lapsed expert takes no more steps; an id that names no expert is left to the case's
    own rule (only the proposed expert answers, only the team assesses), which says so."""
    try:
        expert = app.get_expert(expert_id)
    except NotFound:
        return
    expert.check_certified(env.instant(), step)


HANDLERS: dict[type[Command], Handler] = {
    commands.SubmitApplication: submit_application,
    commands.Screen: screen,
    commands.ProposeExpert: propose_expert,
    commands.AnswerProposal: answer_proposal,
    commands.TimeOutProposal: time_out_proposal,
    commands.Escalate: escalate,
    commands.RemindDeadline: remind_deadline,
    commands.RecordAgreement: record_agreement,
    commands.ScheduleAudit: schedule_audit,
    commands.SubmitAssessment: submit_assessment,
    commands.SignAssessment: sign_assessment,
    commands.RecordDecision: record_decision,
    commands.LodgeAppeal: lodge_appeal,
    commands.DecideAppeal: decide_appeal,
    commands.WithdrawCase: withdraw_case,
    commands.ReleaseExpert: release_expert,
    commands.IssueLabel: issue_label,
    commands.CloseCase: close_case,
    commands.RemindExpiry: label_handlers.remind_expiry,
    commands.ExpireLabel: label_handlers.expire_label,
    commands.CloseRenewalWindow: label_handlers.close_renewal_window,
    commands.SuspendLabel: label_handlers.suspend_label,
    commands.RestoreLabel: label_handlers.restore_label,
    commands.WithdrawLabel: label_handlers.withdraw_label,
    commands.StartRenewal: label_handlers.start_renewal,
    record_commands.RegisterCluster: registrations.register_cluster,
    record_commands.UpdateClusterProfile: registrations.update_cluster_profile,
    record_commands.WaiveEligibilityCriterion: registrations.waive_eligibility_criterion,
    record_commands.RegisterExpert: registrations.register_expert,
    record_commands.RenewExpertCertification: registrations.renew_expert_certification,
    record_commands.RevokeExpertCertification: registrations.revoke_expert_certification,
    record_commands.DeclareAffiliation: registrations.declare_affiliation,
    record_commands.OpenAccount: accounts.open_account,
    record_commands.GrantRole: accounts.grant_role,
    record_commands.RevokeRole: accounts.revoke_role,
    record_commands.DeactivateAccount: accounts.deactivate_account,
    record_commands.EraseAccount: accounts.erase_account,
    record_commands.RecordSent: outbox.record_sent,
    record_commands.RecordDeliveryFailure: outbox.record_delivery_failure,
    record_commands.RetryDelivery: outbox.retry_delivery,
    SendDigest: outbox.send_digest,
    webhook_commands.RegisterWebhook: webhooks.register_webhook,
    webhook_commands.EnableWebhook: webhooks.enable_webhook,
    webhook_commands.DeleteWebhook: webhooks.delete_webhook,
    webhook_commands.RecordWebhookDelivered: webhooks.record_webhook_delivered,
    webhook_commands.RecordWebhookFailure: webhooks.record_webhook_failure,
    webhook_commands.DropWebhookDelivery: webhooks.drop_webhook_delivery,
    complaint_commands.LodgeComplaint: complaint_handlers.lodge_complaint,
    complaint_commands.AcknowledgeComplaint: complaint_handlers.acknowledge_complaint,
    complaint_commands.StartInvestigation: complaint_handlers.start_investigation,
    complaint_commands.CloseComplaint: complaint_handlers.close_complaint,
    complaint_commands.RemindComplaint: complaint_handlers.remind_complaint,
    complaint_commands.EscalateComplaint: complaint_handlers.escalate_complaint,
}
