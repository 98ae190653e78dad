"""Test data that reads like the domain: eligible clusters, certified experts, full scores."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from clusterlabel.activities.handlers import handle
from clusterlabel.activities.registrations import new_id
from clusterlabel.domain.base import RecordedAggregate
from clusterlabel.domain.baseline import current_baseline_for
from clusterlabel.domain.catalogue import Catalogue, IndicatorScore
from clusterlabel.domain.catalogue_shelf import load_catalogue
from clusterlabel.domain.cluster import ClusterProfile
from clusterlabel.domain.command_base import Command, Envelope
from clusterlabel.domain.expert import ExpertProfile
from clusterlabel.domain.silver import AreaVerdict, DescribedArea, RequirementVerdict, SilverValidation
from clusterlabel.projections.audit_history import AuditEntry

T0 = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
_keys = itertools.count(1)


def key(prefix: str = "cmd") -> str:
    """A fresh idempotency key."""
    return f"{prefix}-{next(_keys)}"


def cluster_profile(**changes: object) -> ClusterProfile:
    fields: dict[str, object] = {
        "name": "Baltic Marine Cluster",
        "country": "LT",
        "sector": "maritime",
        "website": "https://marine.example.lt",
        "members": 42,
        "member_types": ["business", "research", "public"],
        "staff_fte": 2.5,
        "eccp_listed": True,
    }
    fields.update(changes)
    return ClusterProfile.model_validate(fields)


def expert_profile(
    country: str = "DE", name: str = "Anna Expert", affiliations: list[UUID] | None = None, **changes: object
) -> ExpertProfile:
    fields: dict[str, object] = {
        "name": name,
        "country": country,
        "languages": ["en", "de"],
        "certified_until": T0 + timedelta(days=3 * 365),
        "affiliations": affiliations or [],
    }
    fields.update(changes)
    return ExpertProfile.model_validate(fields)


def full_scores(catalogue: Catalogue | str, fraction: float = 1.0) -> dict[str, int]:
    """A score on every indicator: `fraction` of its maximum, never below its threshold."""
    catalogue = load_catalogue(catalogue) if isinstance(catalogue, str) else catalogue
    return {item.code: max(round(item.max_score * fraction), item.threshold or 0) for item in catalogue.indicators}


def indicators(scores: dict[str, int], evidence: dict[str, str] | None = None) -> list[IndicatorScore]:
    """The scores as an expert submits them: one item per indicator."""
    evidence = evidence or {}
    return [IndicatorScore(code=code, score=score, evidence=evidence.get(code, "")) for code, score in scores.items()]


def envelope(actor: str = "secretariat", command_key: str | None = None, at: datetime | None = None) -> Envelope:
    """Who sends a command in a test, under a fresh key unless one is given."""
    return Envelope(actor=actor, key=command_key or key(), at=at)


def send(app: Any, subject_id: UUID, command: Command, **envelope_fields: Any) -> RecordedAggregate:
    """Run one command on the application as a caller would: `send(app, case_id, Screen(accepted=True))`."""
    return handle(app, subject_id, command, envelope(**envelope_fields))


def register(app: Any, command: Command, **envelope_fields: Any) -> UUID:
    """Register a cluster or an expert, or open an account, as the HTTP route does; the new record's id. The command addresses
    the record it creates, whose id derives from the key."""
    sent = envelope(**envelope_fields)
    return handle(app, new_id(command, sent), command, sent).id


def described_areas(codes: Sequence[str]) -> list[DescribedArea]:
    """Improvement areas on ESCA's form: each Gold indicator code with the actions taken and their evidence."""
    return [
        DescribedArea(area=code, actions=f"Worked on {code} with the members.", evidence=f"Minutes on {code}.")
        for code in codes
    ]


def silver_validation(
    areas: Sequence[str], unmet: Sequence[str] = (), rejected: Sequence[str] = ()
) -> SilverValidation:
    """A Silver case's on-site validation: every area validated and every baseline requirement met, except the
    `rejected` areas and the `unmet` requirements, each with its finding."""
    return SilverValidation(
        areas=[
            AreaVerdict(area=code, validated=code not in rejected, finding="no evidence" if code in rejected else "")
            for code in areas
        ],
        requirements=[
            RequirementVerdict(code=code, met=code not in unmet, finding="not shown on site" if code in unmet else "")
            for code in current_baseline_for(T0).codes()
        ],
        recommendations="Survey the members every year.",
    )


def audit_entry(
    seq: int, aggregate: tuple[str, UUID], event_type: str, data: dict[str, Any], actor: str, at: datetime
) -> AuditEntry:
    """An event as the audit history view holds it: the `seq`-th (and version) of the aggregate (its type, id)."""
    aggregate_type, aggregate_id = aggregate
    return AuditEntry(
        seq=seq,
        aggregate_id=aggregate_id,
        aggregate_type=aggregate_type,
        version=seq,
        event_type=event_type,
        effective_at=at,
        recorded_at=at,
        actor=actor,
        command_key=None,
        data=data,
    )
