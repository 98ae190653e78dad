"""The expert team of a certification case: the seats its level needs, which seat the next proposal
fills, and who may be proposed for it.

A team is held as each member's seat (the nationality they were proposed for; None where the
level asks for no particular one), so that a Gold team's national and foreign seats are told apart.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TypedDict
from uuid import UUID

from clusterlabel.domain.base import ImpartialityViolation, Level, StepNotAllowed
from clusterlabel.domain.expert import Assignment, Expert, Nationality

Seat = Nationality | None


def required_nationalities(level: Level) -> list[Seat]:
    """The team a level needs: Gold one national and one foreign expert, else any one."""
    if level is Level.GOLD:
        return [Nationality.NATIONAL, Nationality.FOREIGN]
    return [None]


def next_nationality(level: Level, filled: Iterable[Seat]) -> Seat:
    """The seat the next proposal fills: the first the level needs that no member holds yet."""
    seats = required_nationalities(level)
    for seat in filled:
        seats.remove(seat)
    return seats[0] if seats else None


def is_team_complete(level: Level, team: Mapping[UUID, Seat]) -> bool:
    return len(team) == len(required_nationalities(level))


def proposal_order(
    experts: Iterable[Expert], cluster_languages: Iterable[str], workload: Mapping[UUID, int]
) -> list[Expert]:
    """Whom to propose first: an expert who shares a language with the cluster (the interview is held in
    it), then the least loaded, then by name; a cluster that named no language ranks by load alone."""
    spoken = set(cluster_languages)

    def rank(expert: Expert) -> tuple[bool, int, str, str]:
        shares = bool(spoken & set(expert.profile.languages))
        return (not shares, workload.get(expert.id, 0), expert.name, str(expert.id))

    return sorted(experts, key=rank)


def check_seat_to_fill(proposed_expert_id: UUID | None, complete: bool) -> None:
    """One proposal at a time, and none once every seat is filled."""
    if proposed_expert_id is not None:
        raise StepNotAllowed(f"expert {proposed_expert_id} has not answered the current proposal yet")
    if complete:
        raise StepNotAllowed("the expert team is already complete")


class Proposal(TypedDict):
    """What a case records of a proposal (the ExpertProposed event's fields the rules work out)."""

    expert_id: UUID
    nationality: str | None
    response_due: datetime


def propose(expert: Expert, assignment: Assignment, response_due: datetime) -> Proposal:
    """Refuse an expert who may not take the assignment's seat; else the proposal that asks them to."""
    expert.check_eligible(assignment)
    nationality = assignment.nationality.value if assignment.nationality else None
    return Proposal(expert_id=expert.id, nationality=nationality, response_due=response_due)


def check_response_overdue(response_due: datetime, at: datetime) -> None:
    """A proposal times out only once the expert's time to answer has run out."""
    if at < response_due:
        raise StepNotAllowed(f"the expert may answer until {response_due:%Y-%m-%d %H:%M:%S} UTC")


def check_on_team(expert_id: UUID, team: Mapping[UUID, Seat]) -> None:
    """Only an expert of the case's own team speaks for its audit."""
    if expert_id not in team:
        raise ImpartialityViolation(f"expert {expert_id} is not assigned to this case")
