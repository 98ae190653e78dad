"""The handlers of the steps on labels (activities/handlers.py holds the table that maps each command to
its handler, and the steps on cases). Each loads the label, calls the domain, saves what changed in one
go (with the messages it queues) and returns the label as saved."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from clusterlabel.activities import accounts, outbox, webhooks
from clusterlabel.activities.application import CertificationApp
from clusterlabel.activities.views import reminder_schedule
from clusterlabel.domain import commands, label_notices
from clusterlabel.domain.account import Role
from clusterlabel.domain.base import RecordedAggregate
from clusterlabel.domain.case_decision import DecidedApart
from clusterlabel.domain.case_lifecycle import CaseKind
from clusterlabel.domain.certification_case import CertificationCase
from clusterlabel.domain.command_base import Envelope
from clusterlabel.domain.label import Label
from clusterlabel.domain.label_lifecycle import LabelState, reminds_of_expiry
from clusterlabel.domain.reminders import stale_reminder


def remind_expiry(app: CertificationApp, label_id: UUID, command: commands.RemindExpiry, env: Envelope) -> Label:
    """Record the reminder on the label, and queue it to the cluster and the secretariat in the same save;
    one gone stale while it waited (a later one is due, or the label expired) is neither, and the view
    answered no longer lists it."""

    def act(label: Label) -> list[RecordedAggregate]:
        schedule = reminder_schedule(app.policy, label)
        if not reminds_of_expiry(label.state, label.renewal_case_id is not None) or stale_reminder(
            command.offset, schedule, label.valid_until, env.instant()
        ):
            return []
        label.send_expiry_reminder(command.offset, *env.when())
        return outbox.queue(label_notices.expiry_reminders(label, command.offset), env)

    return app.change(label_id, Label, env, act)


def expire_label(app: CertificationApp, label_id: UUID, command: commands.ExpireLabel, env: Envelope) -> Label:
    return _change_label(app, label_id, env, lambda label: label.expire(*env.when()))


def close_renewal_window(
    app: CertificationApp, label_id: UUID, command: commands.CloseRenewalWindow, env: Envelope
) -> Label:
    def act(label: Label) -> list[RecordedAggregate]:
        label.close_renewal_window(*env.when())
        return _release(app, label, env)

    return _change_label(app, label_id, env, act)


def suspend_label(app: CertificationApp, label_id: UUID, command: commands.SuspendLabel, env: Envelope) -> Label:
    def act(label: Label) -> list[RecordedAggregate]:
        label.suspend(command.reason, env.instant(), app.policy, *env.who(), apart=_apart(app, label, env, "suspend"))
        return _told_of_the_decision(app, label, env)

    return _change_label(app, label_id, env, act)


def restore_label(app: CertificationApp, label_id: UUID, command: commands.RestoreLabel, env: Envelope) -> Label:
    """The suspension is lifted, and the cluster (told it may not show the label) told so in the same save."""

    def act(label: Label) -> list[RecordedAggregate]:
        label.restore(*env.when(), rationale=command.rationale, apart=_apart(app, label, env, "restore"))
        return outbox.queue(label_notices.label_restored(label, command.rationale), env)

    return _change_label(app, label_id, env, act)


def withdraw_label(app: CertificationApp, label_id: UUID, command: commands.WithdrawLabel, env: Envelope) -> Label:
    def act(label: Label) -> list[RecordedAggregate]:
        label.withdraw(command.reason, *env.when(), apart=_apart(app, label, env, "withdraw"))
        return [*_release(app, label, env), *_told_of_the_decision(app, label, env)]

    return _change_label(app, label_id, env, act)


def _apart(app: CertificationApp, label: Label, env: Envelope, step: str) -> DecidedApart:
    """The four eyes of a decision on a label (suspend, restore, withdraw): whoever takes it was none of the
    label's auditors, as for the case's decision (ISO/IEC 17065 §7.6). An officer's account acting now."""
    expert_ids = accounts.decider(app, env.actor, Role.OFFICER, f"{step} a label")
    return DecidedApart(expert_ids, _auditors(app, label))


def _auditors(app: CertificationApp, label: Label) -> frozenset[UUID]:
    """The experts who audited the label's case (an imported label has none here)."""
    return frozenset(app.get_case(label.case_id).evaluators) if label.case_id is not None else frozenset()


