"""A team's assessment and its signatures: a Gold team (one national, one foreign expert) speaks with
one voice, so both experts sign the one version of the assessment before the case moves to decision.

The expert who submits a version signs it by submitting it; the other signs it as it stands, or
disagrees by submitting a version of their own, which replaces it and clears the first signature
(ESCA's Gold process: a report both assessors stand behind; ISO/IEC 17065 §7.4: the evaluation is the
body's, not one assessor's). A team of one (Bronze, Silver) signs by submitting, as before.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from uuid import UUID

from clusterlabel.domain.base import ImpartialityViolation, Level, StepNotAllowed
from clusterlabel.domain.case_team import Seat, required_nationalities


def signs_as_a_team(level: Level) -> bool:
    """Whether a submitted assessment waits for the other experts' signatures: a team of several."""
    return len(required_nationalities(level)) > 1


def unsigned(team: Mapping[UUID, Seat], signed_by: Collection[UUID]) -> list[UUID]:
    """The team's experts who have yet to sign the current version."""
    return [expert_id for expert_id in team if expert_id not in signed_by]


def check_signature(
    expert_id: UUID,
    team: Mapping[UUID, Seat],
    signed_by: Collection[UUID],
    current_version: int,
    version: int | None,
) -> None:
    """Only a team expert signs, once per version, a version that awaits signatures; a signature that
    names a version signs that one only (so nobody signs a version they have not read)."""
    if expert_id not in team:
        raise ImpartialityViolation(f"expert {expert_id} is not on this case's team and cannot sign its assessment")
    if current_version == 0 or not unsigned(team, signed_by):
        raise StepNotAllowed("cannot sign the assessment: no version of it awaits signatures")
    if version is not None and version != current_version:
        raise StepNotAllowed(
            f"cannot sign version {version} of the assessment: the current version is {current_version}"
        )
    if expert_id in signed_by:
        raise StepNotAllowed(f"expert {expert_id} has already signed version {current_version} of the assessment")
