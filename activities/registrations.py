"""The registrations' handlers: clusters and experts. No workflow orchestrates them; the HTTP routes and
scripts call `handle` (activities/handlers.py, whose HANDLERS lists them).

Like every handler each is idempotent by its envelope's key, and returns the aggregate it addressed as
saved. A registration addresses the record it creates, whose id derives from the key
(Cluster.create_id, Expert.create_id): a retry finds the record the first attempt created.
"""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

from clusterlabel.activities import outbox
from clusterlabel.activities.application import A, CertificationApp
from clusterlabel.domain import command_base, notices, record_commands
from clusterlabel.domain.account import Account
from clusterlabel.domain.base import RecordedAggregate
from clusterlabel.domain.cluster import Cluster
from clusterlabel.domain.command_base import Envelope
from clusterlabel.domain.expert import Expert, check_not_registered
from clusterlabel.domain.webhook import Webhook
from clusterlabel.domain.webhook_commands import RegisterWebhook

# What each creating command creates.
CREATES: dict[type[command_base.Command], type[RecordedAggregate]] = {
    record_commands.RegisterCluster: Cluster,
    record_commands.RegisterExpert: Expert,
    record_commands.OpenAccount: Account,
    RegisterWebhook: Webhook,
}


def new_id(command: command_base.Command, env: Envelope) -> UUID:
    """The id of the record a creating command creates, and so addresses: derived from the key."""
    return CREATES[type(command)].create_id(env.key)


def register_cluster(
    app: CertificationApp, cluster_id: UUID, command: record_commands.RegisterCluster, env: Envelope
) -> Cluster:
    return _created(app, cluster_id, Cluster, lambda: [Cluster(command.profile.model_dump(mode="json"), *env.who())])


def update_cluster_profile(
    app: CertificationApp, cluster_id: UUID, command: record_commands.UpdateClusterProfile, env: Envelope
) -> Cluster:
    """The new profile; a review it opens is queued to the secretariat in the same save."""

    def act(cluster: Cluster) -> list[RecordedAggregate]:
        already_open = cluster.review is not None
        cluster.update_profile(command.profile, app.policy, *env.when())
        if cluster.review is None or already_open:
            return []
        return outbox.queue(notices.eligibility_review(cluster), env)

    return app.change(cluster_id, Cluster, env, act)


def close_eligibility_review(
    app: CertificationApp, cluster_id: UUID, command: record_commands.CloseEligibilityReview, env: Envelope
) -> Cluster:
    return app.change(
        cluster_id, Cluster, env, lambda cluster: cluster.close_review(command.outcome, command.reason, *env.when())
    )


def waive_eligibility_criterion(
    app: CertificationApp, cluster_id: UUID, command: record_commands.WaiveEligibilityCriterion, env: Envelope
) -> Cluster:
    return app.change(
        cluster_id, Cluster, env, lambda cluster: cluster.waive(command.criterion, command.reason, *env.when())
    )


def register_expert(
    app: CertificationApp, expert_id: UUID, command: record_commands.RegisterExpert, env: Envelope
) -> Expert:
    """A new expert on the roster, unless the roster holds the same person already.

    Every registration changes the roster, so two racing ones cannot both pass the check: the later
    save fails on the roster's version (ConcurrencyConflict), and its retry is refused as a duplicate."""

    def build() -> list[RecordedAggregate]:
        roster = app.roster()
        check_not_registered(command.profile, (app.get_expert(known) for known in roster.expert_ids))
        expert = Expert(command.profile.model_dump(mode="json"), *env.who())
        roster.enlist(expert.id, *env.who())
        return [expert, roster]

    return _created(app, expert_id, Expert, build)


def renew_expert_certification(
    app: CertificationApp, expert_id: UUID, command: record_commands.RenewExpertCertification, env: Envelope
) -> Expert:
    return app.change(expert_id, Expert, env, lambda expert: expert.renew_certification(command.until, *env.who()))


def record_qualification(
    app: CertificationApp, expert_id: UUID, command: record_commands.RecordQualification, env: Envelope
) -> Expert:
    trained_on = command.trained_on or env.instant()
    training = (command.level, command.until, command.training, trained_on)
    return app.change(expert_id, Expert, env, lambda expert: expert.record_qualification(*training, *env.who()))


def revoke_expert_certification(
    app: CertificationApp, expert_id: UUID, command: record_commands.RevokeExpertCertification, env: Envelope
) -> Expert:
    assert env.at is not None, "handle() stamps every envelope"
    at = env.at
    return app.change(
        expert_id, Expert, env, lambda expert: expert.revoke_certification(at, command.reason, *env.who())
    )


def declare_affiliation(
    app: CertificationApp, expert_id: UUID, command: record_commands.DeclareAffiliation, env: Envelope
) -> Expert:
    app.get_cluster(command.cluster_id)  # NotFound for a cluster that was never registered

    def act(expert: Expert) -> None:
        expert.declare_affiliation(command.cluster_id, *env.who(), since=command.since, until=command.until)

    return app.change(expert_id, Expert, env, act)


def _created(app: CertificationApp, new_id: UUID, kind: type[A], build: Callable[[], list[RecordedAggregate]]) -> A:
    created = app.created(new_id, build)
    assert isinstance(created, kind)
    return created
