"""A certified benchmarking expert (auditor) and whether they may take a case."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import event
from pydantic import Field, field_validator

from clusterlabel.domain import affiliation, qualification
from clusterlabel.domain.affiliation import Affiliation
from clusterlabel.domain.base import InvalidInput, Level, RecordedAggregate, StepNotAllowed, derived_id
from clusterlabel.domain.durations import Duration
from clusterlabel.domain.instants import Instant
from clusterlabel.domain.label_lifecycle import last_valid_day
from clusterlabel.domain.profile import Profile, Registrant, language_codes
from clusterlabel.domain.qualification import ALL_LEVELS, Qualification, Training
from clusterlabel.domain.text import RECORDED, Text


class Nationality(StrEnum):
    """A Gold team needs one expert from the cluster's country and one from abroad."""

    NATIONAL = "national"
    FOREIGN = "foreign"


class ExpertProfile(Profile):
    """What the secretariat records of a certified benchmarking expert."""

    languages: list[Text] = Field(
        min_length=1,
        max_length=50,
        description="ISO 639-1 codes, e.g. en, de",
        json_schema_extra={"items": {"type": "string", "pattern": "^[A-Za-z]{2}$"}},
    )
    certified_until: Instant
    affiliations: list[UUID] = Field(default_factory=list, max_length=1000, description="cluster ids")
    # The levels the certification qualifies for, each until `certified_until`. A default, so that the
    # profiles registered before qualifications were kept per level read back as they worked: every level.
    levels: list[Level] = Field(
        default_factory=lambda: list(ALL_LEVELS), min_length=1, max_length=len(Level), description="label levels"
    )

    @field_validator("levels")
    @classmethod
    def _levels_once_each(cls, levels: list[Level]) -> list[Level]:
        return sorted(set(levels), key=lambda level: level.rank)

    @field_validator("languages")
    @classmethod
    def _language_codes(cls, codes: list[str]) -> list[str]:
        return language_codes(codes)

    def identity(self) -> tuple[object, ...]:
        """What tells a repeated registration from another expert: the whole profile, the name whatever
        its case and spacing. (It holds no e-mail or other id; two people who share a name and a country
        still differ in their languages, certification or affiliations.)"""
        name = " ".join(self.name.casefold().split())
        return (
            name,
            self.country,
            tuple(self.languages),
            self.certified_until,
            tuple(sorted(map(str, self.affiliations))),
            tuple(self.levels),
        )


def check_not_registered(profile: ExpertProfile, registered: Iterable[Expert]) -> None:
    """Refuse a second registration of the same profile (e.g. a request retried without its key): the
    secretariat renews, revokes or updates the expert it has. The message names only the existing
    expert's id, which the secretariat, the one caller that registers, may know."""
    for expert in registered:
        if expert.profile.identity() == profile.identity():
            raise StepNotAllowed(
                f"an expert with this profile is already registered: expert {expert.id}; "
                "renew or revoke that record instead of registering the expert again"
            )


NO_COOLING_OFF = Duration()


def without_names(text: str, experts: Iterable[Expert]) -> str:
    """The text with each expert's name replaced by their id. A refusal names the expert it concerns;
    when an automatic step's refusal becomes an escalation, its text is recorded in plain words in the
    log for good, where an erasure could not reach it (only the registration seals the name)."""
    by_name: dict[str, list[UUID]] = {}
    for expert in experts:
        by_name.setdefault(expert.name, []).append(expert.id)
    for name in sorted(by_name, key=len, reverse=True):  # "Ann Lee" before "Ann"
        ids = by_name[name]  # a name several share (erased ones read alike) is replaced by none of their ids
        said = f"expert {ids[0]}" if len(ids) == 1 else "an expert"
        text = re.sub(rf"(?<!\w){re.escape(name)}(?!\w)", said, text)  # a name is never empty (min_length=1)
    return text


@dataclass(frozen=True)
class Assignment:
    """What an expert's eligibility depends on, for one proposal on one case."""

    cluster_id: UUID
    cluster_country: str
    at: datetime
    level: Level | None = None  # the case's level; None asks for a valid qualification at any level
    cooling_off: Duration = NO_COOLING_OFF  # how long after it ended an affiliation still excludes (policy)
    previous_round_expert_ids: frozenset[UUID] = frozenset()
    rotate_experts: bool = True
    nationality: Nationality | None = None
    excluded_expert_ids: frozenset[UUID] = field(default_factory=frozenset)


