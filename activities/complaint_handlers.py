"""The complaints' handlers (HANDLERS in activities/handlers.py takes in this module's table).

Each step that calls for a message queues it in the same save (activities/outbox.py): the secretariat
hears of a new complaint, of a reminder and of an escalation; the complainant of the acknowledgement and
of the outcome.
"""

from __future__ import annotations

from uuid import UUID

from clusterlabel.activities import accounts, outbox
from clusterlabel.activities.application import CertificationApp
from clusterlabel.domain import complaint_commands as commands
from clusterlabel.domain import complaint_notices
from clusterlabel.domain.account import Role
from clusterlabel.domain.base import NotFound, RecordedAggregate
from clusterlabel.domain.command_base import Envelope
from clusterlabel.domain.complaint import NOT_INVOLVED, Complaint, Involvement


def lodge_complaint(
    app: CertificationApp, complaint_id: UUID, command: commands.LodgeComplaint, env: Envelope
) -> Complaint:
    """A new complaint, and the secretariat told of it, in one save; its id derives from the key."""

    def build() -> list[RecordedAggregate]:
        said = (command.about, command.cluster_id, command.label_id, command.text)
        complaint = Complaint.lodge(*said, env.instant(), app.policy, env.actor, env.key)
        return [complaint, *outbox.queue(complaint_notices.complaint_lodged(complaint), env)]

    created = app.created(complaint_id, build)
    assert isinstance(created, Complaint)
    return created


def acknowledge_complaint(
    app: CertificationApp, complaint_id: UUID, command: commands.AcknowledgeComplaint, env: Envelope
) -> Complaint:
    def act(complaint: Complaint) -> list[RecordedAggregate]:
        complaint.acknowledge(env.instant(), app.policy, env.actor, env.key)
        return outbox.queue(complaint_notices.complaint_acknowledged(complaint), env)

    return app.change(complaint_id, Complaint, env, act)


def start_investigation(
    app: CertificationApp, complaint_id: UUID, command: commands.StartInvestigation, env: Envelope
) -> Complaint:
    handler_ids = accounts.decider(app, env.actor, Role.OFFICER, "investigate a complaint")

    def act(complaint: Complaint) -> None:
        complaint.start_investigation(env, _involvement(app, complaint), handler_ids)

    return app.change(complaint_id, Complaint, env, act)


def close_complaint(
    app: CertificationApp, complaint_id: UUID, command: commands.CloseComplaint, env: Envelope
) -> Complaint:
    """Record the outcome, and tell the complainant in the same save."""
    handler_ids = accounts.decider(app, env.actor, Role.OFFICER, "decide on a complaint")

    def act(complaint: Complaint) -> list[RecordedAggregate]:
        complaint.close(command.outcome, command.finding, env, _involvement(app, complaint), handler_ids)
        return outbox.queue(complaint_notices.complaint_outcome(complaint), env)

    return app.change(complaint_id, Complaint, env, act)


def check_may_decide(app: CertificationApp, complaint: Complaint, actor: str) -> None:
    """Refuse, as closing would, an actor who may not decide on the complaint: for a step taken before the
    closing (the label's suspension that a `suspend` outcome takes first), so that it records nothing."""
    handler_ids = accounts.decider(app, actor, Role.OFFICER, "decide on a complaint")
    _involvement(app, complaint).check_not_involved(actor, handler_ids, "decide on the complaint")


def remind_complaint(
    app: CertificationApp, complaint_id: UUID, command: commands.RemindComplaint, env: Envelope
) -> Complaint:
    return outbox.remind(app, app.load(complaint_id, Complaint), complaint_notices.complaint_reminder, command, env)


def escalate_complaint(
    app: CertificationApp, complaint_id: UUID, command: commands.EscalateComplaint, env: Envelope
) -> Complaint:
    def act(complaint: Complaint) -> list[RecordedAggregate]:
        complaint.escalate(command.reason, *env.when())
        return outbox.queue(complaint_notices.complaint_escalation(complaint, command.reason), env)

    return app.change(complaint_id, Complaint, env, act)


def _involvement(app: CertificationApp, complaint: Complaint) -> Involvement:
    """Who took part in the certification complained about: the experts (released ones too) and deciders of
    the label's case; of a cluster's, those of every case of it that was assessed or is open (nobody here
    took part in an imported label's)."""
    if complaint.label_id is not None:
        case_ids = [app.get_label(complaint.label_id).case_id]
    else:
        case_ids = _cluster_case_ids(app, complaint.cluster_id)
    cases = [app.get_case(case_id) for case_id in case_ids if case_id is not None]
    if not cases:
        return NOT_INVOLVED
    deciders = {name for case in cases for name in (case.first_decided_by, (case.decision or {}).get("decided_by"))}
    return Involvement(frozenset().union(*(case.evaluators for case in cases)), frozenset(n for n in deciders if n))


def _cluster_case_ids(app: CertificationApp, cluster_id: UUID) -> list[UUID | None]:
    """A cluster's open cases and its rounds (every case assessed): whoever took part in one stays involved
    while the complaint is open, however its cases and labels end meanwhile. None for a cluster this engine
    never certified (no record of it: nobody here took part)."""
    try:
        cluster = app.get_cluster(cluster_id)
    except NotFound:
        return []
    return [*cluster.open_cases, *(held["case_id"] for held in cluster.rounds)]
