"""The command side: one method per command, load → command → save.

Every command names its actor and carries an idempotency key. A repeated key returns
the first result and records nothing; two different commands racing on the same
record make the later one fail with ConcurrencyConflict, never overwrite.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError

from domain.base import ConcurrencyConflict, Level, NotFound, RecordedAggregate, StepNotAllowed
from domain.catalogue import current_version_for, load_catalogue
from domain.certification_case import CaseKind, CaseState, CertificationCase, Outcome
from domain.cluster import Cluster, ClusterProfile
from domain.expert import ROSTER_ID, Expert, ExpertProfile, ExpertRoster
from domain.label import Label, label_id_for
from domain.notification import Notification
from domain.policy import Policy, default_policy

A = TypeVar("A", bound=RecordedAggregate)
_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"


def utc_now() -> datetime:
    return datetime.now(UTC)


def new_verification_code() -> str:
    """What a certificate prints next to the label id, so that a copied id alone proves nothing."""
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(10))


def replay(aggregate: Any, events: Iterable[Any]) -> Any:
    """eventsourcing's project_aggregate without its per-event `isinstance` against a runtime
    Protocol, which costs as much as decoding the event: every stored event here is one of our
    aggregates' dataclass events, and a stray one fails just as loudly on `mutate`."""
    for domain_event in events:
        aggregate = domain_event.mutate(aggregate)
    return aggregate