def lodge_label_appeal(
    app: CertificationApp, label_id: UUID, command: commands.LodgeLabelAppeal, env: Envelope
) -> Label:
    def act(label: Label) -> list[RecordedAggregate]:
        label.lodge_appeal(command.grounds, env.instant(), app.policy, *env.who())
        return outbox.queue(label_notices.label_appeal_lodged(label), env)

    return app.change(label_id, Label, env, act)


def decide_label_appeal(
    app: CertificationApp, label_id: UUID, command: commands.DecideLabelAppeal, env: Envelope
) -> Label:
    """The appeals panel's decision; an upheld appeal against a withdrawal has the cluster hold the label again."""
    expert_ids = accounts.decider(app, env.actor, Role.APPEALS, "decide an appeal")

    def act(label: Label) -> list[RecordedAggregate]:
        withdrawn = label.state is LabelState.WITHDRAWN
        label.decide_appeal(
            command.upheld, command.rationale, env, decider_expert_ids=expert_ids, auditors=_auditors(app, label)
        )
        held = _held_again(app, label, env) if command.upheld and withdrawn else []
        # Worded after the label is held again: superseded, when a newer label took its place meanwhile.
        return [*held, *outbox.queue(label_notices.label_appeal_decided(label, command.upheld, command.rationale), env)]

    return _change_label(app, label_id, env, act)


def _change_label(app: CertificationApp, label_id: UUID, env: Envelope, act: Callable[[Label], Any]) -> Label:
    """A change of the label's state and the deliveries to partners' webhooks it calls for, in one save."""

    def told(label: Label) -> list[RecordedAggregate]:
        return [*(act(label) or []), *webhooks.announce(app, label, env)]

    return app.change(label_id, Label, env, told)


def start_renewal(app: CertificationApp, label_id: UUID, command: commands.StartRenewal, env: Envelope) -> Label:
    """A renewal case for the label, allowed until its renewal window closes; the label names it."""

    def build() -> list[RecordedAggregate]:
        label = app.get_label(label_id)
        cluster = app.get_cluster(label.cluster_id)
        case = app.new_case(cluster, label.level, CaseKind.RENEWAL, label, command.improvement_areas, env)
        label.start_renewal(case.id, *env.when())
        return [case, cluster, label]

    app.create(CertificationCase.create_id(env.key), build)
    return app.get_label(label_id)


def _held_again(app: CertificationApp, label: Label, env: Envelope) -> list[RecordedAggregate]:
    """A withdrawal reversed: the cluster holds the label again, unless a label took its place meanwhile, which
    then supersedes it: its renewal's (awarded while it stood withdrawn, a downgrade too, as the award would
    have superseded it standing), or a later round's at its level (a renewal, a new application)."""
    renewed_by = _renewals_label(app, label)
    if renewed_by is not None:
        label.supersede(renewed_by, label.renewal_case_id, env.instant(), *env.who())
        return []
    cluster = app.get_cluster(label.cluster_id)
    held = cluster.current_labels.get(label.level)
    if held is None:
        cluster.grant_label(label.id, label.level, None, *env.who())
        return [cluster]
    newer = app.get_label(held)
    label.supersede(newer.id, newer.case_id or label.case_id, env.instant(), *env.who(), renewal=False)
    return []


def _renewals_label(app: CertificationApp, label: Label) -> UUID | None:
    """The label its renewal case issued (the renewal stays open on a label withdrawn when its renewal's label
    is issued: Label.may_be_superseded), or None."""
    return app.get_case(label.renewal_case_id).label_id if label.renewal_case_id is not None else None


def _told_of_the_decision(app: CertificationApp, label: Label, env: Envelope) -> list[RecordedAggregate]:
    """The cluster hears of its label's suspension or withdrawal, with the date until which it may appeal."""
    appeal_due = label.appeal_due(app.policy)
    assert appeal_due is not None  # suspended or withdrawn
    return outbox.queue(label_notices.label_decision(label, appeal_due), env)


def _release(app: CertificationApp, label: Label, env: Envelope) -> list[RecordedAggregate]:
    cluster = app.get_cluster(label.cluster_id)
    cluster.release_label(label.id, *env.who())
    return [cluster]
