"""The HTTP contract's bodies: what requests carry in and what responses carry out.

Every request model forbids unknown fields and bounds its strings and lists, so that a bad body is a 422
naming each offending field, never a 500 or a silently ignored typo. Domain profiles (ClusterProfile,
ExpertProfile) are the request bodies of the registrations themselves: one definition of the rules.
Every instant a request carries is a domain `Instant` (aware, 1970..2200, kept in UTC). Instants in
responses stay plain `datetime`: they come from the record, and a record kept before that rule must
still be readable rather than fail the response's own validation.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, Self
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from clusterlabel.domain.base import Level
from clusterlabel.domain.case_lifecycle import CaseKind, CaseState
from clusterlabel.domain.label_lifecycle import LabelState
from clusterlabel.projections.expiry_calendar import CalendarEntry
from clusterlabel.projections.parked import ParkedView
from clusterlabel.projections.registry import RegistryEntry
from clusterlabel.projections.statistics import StatisticsRow
from clusterlabel.workflows.reconciler import ReconcileStatus


class Out(BaseModel):
    model_config = ConfigDict(extra="ignore")

    @classmethod
    def read_from(cls, source: object, **given: Any) -> Self:
        """This answer with the values `given`, and every other field that `source` has an attribute of that
        name for read from it (the rest keep their defaults)."""
        read = {name: getattr(source, name) for name in cls.model_fields if name not in given and hasattr(source, name)}
        return cls(**read, **given)


# ---- errors ------------------------------------------------------------------------------


class ErrorMessage(Out):
    """Every refusal other than invalid input: 401, 403, 404, 409, 413, 503."""

    detail: str


class Problem(Out):
    loc: list[str | int] = Field(description="where the problem is, e.g. ['body', 'indicators', 3, 'score']")
    msg: str
    type: str


class InvalidInputError(Out):
    """422: one entry per problem, each naming the offending field when there is one."""

    detail: list[Problem]


# ---- cases ---------------------------------------------------------------------------


class CaseCreated(Out):
    case_id: UUID


class VisitOut(Out):
    """The audit's interview or visit: null mode and duration for one scheduled before they were recorded."""

    audit_date: datetime
    mode: Literal["on_site", "video"] | None
    place: str
    duration: str | None = Field(description="PT1H to PT24H, or P1D to P5D")
    held_on: datetime | None = Field(description="the day the audit took place, once a team expert recorded it")


class ImprovementAreaOut(Out):
    area: str = Field(description="the Gold indicator code")
    actions: str
    evidence: str


class CaseOut(Out):
    case_id: UUID
    cluster_id: UUID
    kind: CaseKind
    level: Level
    state: CaseState
    catalogue_version: str
    expert_ids: list[UUID]
    proposed_expert_id: UUID | None
    recommended_level: Level | None
    label_id: UUID | None
    deadlines: dict[str, datetime]
    needs_attention: bool
    attention: list[str]
    submitted_at: datetime
    version: int
    assessment_version: int = Field(default=0, description="a team's assessment: the version awaiting signatures")
    signed_by: list[UUID] = Field(default=[], description="the team experts who signed the current assessment")
    visit: VisitOut | None = Field(default=None, description="the audit's interview or visit, once scheduled")
    appeal_lodged: bool = Field(default=False, description="an appeal against its decision or rejection was lodged")
    appeal_upheld: bool | None = Field(default=None, description="the appeals panel's answer; none while pending")
    concluded: bool = Field(
        default=False, description="decided for good: no appeal is pending and none can be lodged any more"
    )
    no_conflict_declared: dict[UUID, datetime] = Field(
        default={},
        description="each team expert who declared no conflict of interest with the cluster on accepting the case, "
        "and when (an expert who accepted without declaring is not listed)",
    )
    improvement_areas: list[str] = Field(default=[], description="Silver: the Gold indicator codes of its three areas")
    improvement_descriptions: list[ImprovementAreaOut] = Field(default=[], description="Silver: on ESCA's form")
    silver_validation: dict[str, Any] | None = Field(
        default=None,
        description="Silver: the on-site validation: baseline_version, criteria_version, areas {code: {validated, "
        "finding}}, requirements {code: {met, finding}}, recommendations, holds (every one passed)",
    )


class CaseFilters(BaseModel):
    """Which cases to list (query parameters); an expert sees only their own."""

    state: CaseState | None = None
    cluster_id: UUID | None = None
    expert_id: UUID | None = None
    overdue: bool = False
    needs_attention: bool = False
    limit: int = Field(default=100, ge=1, le=1000)
    offset: int = Field(default=0, ge=0, le=1_000_000)


class CaseSummary(Out):
    case_id: UUID
    cluster_id: UUID
    cluster_name: str | None
    kind: str
    level: str
    state: CaseState
    expert_ids: list[UUID]
    proposed_expert_id: UUID | None
    label_id: UUID | None
    signed_by: list[UUID] = []
    deadlines: dict[str, datetime]
    current_deadline: str | None
    due_at: datetime | None
    overdue: bool
    needs_attention: bool
    submitted_at: datetime