class CertificationApp(Application[UUID]):
    """The certification secretariat's event-sourced application."""

    name = "clusterlabel"

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        policy: Policy | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        super().__init__(env=dict(env) if env is not None else None)
        self.policy = policy or default_policy()
        self.clock = clock
        self.saved_listeners: list[Callable[[], None]] = []

    def _notify(self, recordings: list[Any]) -> None:
        """After every save: wake whoever follows the log in this process (the projection runner)."""
        super()._notify(recordings)
        for listener in self.saved_listeners:
            listener()

    # ---- reading ---------------------------------------------------------------------

    def load(self, aggregate_id: UUID, kind: type[A]) -> A:
        try:
            aggregate = self.repository.get(aggregate_id, projector_func=replay)
        except AggregateNotFoundError:
            raise NotFound(f"no {kind.__name__.lower()} with id {aggregate_id}") from None
        if not isinstance(aggregate, kind):
            raise NotFound(f"no {kind.__name__.lower()} with id {aggregate_id}")
        return aggregate

    def get_cluster(self, cluster_id: UUID) -> Cluster:
        return self.load(cluster_id, Cluster)

    def get_expert(self, expert_id: UUID) -> Expert:
        return self.load(expert_id, Expert)

    def get_case(self, case_id: UUID) -> CertificationCase:
        return self.load(case_id, CertificationCase)

    def get_label(self, label_id: UUID) -> Label:
        return self.load(label_id, Label)

    def find_label(self, label_code: str) -> Label:
        return self.get_label(label_id_for(label_code))

    def expert_ids(self) -> list[UUID]:
        return list(self._roster().expert_ids)

    # ---- registration ----------------------------------------------------------------

    def register_cluster(self, profile: ClusterProfile, *, actor: str, command_key: str) -> UUID:
        return self._create(Cluster.create_id(command_key), lambda: [Cluster(profile.model_dump(mode="json"), actor, command_key)])

    def update_cluster_profile(self, cluster_id: UUID, profile: ClusterProfile, *, actor: str, command_key: str) -> None:
        self._change(cluster_id, Cluster, command_key, lambda cluster: cluster.update_profile(profile, actor, command_key))

    def register_expert(self, profile: ExpertProfile, *, actor: str, command_key: str) -> UUID:
        expert_id = Expert.create_id(command_key)

        def build() -> list[RecordedAggregate]:
            expert = Expert(profile.model_dump(mode="json"), actor, command_key)
            roster = self._roster()
            roster.enlist(expert.id, actor, command_key)
            return [expert, roster]

        return self._create(expert_id, build)

    def renew_expert_certification(self, expert_id: UUID, until: datetime, *, actor: str, command_key: str) -> None:
        self._change(expert_id, Expert, command_key, lambda expert: expert.renew_certification(until, actor, command_key))

    def revoke_expert_certification(self, expert_id: UUID, reason: str, *, actor: str, command_key: str, at: datetime | None = None) -> None:
        at = at or self.clock()
        self._change(expert_id, Expert, command_key, lambda e: e.revoke_certification(at, reason, actor, command_key))

    def declare_affiliation(self, expert_id: UUID, cluster_id: UUID, *, actor: str, command_key: str) -> None:
        self.get_cluster(cluster_id)
        self._change(expert_id, Expert, command_key, lambda e: e.declare_affiliation(cluster_id, actor, command_key))

    def _roster(self) -> ExpertRoster:
        try:
            return self.load(ROSTER_ID, ExpertRoster)
        except NotFound:
            return ExpertRoster()

    # ---- applications and screening ---------------------------------------------------

    def submit_application(
        self,
        cluster_id: UUID,
        level: Level,
        *,
        actor: str,
        command_key: str,
        improvement_areas: list[str] | None = None,
        at: datetime | None = None,
    ) -> UUID:
        """A new initial case for a cluster; refused for an ineligible cluster with every unmet criterion."""
        at = at or self.clock()

        def build() -> list[RecordedAggregate]:
            cluster = self.get_cluster(cluster_id)
            self._check_no_label_in_force(cluster, level)
            case = self._new_case(cluster, level, CaseKind.INITIAL, None, improvement_areas, at, actor, command_key)
            return [case, cluster]

        return self._create(CertificationCase.create_id(command_key), build)

    def _new_case(
        self,
        cluster: Cluster,
        level: Level,
        kind: CaseKind,
        previous_label: Label | None,
        improvement_areas: list[str] | None,
        at: datetime,
        actor: str,
        command_key: str,
    ) -> CertificationCase:
        case = CertificationCase.submit(
            cluster=cluster,
            level=level,
            kind=kind,
            catalogue=load_catalogue(current_version_for(level)),
            policy=self.policy,
            at=at,
            actor=actor,
            command_key=command_key,
            previous_label_id=previous_label.id if previous_label else None,
            improvement_areas=improvement_areas,
        )
        cluster.open_case(case.id, level, kind.value, actor, command_key)
        return case

    def _check_no_label_in_force(self, cluster: Cluster, level: Level) -> None:
        label_id = cluster.current_labels.get(level)
        if label_id is not None:
            label = self.get_label(label_id)
            raise StepNotAllowed(
                f"cluster {cluster.name!r} holds {level} label {label.label_code} ({label.state.value}); "
                "renew that label instead of applying anew"
            )

    def screen(self, case_id: UUID, accepted: bool, reason: str, *, actor: str, command_key: str, at: datetime | None = None) -> None:
        at = at or self.clock()
        self._change(case_id, CertificationCase, command_key, lambda case: case.screen(accepted, reason, at, actor, command_key))

    # ---- expert assignment -------------------------------------------------------------

    def eligible_experts(self, case_id: UUID, *, at: datetime | None = None, workload: Mapping[UUID, int] | None = None) -> list[UUID]:
        """Experts who may be proposed for the case's next seat, least loaded first."""
        at = at or self.clock()
        case = self.get_case(case_id)
        assignment = case.assignment_for(at, self.policy)
        experts = [self.get_expert(expert_id) for expert_id in self.expert_ids()]
        eligible = [expert for expert in experts if not expert.ineligibility_reasons(assignment)]
        load = workload or {}
        eligible.sort(key=lambda expert: (load.get(expert.id, 0), expert.name, str(expert.id)))
        return [expert.id for expert in eligible]

    def propose_expert(self, case_id: UUID, expert_id: UUID, *, actor: str, command_key: str, at: datetime | None = None) -> None:
        at = at or self.clock()
        expert = self.get_expert(expert_id)
        self._change(case_id, CertificationCase, command_key, lambda case: case.propose_expert(expert, at, self.policy, actor, command_key))

    def accept_assignment(self, case_id: UUID, expert_id: UUID, *, actor: str, command_key: str, at: datetime | None = None) -> None:
        at = at or self.clock()
        self._change(case_id, CertificationCase, command_key, lambda case: case.accept_assignment(expert_id, at, actor, command_key))

    def decline_assignment(self, case_id: UUID, expert_id: UUID, reason: str, *, actor: str, command_key: str, at: datetime | None = None) -> None:
        at = at or self.clock()
        self._change(case_id, CertificationCase, command_key, lambda case: case.decline_assignment(expert_id, reason, at, actor, command_key))

    def time_out_proposal(self, case_id: UUID, expert_id: UUID, *, actor: str, command_key: str, at: datetime | None = None) -> None:
        at = at or self.clock()
        self._change(case_id, CertificationCase, command_key, lambda case: case.time_out_proposal(expert_id, at, actor, command_key))

    def escalate(self, case_id: UUID, reason: str, *, actor: str, command_key: str, at: datetime | None = None) -> None:
        at = at or self.clock()
        self._change(case_id, CertificationCase, command_key, lambda case: case.escalate(reason, at, actor, command_key))

    def record_agreement(self, case_id: UUID, agreed: bool, *, actor: str, command_key: str, at: datetime | None = None) -> None:
        at = at or self.clock()
        self._change(case_id, CertificationCase, command_key, lambda case: case.record_agreement(agreed, at, self.policy, actor, command_key))

    # ---- audit and decision -----------------------------------------------------------

    def schedule_audit(self, case_id: UUID, audit_date: datetime, *, actor: str, command_key: str) -> None:
        self._change(case_id, CertificationCase, command_key, lambda case: case.schedule_audit(audit_date, actor, command_key))

    def submit_assessment(
        self,
        case_id: UUID,
        expert_id: UUID,
        scores: Mapping[str, int],
        evidence: Mapping[str, str],
        report: str,
        *,
        actor: str,
        command_key: str,
        at: datetime | None = None,
    ) -> None:
        at = at or self.clock()

        def act(case: CertificationCase) -> None:
            catalogue = load_catalogue(case.catalogue_version)
            case.submit_assessment(expert_id, scores, evidence, report, catalogue, self.policy, at, actor, command_key)

        self._change(case_id, CertificationCase, command_key, act)

    def record_decision(
        self,
        case_id: UUID,
        outcome: Outcome,
        level: Level,
        rationale: str,
        *,
        decided_by: str,
        actor: str,
        command_key: str,
        at: datetime | None = None,
    ) -> None:
        at = at or self.clock()
        self._change(
            case_id,
            CertificationCase,
            command_key,
            lambda case: case.record_decision(outcome, level, rationale, decided_by, at, self.policy, actor, command_key),
        )

    def lodge_appeal(self, case_id: UUID, grounds: str, *, actor: str, command_key: str, at: datetime | None = None) -> None:
        at = at or self.clock()
        self._change(case_id, CertificationCase, command_key, lambda case: case.lodge_appeal(grounds, at, actor, command_key))

    def decide_appeal(
        self, case_id: UUID, upheld: bool, rationale: str, *, decided_by: str, actor: str, command_key: str, at: datetime | None = None
    ) -> None:
        at = at or self.clock()
        self._change(
            case_id,
            CertificationCase,
            command_key,
            lambda case: case.decide_appeal(upheld, rationale, decided_by, at, self.policy, actor, command_key),
        )

    def withdraw_case(self, case_id: UUID, reason: str, *, actor: str, command_key: str, at: datetime | None = None) -> None:
        at = at or self.clock()
        self._change(case_id, CertificationCase, command_key, lambda case: case.withdraw(reason, at, actor, command_key))

    def close_case(self, case_id: UUID, *, actor: str, command_key: str, at: datetime | None = None) -> None:
        """The case has concluded: the cluster may open another at its level, a failed renewal ends."""
        at = at or self.clock()
        case = self.get_case(case_id)
        cluster = self.get_cluster(case.cluster_id)
        if cluster.has_applied(command_key):
            return
        if not case.is_concluded(at):
            raise StepNotAllowed(f"case {case_id} is still {case.state.value} and cannot be closed")
        changed: list[RecordedAggregate] = [cluster]
        cluster.close_case(case.id, case.state.value, case.assessed_at, case.expert_ids, actor, command_key)
        if case.previous_label_id is not None and case.state is not CaseState.AWARDED:
            previous = self.get_label(case.previous_label_id)
            if previous.renewal_case_id == case.id:
                previous.abandon_renewal(case.id, at, actor, command_key)
                changed.append(previous)
        self._save(command_key, *changed)

    # ---- labels ----------------------------------------------------------------------

    def issue_label(self, case_id: UUID, *, actor: str, command_key: str, at: datetime | None = None) -> UUID:
        """The label of an awarded case; a renewal's label supersedes the one it renews."""
        at = at or self.clock()
        case = self.get_case(case_id)
        if case.label_id is not None:
            return case.label_id
        cluster = self.get_cluster(case.cluster_id)
        previous = self.get_label(case.previous_label_id) if case.previous_label_id else None
        label = Label.issue(
            case=case,
            cluster=cluster,
            verification_code=new_verification_code(),
            policy=self.policy,
            supersedes=previous,
            actor=actor,
            command_key=command_key,
        )
        case.record_label(label.id, actor, command_key)
        cluster.grant_label(label.id, label.level, previous.id if previous else None, actor, command_key)
        changed: list[RecordedAggregate] = [case, label, cluster]
        if previous is not None:
            previous.supersede(label.id, case.id, at, actor, command_key)
            changed.append(previous)
        self._save(command_key, *changed)
        return label.id

    def send_expiry_reminder(self, label_id: UUID, offset: str, *, actor: str, command_key: str, at: datetime | None = None) -> None:
        at = at or self.clock()
        self._change(label_id, Label, command_key, lambda label: label.send_expiry_reminder(offset, at, actor, command_key))

    def expire_label(self, label_id: UUID, *, actor: str, command_key: str, at: datetime | None = None) -> None:
        at = at or self.clock()
        self._change(label_id, Label, command_key, lambda label: label.expire(at, actor, command_key))

    def close_renewal_window(self, label_id: UUID, *, actor: str, command_key: str, at: datetime | None = None) -> None:
        at = at or self.clock()

        def act(label: Label) -> list[RecordedAggregate]:
            label.close_renewal_window(at, actor, command_key)
            return self._release(label, actor, command_key)

        self._change(label_id, Label, command_key, act)

    def start_renewal(self, label_id: UUID, *, actor: str, command_key: str, improvement_areas: list[str] | None = None, at: datetime | None = None) -> UUID:
        """A renewal case for a label, allowed until its renewal window closes."""
        at = at or self.clock()

        def build() -> list[RecordedAggregate]:
            label = self.get_label(label_id)
            cluster = self.get_cluster(label.cluster_id)
            case = self._new_case(cluster, label.level, CaseKind.RENEWAL, label, improvement_areas, at, actor, command_key)
            label.start_renewal(case.id, at, actor, command_key)
            return [case, cluster, label]

        return self._create(CertificationCase.create_id(command_key), build)

    def suspend_label(self, label_id: UUID, reason: str, *, actor: str, command_key: str, at: datetime | None = None) -> None:
        at = at or self.clock()
        self._change(label_id, Label, command_key, lambda label: label.suspend(reason, at, self.policy, actor, command_key))

    def restore_label(self, label_id: UUID, *, actor: str, command_key: str, at: datetime | None = None) -> None:
        at = at or self.clock()
        self._change(label_id, Label, command_key, lambda label: label.restore(at, actor, command_key))

    def withdraw_label(self, label_id: UUID, reason: str, *, actor: str, command_key: str, at: datetime | None = None) -> None:
        at = at or self.clock()

        def act(label: Label) -> list[RecordedAggregate]:
            label.withdraw(reason, at, actor, command_key)
            return self._release(label, actor, command_key)

        self._change(label_id, Label, command_key, act)

    def _release(self, label: Label, actor: str, command_key: str) -> list[RecordedAggregate]:
        cluster = self.get_cluster(label.cluster_id)
        cluster.release_label(label.id, actor, command_key)
        return [cluster]

    # ---- the outbox -----------------------------------------------------------------

    def queue_notification(
        self,
        recipient: str,
        kind: str,
        subject: str,
        body: str,
        *,
        actor: str,
        command_key: str,
        case_id: UUID | None = None,
        label_id: UUID | None = None,
    ) -> UUID:
        return self._create(
            Notification.create_id(command_key),
            lambda: [Notification(recipient, kind, subject, body, case_id, label_id, actor, command_key)],
        )

    def mark_notification_delivered(self, notification_id: UUID, channel: str, *, actor: str, command_key: str) -> None:
        self._change(notification_id, Notification, command_key, lambda n: n.mark_delivered(channel, actor, command_key))

    # ---- idempotent load → command → save ----------------------------------------------

    def _create(self, aggregate_id: UUID, build: Callable[[], list[RecordedAggregate]]) -> UUID:
        """Build and save new aggregates, unless the key already created them.

        Optimistic, because a first attempt is the common case: a repeat cannot record anything,
        since the new aggregate's id derives from the key and its first event collides with the
        stored one. So the store is asked whether the key's aggregate exists only when building
        (a rule no longer passes once the first attempt changed the state) or saving fails.
        """
        try:
            changed = build()
        except Exception:
            if self._exists(aggregate_id):
                return aggregate_id  # a repeat whose rules no longer pass: same result
            raise
        if changed[0].id != aggregate_id:  # the optimism rests on it: a repeat must collide
            raise RuntimeError(f"{type(changed[0]).__name__} {changed[0].id} is not the aggregate created for the key")
        try:
            self.save(*changed)
        except IntegrityError:
            if self._exists(aggregate_id):
                return aggregate_id  # a repeat, or the same command winning a race: same result
            raise ConcurrencyConflict("another command changed the same records first; try again") from None
        return aggregate_id

    def _change(self, aggregate_id: UUID, kind: type[A], command_key: str, act: Callable[[A], Any]) -> None:
        """Run a command on one aggregate (and the others it returns) once per key."""
        aggregate = self.load(aggregate_id, kind)
        if aggregate.has_applied(command_key):
            return
        others = act(aggregate) or []
        self._save(command_key, aggregate, *others)

    def _save(self, command_key: str, primary: RecordedAggregate, *others: RecordedAggregate) -> None:
        try:
            self.save(primary, *others)
        except IntegrityError:
            if self.repository.get(primary.id).has_applied(command_key):
                return  # a retry of the same command got there first
            raise ConcurrencyConflict(
                f"{type(primary).__name__.lower()} {primary.id} was changed by another command; reload and try again"
            ) from None

    def _exists(self, aggregate_id: UUID) -> bool:
        # One indexed row answers the question; `aggregate_id in self.repository` would replay
        # the whole aggregate only to throw it away.
        return bool(self.recorder.select_events(aggregate_id, limit=1))
