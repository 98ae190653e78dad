"""The registrations' HTTP bodies out: clusters and experts, with their waivers, reviews, qualifications,
trainings, affiliations and declarations (the rules for every response body: interfaces/web/schemas.py)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import Field

from clusterlabel.domain.base import Level
from clusterlabel.interfaces.web.schemas import Out


class ClusterCreated(Out):
    cluster_id: UUID


class ExpertCreated(Out):
    expert_id: UUID
    token: str = Field(description="a personal API token of the expert's account; shown once, only its hash is kept")
    account_id: UUID = Field(description="the expert's account")


class WaiverOut(Out):
    criterion: str
    reason: str
    granted_by: str = Field(description="the officer who granted it")
    at: datetime


class ReviewOut(Out):
    criteria: list[str] = Field(description="the eligibility criteria the profile change broke")
    label_ids: list[UUID] = Field(description="the labels the cluster held when it was opened")
    opened_at: datetime


class ClusterOut(Out):
    cluster_id: UUID
    name: str
    country: str
    sector: str
    website: str
    members: int
    member_types: list[str]
    staff_fte: float
    eccp_listed: bool
    # Every field of the profile, so that a profile read, changed and sent back (PUT …/profile) keeps them.
    english_website: bool = True
    address: str | None = Field(default=None, description="postal address, one line, printed on the certificate")
    languages: list[str] = Field(default=[], description="the languages the cluster works in (ISO 639-1)")
    open_cases: list[UUID]
    labels: dict[str, UUID]
    waivers: list[WaiverOut] = Field(default=[], description="eligibility criteria waived, each standing in for one")
    review: ReviewOut | None = Field(
        default=None, description="the eligibility review a profile change opened, while the secretariat has it open"
    )


class AffiliationOut(Out):
    cluster_id: UUID
    since: datetime | None = None
    until: datetime | None = None


class DeclarationOut(Out):
    case_id: UUID
    cluster_id: UUID
    declared_at: datetime


class QualificationOut(Out):
    level: Level
    until: datetime
    revoked_at: datetime | None = None


class TrainingOut(Out):
    level: Level
    training: str
    trained_on: datetime
    until: datetime


class ExpertOut(Out):
    expert_id: UUID
    name: str
    country: str
    languages: list[str]
    certified_until: datetime
    revoked_at: datetime | None = Field(default=None, description="when the certification was revoked, if it was")
    affiliations: list[UUID]
    affiliation_periods: list[AffiliationOut] = Field(
        default=[], description="each declared affiliation with its period (no dates: ongoing, excludes for good)"
    )
    no_conflict_declared: list[DeclarationOut] = Field(
        default=[], description="the cases on which the expert declared no conflict of interest when accepting"
    )
    qualifications: list[QualificationOut] = Field(default=[], description="one per level the expert was qualified for")
    trainings: list[TrainingOut] = Field(
        default=[], description="the trainings that granted or renewed one, oldest first"
    )
