"""An expert's qualifications: one per label level (Bronze, Silver, Gold), each with its own validity,
and the trainings that granted or renewed them (ISO/IEC 17065 §6.1.2: the body keeps a record of each
person's competence, its criteria and when it was last confirmed).

Experts registered before qualifications were kept per level hold one certification: it reads as a
qualification for every level (`ALL_LEVELS`), because the engine then let them work at any level, so
that their stored history replays with the rights it had. A registration may name fewer levels.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TypedDict

from clusterlabel.domain.base import Level, StepNotAllowed
from clusterlabel.domain.label_lifecycle import last_valid_day

ALL_LEVELS = (Level.BRONZE, Level.SILVER, Level.GOLD)


@dataclass(frozen=True)
class Qualification:
    """What an expert may do at one level until `until`, unless it was revoked."""

    level: Level
    until: datetime
    revoked_at: datetime | None = None

    def is_valid_at(self, at: datetime) -> bool:
        """A revocation stands whenever asked: a revoked qualification counts for no instant, so that a
        date chosen in the past cannot bring it back (its holder's earlier work stays on record)."""
        return self.revoked_at is None and at < self.until

    def revoked(self, at: datetime) -> Qualification:
        return self if self.revoked_at is not None else Qualification(self.level, self.until, at)


class Training(TypedDict):
    """The training or recertification that granted or renewed a qualification: what, when, until."""

    level: str
    training: str
    trained_on: datetime
    until: datetime


Qualifications = Mapping[Level, Qualification]


def check_qualified(name: str, qualifications: Qualifications, level: Level, at: datetime, step: str) -> None:
    """Refuse a step to an expert without a valid qualification for the level at `at`, naming it."""
    held = qualifications.get(level)
    if held is None:
        raise StepNotAllowed(f"{name} holds no {level} expert certification: they cannot {step}")
    if held.revoked_at is not None:
        raise StepNotAllowed(
            f"{name}'s {level} expert certification was revoked on {held.revoked_at:%Y-%m-%d}: "
            f"they can no longer {step}"
        )
    if at >= held.until:  # `until` is the first instant past it: the refusal names its last day
        raise StepNotAllowed(
            f"{name}'s {level} expert certification ended on {last_valid_day(held.until):%Y-%m-%d}: "
            f"they can no longer {step} until it is renewed"
        )


def unqualified_reason(name: str, qualifications: Qualifications, level: Level, at: datetime) -> str | None:
    """Why the expert may not be proposed for a case at `level`, or None when they may."""
    held = qualifications.get(level)
    if held is None:
        return f"{name} holds no {level} expert certification"
    if not held.is_valid_at(at):
        return f"{name}'s {level} expert certification has lapsed"
    return None