class HistoryEvent(Out):
    """One event of a history, read from the audit view's entry (AuditEntry) by these names."""

    seq: int
    type: str = Field(validation_alias="event_type")
    aggregate: str = Field(validation_alias="aggregate_type")
    aggregate_id: UUID
    version: int
    at: datetime = Field(validation_alias="effective_at")
    recorded_at: datetime
    actor: str | None
    data: dict[str, Any]


class History(Out):
    events: list[HistoryEvent]


class IndicatorOut(Out):
    code: str
    area: str
    title: str
    max_score: int
    threshold: int | None
    catalogue_version: str = Field(description="the catalogue the indicator belongs to: the one a new assessment uses")


class IndicatorBenchmarkOut(Out):
    indicator: str
    score: int
    peer_count: int
    peer_median: float | None
    percentile: float | None


class BenchmarkOut(Out):
    case_id: UUID
    cluster_id: UUID
    catalogue_version: str
    assessed_at: datetime
    indicators: list[IndicatorBenchmarkOut]


# ---- labels -----------------------------------------------------------------------------


class LabelAppealOut(Out):
    against: Literal["suspended", "withdrawn"]
    grounds: str
    lodged_at: datetime
    upheld: bool | None = Field(description="none while the appeals panel has not decided")
    rationale: str


class LabelOut(Out):
    label_id: UUID
    label_code: str
    cluster_id: UUID
    cluster_name: str
    country: str
    level: Level
    state: LabelState = Field(
        description=(
            "as of now: a label past its validity is expired, and past its renewal window (no renewal running) "
            "lapsed, even before its timer records it"
        )
    )
    since: datetime
    case_id: UUID | None = Field(
        description="the case that awarded it; none for a label imported from before the engine"
    )
    imported_from: str | None = Field(default=None, description="where an imported label came from")
    catalogue_version: str
    expert_ids: list[UUID]
    decided_at: datetime
    valid_from: datetime
    valid_until: datetime
    renewable_until: datetime
    supersedes: UUID | None
    superseded_by: UUID | None
    renewal_case_id: UUID | None
    verification_code: str | None = Field(
        default=None, description="to the secretariat and the label's own cluster only"
    )
    appeal: LabelAppealOut | None = Field(default=None, description="against its suspension or withdrawal")
    appeal_due: datetime | None = Field(
        default=None, description="while suspended or withdrawn: until when the decision may be appealed"
    )


class RegistryEntryOut(RegistryEntry):
    """A label in the public registry, with its status as of now."""


class VerificationOut(Out):
    label_code: str
    status: Literal["valid", "expired", "suspended", "withdrawn", "superseded", "lapsed", "unknown"]
    since: datetime | None
    level: str | None
    cluster: str | None
    valid_until: datetime | None
    superseded_by: str | None = None
    imported_from: str | None = Field(default=None, description="a label awarded before this registry: its source")


class StatisticsRowOut(StatisticsRow):
    """One group of the statistics: the dimensions counted by (the others null) and the counts."""


class StatisticsOut(Out):
    by: list[str] = Field(description="the dimensions counted by, as asked")
    as_of: datetime = Field(description="labels_in_force counts the labels valid at this instant")
    rows: list[StatisticsRowOut]


class CalendarEntryOut(CalendarEntry):
    """A label whose validity or renewal window ends soon; `due` is when."""


class ExpiringOut(Out):
    within: str
    expiring: list[CalendarEntryOut]
    renewal_windows_closing: list[CalendarEntryOut]
    overdue_cases: list[CaseSummary]


class WorkloadOut(Out):
    expert_id: UUID
    open_assignments: int
    cases: list[CaseSummary]


class ParkedViewOut(ParkedView):
    """A view stopped on the event it cannot apply; `clusterlabel projections rebuild --views NAME`
    un-parks it once the cause is mended."""


class ReconcileStatusOut(ReconcileStatus):
    """The last scheduled reconciliation: workflows it started for open records that had none, and
    workflows that need an operator (README: "When a workflow needs an operator"); or why there is none."""


class DashboardOut(Out):
    states: dict[str, int]
    overdue: int
    needs_attention: int
    labels: dict[str, int]
    projection_lag: dict[str, int]
    parked_views: list[ParkedViewOut] = []
    failed_deliveries: int = Field(
        default=0, description="messages every try failed for (GET /notifications?status=failed)"
    )
    reconciliation: ReconcileStatusOut | None = None
    complaints: dict[str, int] = Field(default={}, description="complaints per state (GET /complaints)")
    overdue_complaints: int = Field(default=0, description="complaints past the deadline of their current step")


class Health(Out):
    status: Literal["ok", "starting", "unavailable"]
    checks: dict[str, Literal["ok", "not ready"]] = Field(
        description="each part: ok or not ready (why is in the server's log)"
    )
    parked_views: list[str] = Field(
        default_factory=list,
        description="views stopped on an event they cannot apply (every other view keeps current); "
        "the event and the error are on the secretariat's dashboard",
    )
    failed_deliveries: int = Field(default=0, description="messages every try failed for; an officer may retry them")
