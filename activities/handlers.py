"""Who handles each command: one function per command type, in one table (HANDLERS). The handlers live
beside the records they change: the steps on cases in activities/case_handlers.py, on labels in
activities/label_handlers.py, on complaints in activities/complaint_handlers.py; the registrations,
which no workflow orchestrates, in activities/registrations.py, accounts in activities/accounts.py,
the outbox's messages in activities/outbox.py, partners' webhooks in activities/webhooks.py, evidence
documents in activities/evidence.py.

A handler loads the aggregate the command addresses, calls the domain, saves what changed and returns
the aggregate as saved, so the caller builds its answer without loading it again. The envelope's key
makes every handler idempotent (see CertificationApp.change and .create): Temporal retries activities,
clients retry requests.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from clusterlabel.activities import (
    accounts,
    case_conclusion,
    case_handlers,
    complaint_handlers,
    evidence,
    fee_handlers,
    label_handlers,
    label_import,
    outbox,
    registrations,
    webhooks,
)
from clusterlabel.activities.application import CertificationApp
from clusterlabel.domain import (
    commands,
    complaint_commands,
    evidence_commands,
    fee_commands,
    record_commands,
    webhook_commands,
)
from clusterlabel.domain.base import RecordedAggregate
from clusterlabel.domain.command_base import Command, Envelope
from clusterlabel.domain.digest import SendDigest
from clusterlabel.domain.label_import import ImportLabel

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


HANDLERS: dict[type[Command], Handler] = {
    commands.SubmitApplication: case_handlers.submit_application,
    commands.Screen: case_handlers.screen,
    commands.ProposeExpert: case_handlers.propose_expert,
    commands.AnswerProposal: case_handlers.answer_proposal,
    commands.TimeOutProposal: case_handlers.time_out_proposal,
    commands.Escalate: case_handlers.escalate,
    commands.RemindDeadline: case_handlers.remind_deadline,
    commands.RecordAgreement: case_handlers.record_agreement,
    commands.ScheduleAudit: case_handlers.schedule_audit,
    commands.RecordAuditHeld: case_handlers.record_audit_held,
    commands.SubmitAssessment: case_handlers.submit_assessment,
    commands.SignAssessment: case_handlers.sign_assessment,
    commands.RecordDecision: case_handlers.record_decision,
    commands.LodgeAppeal: case_handlers.lodge_appeal,
    commands.DecideAppeal: case_handlers.decide_appeal,
    commands.WithdrawCase: case_handlers.withdraw_case,
    commands.ReleaseExpert: case_handlers.release_expert,
    commands.IssueLabel: case_conclusion.issue_label,
    commands.OpenAppealWindow: case_conclusion.open_appeal_window,
    commands.CloseCase: case_conclusion.close_case,
    commands.FreezeReport: case_conclusion.freeze_report,
    commands.RemindExpiry: label_handlers.remind_expiry,
    commands.ExpireLabel: label_handlers.expire_label,
    commands.CloseRenewalWindow: label_handlers.close_renewal_window,
    commands.SuspendLabel: label_handlers.suspend_label,
    commands.RestoreLabel: label_handlers.restore_label,
    commands.WithdrawLabel: label_handlers.withdraw_label,
    commands.LodgeLabelAppeal: label_handlers.lodge_label_appeal,
    commands.DecideLabelAppeal: label_handlers.decide_label_appeal,
    commands.StartRenewal: label_handlers.start_renewal,
    ImportLabel: label_import.import_label,
    record_commands.RegisterCluster: registrations.register_cluster,
    record_commands.UpdateClusterProfile: registrations.update_cluster_profile,
    record_commands.WaiveEligibilityCriterion: registrations.waive_eligibility_criterion,
    record_commands.CloseEligibilityReview: registrations.close_eligibility_review,
    record_commands.RegisterExpert: registrations.register_expert,
    record_commands.RenewExpertCertification: registrations.renew_expert_certification,
    record_commands.RecordQualification: registrations.record_qualification,
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
    evidence_commands.AttachEvidence: evidence.attach_evidence,
    fee_commands.RecordPayment: fee_handlers.record_payment,
}
