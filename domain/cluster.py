"""A cluster management organisation: the applicant for a label."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.domain import event
from pydantic import Field, field_validator

from clusterlabel.domain.base import InvalidInput, Level, Problem, RecordedAggregate, StepNotAllowed
from clusterlabel.domain.case_lifecycle import CaseState
from clusterlabel.domain.policy import Policy
from clusterlabel.domain.profile import Profile, Registrant, language_codes
from clusterlabel.domain.text import RECORDED, Flag, Text, WholeNumber


class ConcludedCase(Protocol):
    """What a cluster keeps of a case that concluded: a CertificationCase, whose module imports this one."""

    state: CaseState
    assessed_at: datetime | None

    @property
    def id(self) -> UUID: ...
    @property
    def audit_month_of(self) -> datetime: ...
    @property
    def expert_ids(self) -> list[UUID]: ...


class MemberType(StrEnum):
    """The triple helix, plus civil society."""

    BUSINESS = "business"
    RESEARCH = "research"
    PUBLIC = "public"
    CIVIL_SOCIETY = "civil_society"


class EligibilityCriterion(StrEnum):
    """The eligibility criteria a label asks for (ECCP profile rules, 2019), each of which a waiver may stand in for."""

    ECCP_LISTING = "eccp_listing"
    STAFF_FTE = "staff_fte"
    MEMBERS = "members"
    MEMBER_TYPES = "member_types"
    ENGLISH_WEBSITE = "english_website"


class ClusterProfile(Profile):
    """What a cluster declares about itself at registration."""

    sector: Text = Field(min_length=1, max_length=200)
    website: Text = Field(
        max_length=500,
        json_schema_extra={"pattern": "^https?://[^\\x00-\\x1f\\x7f-\\x9f]*[.][^\\x00-\\x1f\\x7f-\\x9f]*$"},
    )
    members: WholeNumber = Field(ge=0, le=1_000_000, description="committed member organisations")
    member_types: list[MemberType] = Field(max_length=len(MemberType))
    staff_fte: float = Field(
        ge=0, le=10_000, strict=True, description="cluster management staff, full-time equivalents"
    )
    eccp_listed: Flag = Field(description="listed on the European Cluster Collaboration Platform")
    english_website: Flag = True
    # Printed on the certificate under the cluster's name (ISO/IEC 17065 §7.7: the holder's address).
    # Optional with a default, so that the profiles registered before it read back as they were.
    address: Text | None = Field(
        default=None, max_length=300, description="postal address, one line (street, postcode and town)"
    )

    # The languages the cluster works in, which an expert proposed for it had best speak (the interview
    # is held in one). Optional with a default, so that the profiles registered before it read back.
    languages: list[Text] = Field(
        default_factory=list,
        max_length=50,
        description="ISO 639-1 codes, e.g. lt, en",
        json_schema_extra={"items": {"type": "string", "pattern": "^[A-Za-z]{2}$"}},
    )

    @field_validator("languages")
    @classmethod
    def _language_codes(cls, codes: list[str]) -> list[str]:
        return language_codes(codes)

    @field_validator("address")
    @classmethod
    def _blank_address_is_none(cls, address: str | None) -> str | None:
        # A form's empty field sends "": no address, not an empty one.
        return address or None

    @field_validator("website")
    @classmethod
    def _web_address(cls, url: str) -> str:
        if not url.startswith(("https://", "http://")) or "." not in url:
            raise ValueError(f"{url!r} is not a web address starting with https://")
        return url

    @field_validator("member_types")
    @classmethod
    def _distinct(cls, types: list[MemberType]) -> list[MemberType]:
        return sorted(set(types))

    def unmet_criteria(self, policy: Policy) -> list[str]:
        """Every eligibility criterion this profile misses, not just the first."""
        return list(self.unmet_by_criterion(policy).values())

    def unmet_by_criterion(self, policy: Policy) -> dict[EligibilityCriterion, str]:
        """Each criterion this profile misses, with the sentence that says how."""
        unmet: dict[EligibilityCriterion, str] = {}
        if not self.eccp_listed:
            unmet[EligibilityCriterion.ECCP_LISTING] = (
                "the cluster is not listed on the European Cluster Collaboration Platform"
            )
        if self.staff_fte < policy.min_staff_fte:
            unmet[EligibilityCriterion.STAFF_FTE] = (
                f"cluster management staff is {self.staff_fte:g} FTE; at least {policy.min_staff_fte:g} FTE is required"
            )
        if self.members < policy.min_members:
            unmet[EligibilityCriterion.MEMBERS] = (
                f"the cluster has {self.members} committed members; at least {policy.min_members} are required"
            )
        if len(self.member_types) < policy.min_member_types:
            unmet[EligibilityCriterion.MEMBER_TYPES] = (
                f"members are of {len(self.member_types)} type(s); at least {policy.min_member_types} "
                "(triple helix: business, research, public) are required"
            )
        if not self.english_website:
            unmet[EligibilityCriterion.ENGLISH_WEBSITE] = "the cluster has no website in English"
        return unmet


class Cluster(Registrant[ClusterProfile], RecordedAggregate):
    """A registered cluster, its benchmarking rounds and the labels it holds."""

    id_kind = "cluster"

    @event("Registered")
    def __init__(self, profile: dict[str, Any], actor: str, command_key: str) -> None:
        self.profile = ClusterProfile.model_validate(profile, context=RECORDED)
        self.open_cases: dict[UUID, Level] = {}
        self.rounds: list[dict[str, Any]] = []
        self.current_labels: dict[Level, UUID] = {}
        self.waivers: dict[EligibilityCriterion, dict[str, Any]] = {}
        self.review: dict[str, Any] | None = None  # an eligibility review the secretariat has open

    def unmet_criteria(self, policy: Policy) -> list[str]:
        """The criteria the cluster misses that no waiver stands in for."""
        return list(self._unwaived_unmet(policy).values())

    def _unwaived_unmet(self, policy: Policy) -> dict[EligibilityCriterion, str]:
        unmet = self.profile.unmet_by_criterion(policy)
        return {criterion: sentence for criterion, sentence in unmet.items() if criterion not in self.waivers}

    def check_eligible(self, policy: Policy) -> None:
        unmet = self.unmet_criteria(policy)
        if unmet:
            # Every command that checks eligibility names the cluster by its `cluster_id`.
            problems = [Problem(criterion, ("cluster_id",), "ineligible") for criterion in unmet]
            raise InvalidInput(f"cluster {self.name!r} is not eligible: " + "; ".join(unmet), problems)

    def waive(self, criterion: EligibilityCriterion, reason: str, at: datetime, actor: str, command_key: str) -> None:
        """Record that a criterion is waived for this cluster (a cluster in a national programme, say): the
        officer granting it (`actor`) and why stand in the record; the waiver stands in for the criterion."""
        if not reason.strip():
            raise InvalidInput("a waiver needs a reason", [Problem("a waiver needs a reason", ("reason",))])
        if criterion in self.waivers:
            raise StepNotAllowed(f"the criterion {criterion.value} is already waived for cluster {self.name!r}")
        self._eligibility_waived(criterion=criterion.value, reason=reason, at=at, actor=actor, command_key=command_key)

    @event("EligibilityWaived")
    def _eligibility_waived(self, criterion: str, reason: str, at: datetime, actor: str, command_key: str) -> None:
        self.waivers[EligibilityCriterion(criterion)] = {"reason": reason, "granted_by": actor, "at": at}

    def update_profile(
        self, profile: ClusterProfile, policy: Policy, at: datetime, actor: str, command_key: str
    ) -> None:
        """Record the cluster's new profile. A change that breaks an eligibility criterion while the
        cluster holds a label opens a review for the secretariat (ISO/IEC 17065 §7.10, changes affecting
        certification): the label stays as it is until the secretariat has looked (it may suspend or
        withdraw it, waive the criterion, or find the label may stand) and closes the review."""
        # Criteria, not their sentences: a figure still short of its criterion (12 members of 15, then 13)
        # breaks nothing new.
        unmet_before = set(self._unwaived_unmet(policy))
        self._profile_updated(profile=profile.model_dump(mode="json"), actor=actor, command_key=command_key)
        unmet = self._unwaived_unmet(policy)
        broken = [sentence for criterion, sentence in unmet.items() if criterion not in unmet_before]
        if broken and self.current_labels and self.review is None:
            labels = [str(label_id) for label_id in self.current_labels.values()]
            self._review_opened(criteria=broken, label_ids=labels, at=at, actor=actor, command_key=command_key)

    @event("EligibilityReviewOpened")
    def _review_opened(
        self, criteria: list[str], label_ids: list[str], at: datetime, actor: str, command_key: str
    ) -> None:
        self.review = {"criteria": list(criteria), "label_ids": list(label_ids), "opened_at": at}

    def close_review(self, outcome: str, reason: str, at: datetime, actor: str, command_key: str) -> None:
        """The secretariat's conclusion of the open eligibility review, and why."""
        if self.review is None:
            raise StepNotAllowed(f"cluster {self.name!r} has no eligibility review open")
        if not reason.strip():
            raise InvalidInput(
                "closing a review needs a reason", [Problem("closing a review needs a reason", ("reason",))]
            )
        self._review_closed(outcome=outcome, reason=reason, at=at, actor=actor, command_key=command_key)

    @event("EligibilityReviewClosed")
    def _review_closed(self, outcome: str, reason: str, at: datetime, actor: str, command_key: str) -> None:
        self.review = None

    @event("ProfileUpdated")
    def _profile_updated(self, profile: dict[str, Any], actor: str, command_key: str) -> None:
        self.profile = ClusterProfile.model_validate(profile, context=RECORDED)

    def open_case(self, case_id: UUID, level: Level, kind: str, actor: str, command_key: str) -> None:
        if level in self.open_cases.values():
            raise StepNotAllowed(f"cluster {self.name!r} already has an open {level} case")
        self._case_opened(case_id=case_id, level=level.value, kind=kind, actor=actor, command_key=command_key)

    @event("CaseOpened")
    def _case_opened(self, case_id: UUID, level: str, kind: str, actor: str, command_key: str) -> None:
        self.open_cases[case_id] = Level(level)

    def close_case(self, case: ConcludedCase, actor: str, command_key: str) -> None:
        """The case concluded: its outcome, and the round it was (when assessed), stay on the cluster; the round
        is dated by its benchmarking, the audit as it took place (as the label's validity is), not the report."""
        if case.id not in self.open_cases:
            raise StepNotAllowed(f"case {case.id} is not open for cluster {self.name!r}")
        benchmarked_at = case.audit_month_of if case.assessed_at is not None else None
        concluded = (case.id, case.state.value, case.assessed_at, benchmarked_at, list(case.expert_ids))
        self._case_closed(*concluded, actor=actor, command_key=command_key)

    class CaseClosed(RecordedAggregate.Event):
        """Version 2 adds `benchmarked_at`: when the round's benchmarking (its audit) took place, which the
        Silver gap counts from. A case closed before it was kept is dated by its assessment, all that was stored."""

        class_version = 2
        case_id: UUID
        outcome: str
        assessed_at: datetime | None
        benchmarked_at: datetime | None
        expert_ids: list[UUID]
        actor: str
        command_key: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["benchmarked_at"] = state["assessed_at"]

    @event(CaseClosed)
    def _case_closed(
        self,
        case_id: UUID,
        outcome: str,
        assessed_at: datetime | None,
        benchmarked_at: datetime | None,
        expert_ids: list[UUID],
        actor: str,
        command_key: str,
    ) -> None:
        level = self.open_cases.pop(case_id)
        if assessed_at is not None:
            self.rounds.append(
                {
                    "case_id": case_id,
                    "level": level,
                    "outcome": outcome,
                    "assessed_at": assessed_at,
                    "benchmarked_at": benchmarked_at or assessed_at,
                    "expert_ids": expert_ids,
                }
            )

    def last_round(self, level: Level | None = None) -> dict[str, Any] | None:
        """The latest assessed round, optionally at one level."""
        rounds = [r for r in self.rounds if level is None or r["level"] == level]
        return rounds[-1] if rounds else None

    def last_bronze_benchmarking(self) -> datetime | None:
        """When the cluster was last benchmarked on the Bronze indicators, which a Silver application's gap
        counts from: its latest Bronze round, or a Silver round awarded since (DOMAIN.md: Silver is a second
        Bronze benchmarking), at Silver or at Bronze, whose label then replaced the Bronze one. A Silver round
        refused or withdrawn earned nothing, and leaves the gap counting from the round before."""
        rounds = [r for r in self.rounds if r["level"] == Level.BRONZE or _awarded_silver_round(r)]
        return rounds[-1]["benchmarked_at"] if rounds else None

    def experts_to_rotate(self, renewed_case_id: UUID | None = None) -> list[UUID]:
        """Who audited the cluster's previous round and, for a renewal, the round that earned the label it renews
        (`renewed_case_id`; a later round at another level may have come between): the rotation keeps them off
        the new case's team (DOMAIN.md, impartiality: familiarity)."""
        rounds = [*self.rounds[-1:], *(r for r in self.rounds if renewed_case_id and r["case_id"] == renewed_case_id)]
        return list(dict.fromkeys(expert_id for r in rounds for expert_id in r["expert_ids"]))

    def grant_label(self, label_id: UUID, level: Level, supersedes: UUID | None, actor: str, command_key: str) -> None:
        held = self.current_labels.get(level)
        if held is not None and held != supersedes:
            raise StepNotAllowed(f"cluster {self.name!r} already holds a {level} label; renew it instead")
        if supersedes is not None and supersedes != held:  # a renewal decided at another level (a downgrade)
            self.release_label(supersedes, actor, command_key)  # the renewed label no longer counts
        self._label_granted(label_id=label_id, level=level.value, actor=actor, command_key=command_key)

    @event("LabelGranted")
    def _label_granted(self, label_id: UUID, level: str, actor: str, command_key: str) -> None:
        self.current_labels[Level(level)] = label_id

    def release_label(self, label_id: UUID, actor: str, command_key: str) -> None:
        """The label no longer counts (lapsed, withdrawn): the cluster may apply anew."""
        if label_id in self.current_labels.values():
            self._label_released(label_id=label_id, actor=actor, command_key=command_key)

    @event("LabelReleased")
    def _label_released(self, label_id: UUID, actor: str, command_key: str) -> None:
        self.current_labels = {lvl: lid for lvl, lid in self.current_labels.items() if lid != label_id}


def _awarded_silver_round(benchmarking_round: dict[str, Any]) -> bool:
    return benchmarking_round["level"] == Level.SILVER and benchmarking_round["outcome"] == CaseState.AWARDED.value
