"""The command side: the event-sourced application that every command's handler works on.

It owns the event store and the idempotent load → command → save that every handler
(activities/handlers.py) uses; it records nothing of its own accord. Every command names its actor
and carries an idempotency key. A repeated key records nothing and answers with the record as it
now stands; two different commands racing on the same record make the later one fail with
ConcurrencyConflict, never overwrite.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError
from opentelemetry import trace

from clusterlabel.activities.personal_data import PersonalMapper, keys_beside
from clusterlabel.domain import case_team
from clusterlabel.domain.base import ConcurrencyConflict, Level, NotFound, RecordedAggregate, StepNotAllowed
from clusterlabel.domain.case_lifecycle import CaseKind
from clusterlabel.domain.catalogue import Catalogue
from clusterlabel.domain.catalogue_shelf import current_version_for, load_catalogue
from clusterlabel.domain.certification_case import CertificationCase
from clusterlabel.domain.cluster import Cluster
from clusterlabel.domain.command_base import Envelope
from clusterlabel.domain.expert import ROSTER_ID, Expert, ExpertRoster
from clusterlabel.domain.label import Label, label_id_for
from clusterlabel.domain.label_lifecycle import LabelState, last_valid_day
from clusterlabel.domain.policy import Policy, default_policy
from clusterlabel.domain.silver import DescribedArea

A = TypeVar("A", bound=RecordedAggregate)
_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"
# A no-op until a process configures a tracer provider (interfaces/tracing.py).
_tracer = trace.get_tracer("clusterlabel.event_store")


def utc_now() -> datetime:
    return datetime.now(UTC)


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
    mapper: PersonalMapper

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        policy: Policy | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        super().__init__(env=dict(env) if env is not None else None)
        self.mapper.keys = keys_beside(self.recorder)
        self.policy = policy or default_policy()
        self.clock = clock
        self.saved_listeners: list[Callable[[], None]] = []

    def construct_mapper(self) -> PersonalMapper:
        """eventsourcing's mapper, sealing the personal text events carry (activities/personal_data.py)."""
        return PersonalMapper(super().construct_mapper())

    def erase_personal_text(self, subject_id: UUID) -> None:
        """Destroy the key that seals the subject's personal text in the events (an expert's name):
        from now on every read of it gives personal_data.ERASED. No event is rewritten."""
        self.mapper.keys.erase(subject_id)

    def save(self, *objs: Any, **kwargs: Any) -> list[Any]:
        """Append the aggregates' new events, in a span of the step's trace (the store's part of its time)."""
        with _tracer.start_as_current_span("event store append") as span:
            recordings = super().save(*objs, **kwargs)
            span.set_attribute("clusterlabel.events_appended", len(recordings))
            return recordings

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
        return list(self.roster().expert_ids)

    def roster(self) -> ExpertRoster:
        """Every registered expert (empty before the first registration opens it)."""
        return self.the_one(ROSTER_ID, ExpertRoster)

    def the_one(self, aggregate_id: UUID, kind: type[A]) -> A:
        """The one aggregate of its kind (the roster, the webhook directory), or a new one, unsaved, before
        the first command that needs it opens it."""
        try:
            return self.load(aggregate_id, kind)
        except NotFound:
            return kind()

    # ---- commands ------------------------------------------------------------------------

    def new_case(
        self,
        cluster: Cluster,
        level: Level,
        kind: CaseKind,
        previous_label: Label | None,
        improvement_areas: Sequence[str | DescribedArea],
        env: Envelope,
    ) -> CertificationCase:
        case = CertificationCase.submit(
            env,
            cluster=cluster,
            level=level,
            kind=kind,
            catalogue=load_catalogue(current_version_for(level, env.instant())),
            criteria=silver_criteria(level, env.instant()),
            policy=self.policy,
            previous_label_id=previous_label.id if previous_label else None,
            improvement_areas=improvement_areas,
            renewed_case_id=previous_label.case_id if previous_label else None,
            renew_by=previous_label.renewable_until if previous_label else None,
        )
        cluster.open_case(case.id, level, kind.value, env.actor, env.key)
        return case

    def check_no_label_in_force(self, cluster: Cluster, level: Level, at: datetime) -> None:
        label_id = cluster.current_labels.get(level)
        if label_id is None:
            return
        label = self.get_label(label_id)
        status, _ = label.status_at(at)
        if status is LabelState.LAPSED:  # its window's timer has not recorded the lapse yet (an outage)
            raise StepNotAllowed(
                f"{level} label {label.label_code} of cluster {cluster.name!r} has lapsed (its renewal window "
                f"closed on {last_valid_day(label.renewable_until):%Y-%m-%d}) but the lapse is not recorded yet; "
                "apply again once it is (the engine's workers record it)"
            )
        raise StepNotAllowed(
            f"cluster {cluster.name!r} holds {level} label {label.label_code} ({status.value}); "
            f"{_instead_of_applying(label)}"
        )

    def eligible_experts(
        self,
        case_id: UUID,
        *,
        at: datetime | None = None,
        workload: Mapping[UUID, int] | None = None,
        locked_out: Collection[UUID] = (),
    ) -> list[UUID]:
        """Experts who may be proposed for the case's next seat, in the order to propose them: those who
        share a language with the cluster first, then the least loaded (case_team.proposal_order).
        None of `locked_out` (every account deactivated: they could not sign in to answer)."""
        at = at or self.clock()
        case = self.get_case(case_id)
        assignment = case.assignment_for(at, self.policy)
        experts = [self.get_expert(expert_id) for expert_id in self.expert_ids() if expert_id not in locked_out]
        eligible = [expert for expert in experts if not expert.ineligibility_reasons(assignment)]
        languages = self.get_cluster(case.cluster_id).profile.languages
        return [expert.id for expert in case_team.proposal_order(eligible, languages, workload or {})]

    def new_verification_code(self) -> str:
        """What a certificate prints next to the label id, so that a copied id alone proves nothing."""
        return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(10))

    # ---- idempotent load → command → save ----------------------------------------------

    def create(self, aggregate_id: UUID, build: Callable[[], list[RecordedAggregate]]) -> UUID:
        """Build and save new aggregates, unless the key already created them; the new one's id."""
        self.created(aggregate_id, build)
        return aggregate_id

    def created(self, aggregate_id: UUID, build: Callable[[], list[RecordedAggregate]]) -> RecordedAggregate:
        """Build and save new aggregates, unless the key already created them; the new one as stored.

        Optimistic, because a first attempt is the common case: a repeat cannot record anything,
        since the new aggregate's id derives from the key and its first event collides with the
        stored one. So the store is asked whether the key's aggregate exists only when building
        (a rule no longer passes once the first attempt changed the state) or saving fails.
        """
        try:
            changed = build()
        except Exception:
            if self._exists(aggregate_id):
                return self.load(aggregate_id, RecordedAggregate)  # a repeat whose rules no longer pass: same result
            raise
        if changed[0].id != aggregate_id:  # the optimism rests on it: a repeat must collide
            raise RuntimeError(f"{type(changed[0]).__name__} {changed[0].id} is not the aggregate created for the key")
        try:
            self.save(*changed)
        except IntegrityError:
            if self._exists(aggregate_id):
                return self.load(aggregate_id, RecordedAggregate)  # a repeat, or the same command winning a race
            raise ConcurrencyConflict("another command changed the same records first; try again") from None
        return changed[0]

    def change(self, aggregate_id: UUID, kind: type[A], envelope: Envelope, act: Callable[[A], Any]) -> A:
        """Run a command on one aggregate (and the others `act` returns) once per key; the aggregate after."""
        aggregate = self.load(aggregate_id, kind)
        if aggregate.has_applied(envelope.key):
            return aggregate
        others = act(aggregate) or []
        self.save_once(envelope.key, aggregate, *others)
        return aggregate

    def save_once(self, command_key: str, primary: RecordedAggregate, *others: RecordedAggregate) -> None:
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


def silver_criteria(level: Level, at: datetime) -> Catalogue | None:
    """The Gold catalogue current on the day a Silver case is applied for: its improvement areas name
    indicators of it, and its validation is checked against them (domain/silver.py)."""
    return load_catalogue(current_version_for(Level.GOLD, at)) if level is Level.SILVER else None


def _instead_of_applying(label: Label) -> str:
    """What the cluster does instead of applying anew at the level of a label it holds: renew it, unless its
    renewal is open already or the label takes no renewal now (suspended)."""
    if label.renewal_case_id is not None:
        return f"its renewal, case {label.renewal_case_id}, is open"
    if not label.allows("start_renewal"):
        return (
            f"it is {label.state.value}: once the suspension is lifted it may be renewed; if the label is "
            "withdrawn, the cluster applies anew"
        )
    return "renew that label instead of applying anew"