class Expert(Registrant[ExpertProfile], RecordedAggregate):
    """A benchmarking expert certified by the secretariat."""

    id_kind = "expert"

    @event("Registered")
    def __init__(self, profile: dict[str, Any], actor: str, command_key: str) -> None:
        self.profile = ExpertProfile.model_validate(profile, context=RECORDED)
        until = self.profile.certified_until
        self.qualifications: dict[Level, Qualification] = {
            level: Qualification(level, until) for level in self.profile.levels
        }
        self.trainings: list[Training] = []
        self.affiliations = set(self.profile.affiliations)
        self.affiliation_periods: dict[UUID, list[Affiliation]] = {
            cluster_id: [Affiliation()] for cluster_id in self.affiliations
        }
        self.lapsed_at: datetime | None = None
        self.conflict_declarations: dict[UUID, tuple[UUID, datetime]] = {}  # case id: its cluster, when

    @property
    def certified_until(self) -> datetime:
        """The latest end of any of the expert's qualifications."""
        return max(held.until for held in self.qualifications.values())

    def is_certified_at(self, at: datetime) -> bool:
        """Qualified at some level at `at` (and not revoked since)."""
        return any(held.is_valid_at(at) for held in self.qualifications.values())

    def is_qualified_at(self, level: Level, at: datetime) -> bool:
        held = self.qualifications.get(level)
        return held is not None and held.is_valid_at(at)

    def check_certified(self, at: datetime, step: str) -> None:
        """Only a certified expert works on a case; what they did before stays on record and readable."""
        if self.lapsed_at is not None and self.lapsed_at <= at:
            raise StepNotAllowed(
                f"{self.name}'s expert certification was revoked on {self.lapsed_at:%Y-%m-%d}: they can no longer {step}"
            )
        if not self.is_certified_at(at):
            raise StepNotAllowed(
                f"{self.name}'s expert certification ended on {last_valid_day(self.certified_until):%Y-%m-%d}: "
                f"they can no longer {step} until it is renewed"
            )

    def check_qualified(self, level: Level, at: datetime, step: str) -> None:
        """Every step an expert takes on a case asks for a valid qualification at the case's level
        (ISO/IEC 17065 §6.1.2), not only the proposal: it may lapse or be revoked meanwhile."""
        qualification.check_qualified(self.name, self.qualifications, level, at, step)

    def renew_certification(self, until: datetime, actor: str, command_key: str) -> None:
        """Renews every level the expert holds until `until` (the one certification of old)."""
        if until <= self.certified_until and self.lapsed_at is None:
            raise InvalidInput(
                f"the new certification end {last_valid_day(until):%Y-%m-%d} is not later than the current one"
            )
        self._certification_renewed(until=until, actor=actor, command_key=command_key)

    @event("CertificationRenewed")
    def _certification_renewed(self, until: datetime, actor: str, command_key: str) -> None:
        self.qualifications = {level: Qualification(level, until) for level in self.qualifications}
        self.lapsed_at = None

    def record_qualification(
        self, level: Level, until: datetime, training: str, trained_on: datetime, actor: str, command_key: str
    ) -> None:
        """The training or recertification after which the expert is qualified for `level` until `until`.
        A recertification after a revocation qualifies for that level again (the others stay revoked)."""
        if trained_on >= until:
            raise InvalidInput(f"the qualification must run beyond its training on {trained_on:%Y-%m-%d}")
        held = self.qualifications.get(level)
        if held is not None and held.revoked_at is None and until <= held.until:
            raise InvalidInput(
                f"{self.name} is already qualified for {level} until {last_valid_day(held.until):%Y-%m-%d}; "
                "a renewal must run later"
            )
        self._qualification_recorded(
            level=level.value,
            until=until,
            training=training,
            trained_on=trained_on,
            actor=actor,
            command_key=command_key,
        )

    @event("QualificationRecorded")
    def _qualification_recorded(
        self, level: str, until: datetime, training: str, trained_on: datetime, actor: str, command_key: str
    ) -> None:
        self.qualifications[Level(level)] = Qualification(Level(level), until)
        self.trainings.append(Training(level=level, training=training, trained_on=trained_on, until=until))
        self.lapsed_at = None

    def revoke_certification(self, at: datetime, reason: str, actor: str, command_key: str) -> None:
        """Revoked once: revoking a revoked certification records nothing (its first instant stands).
        A revocation takes every level: the person is no longer trusted to audit (ISO/IEC 17065 §6.1)."""
        if self.lapsed_at is not None:
            return
        self._certification_lapsed(at=at, reason=reason, actor=actor, command_key=command_key)

    @event("CertificationLapsed")
    def _certification_lapsed(self, at: datetime, reason: str, actor: str, command_key: str) -> None:
        self.lapsed_at = at
        self.qualifications = {level: held.revoked(at) for level, held in self.qualifications.items()}

    def declare_affiliation(
        self,
        cluster_id: UUID,
        actor: str,
        command_key: str,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> None:
        """An affiliation with a cluster over a period (`until` None: it goes on); see domain/affiliation.py."""
        affiliation.check_period(since, until)
        self._affiliation_declared(
            cluster_id=cluster_id, since=since, until=until, actor=actor, command_key=command_key
        )

    class AffiliationDeclared(RecordedAggregate.Event):
        """Version 2 adds the period, `since` and `until`. An affiliation declared before it had dates has
        neither: it reads as ongoing, and excludes the expert from the cluster's cases for good."""

        class_version = 2
        cluster_id: UUID
        since: datetime | None
        until: datetime | None
        actor: str
        command_key: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state.update(since=None, until=None)

    @event(AffiliationDeclared)
    def _affiliation_declared(
        self, cluster_id: UUID, since: datetime | None, until: datetime | None, actor: str, command_key: str
    ) -> None:
        self.affiliations.add(cluster_id)
        self.affiliation_periods.setdefault(cluster_id, []).append(Affiliation(since, until))

    def declare_no_conflict(
        self, case_id: UUID, cluster_id: UUID, at: datetime, cooling_off: Duration, actor: str, command_key: str
    ) -> None:
        """On accepting a case, the expert declares no conflict of interest with its cluster."""
        self.check_no_conflict(cluster_id, at, cooling_off)
        self._no_conflict_declared(case_id=case_id, cluster_id=cluster_id, at=at, actor=actor, command_key=command_key)

    def check_no_conflict(self, cluster_id: UUID, at: datetime, cooling_off: Duration) -> None:
        """An affiliation on record that still excludes the expert refuses their acceptance, declared or not
        (it may have been recorded after the proposal)."""
        conflict = affiliation.conflict(self.affiliation_periods.get(cluster_id, []), at, cooling_off)
        if conflict is not None:
            raise StepNotAllowed(f"{self.name} {conflict.describe()}: they cannot take this cluster's case")

    @event("NoConflictDeclared")
    def _no_conflict_declared(
        self, case_id: UUID, cluster_id: UUID, at: datetime, actor: str, command_key: str
    ) -> None:
        self.conflict_declarations[case_id] = (cluster_id, at)

    def check_eligible(self, assignment: Assignment) -> None:
        reasons = self.ineligibility_reasons(assignment)
        if reasons:
            raise InvalidInput(f"{self.name} cannot be proposed: " + "; ".join(reasons), reasons)

    def ineligibility_reasons(self, assignment: Assignment) -> list[str]:
        """Every reason this expert may not be proposed; empty when they may."""
        reasons = []
        held = self.affiliation_periods.get(assignment.cluster_id, [])
        conflict = affiliation.conflict(held, assignment.at, assignment.cooling_off)
        if conflict is not None:
            reasons.append(f"{self.name} {conflict.describe()} (conflict of interest)")
        if assignment.level is None and not self.is_certified_at(assignment.at):
            reasons.append(f"{self.name}'s expert certification has lapsed")
        if assignment.level is not None:
            unqualified = qualification.unqualified_reason(
                self.name, self.qualifications, assignment.level, assignment.at
            )
            reasons += [unqualified] if unqualified else []
        if assignment.rotate_experts and self.id in assignment.previous_round_expert_ids:
            reasons.append(f"{self.name} audited the cluster's previous round (rotation)")
        if self.id in assignment.excluded_expert_ids:
            reasons.append(f"{self.name} already declined, timed out or was objected to on this case")
        if assignment.nationality is Nationality.NATIONAL and self.country != assignment.cluster_country:
            reasons.append(
                f"{self.name} is not from {assignment.cluster_country}, and the team needs a national expert"
            )
        if assignment.nationality is Nationality.FOREIGN and self.country == assignment.cluster_country:
            reasons.append(f"{self.name} is from {assignment.cluster_country}, and the team needs a foreign expert")
        return reasons


ROSTER_ID = derived_id("expert-roster")


class ExpertRoster(RecordedAggregate):
    """Every registered expert, so that proposals can go through them all."""

    @classmethod
    def create_id(cls, command_key: str = "") -> UUID:
        """One roster, whichever command opens it."""
        return ROSTER_ID

    @event("Opened")
    def __init__(self) -> None:
        self.expert_ids: list[UUID] = []

    def enlist(self, expert_id: UUID, actor: str, command_key: str) -> None:
        if expert_id not in self.expert_ids:
            self._enlisted(expert_id=expert_id, actor=actor, command_key=command_key)

    @event("ExpertEnlisted")
    def _enlisted(self, expert_id: UUID, actor: str, command_key: str) -> None:
        self.expert_ids.append(expert_id)
