"""The certification policy as data: durations and thresholds, never literals in code."""

from __future__ import annotations

import tomllib
from datetime import datetime
from functools import lru_cache
from importlib import resources
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from clusterlabel.domain.durations import Duration, IsoDuration, start_of_month
from clusterlabel.domain.fees import FeeSchedule


class Policy(BaseModel):
    """Every rule of the lifecycle that a secretariat may tune (see policy.toml)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    label_validity: IsoDuration
    renewal_window: IsoDuration
    expiry_reminders: tuple[IsoDuration, ...]
    screening_deadline: IsoDuration
    expert_response_timeout: IsoDuration
    audit_deadline: IsoDuration
    decision_deadline: IsoDuration
    # Once the expert team is complete, the cluster agrees to it (or objects) within this; a default, so
    # that a policy file written before the agreement had a deadline still loads.
    agreement_deadline: IsoDuration = Field(default=Duration(days=21))
    deadline_reminders: tuple[IsoDuration, ...] = ()
    reminded_deadlines: frozenset[
        Literal["screening", "response", "agreement", "audit", "decision", "appeal_decision"]
    ] = frozenset({"agreement", "audit", "decision", "appeal_decision"})
    suspension_limit: IsoDuration
    appeal_window: IsoDuration
    # An appeal lodged is decided within this (reminded, and escalated when missed); a default, so that a
    # policy file written before appeals had a deadline still loads.
    appeal_decision_deadline: IsoDuration = Field(default=Duration(days=30))
    silver_min_gap: IsoDuration
    silver_max_gap: IsoDuration
    rotate_experts: bool = True
    gold_min_percentage: float = Field(default=80.0, gt=0, le=100)
    min_members: int = Field(default=15, ge=0)
    min_member_types: int = Field(default=2, ge=0)
    min_staff_fte: float = Field(default=0.5, ge=0)
    # A message's delivery: this many tries, the first retry after `delivery_backoff`, each pause twice
    # the one before (at most a hundred times the first); then it is marked failed for an officer to see.
    delivery_attempts: int = Field(default=10, ge=1, le=100)
    delivery_backoff: IsoDuration = Field(default=Duration(seconds=60))
    # A webhook's delivery: as a message's, with its own numbers (a partner's endpoint is not a mail
    # server); after `webhook_disable_after` failed deliveries in a row the webhook is disabled.
    webhook_attempts: int = Field(default=8, ge=1, le=100)
    webhook_backoff: IsoDuration = Field(default=Duration(seconds=30))
    webhook_disable_after: int = Field(default=5, ge=1, le=1000)
    # A complaint (ISO/IEC 17065 §7.13): acknowledged within the first, its outcome within the second
    # counted from the acknowledgement; both reminded (deadline_reminders) and escalated when missed.
    complaint_acknowledgement_deadline: IsoDuration = Field(default=Duration(days=7))
    complaint_investigation_deadline: IsoDuration = Field(default=Duration(days=60))
    # A benchmarking report compares a cluster with no fewer peers than this, so that no single other
    # cluster's scores can be read off it (domain/peers.py widens a smaller group or shows none).
    peer_group_minimum: int = Field(default=5, ge=1, le=1000)
    # A cluster's size band for its peer group: the band whose fewest members the cluster reaches.
    size_bands: dict[str, int] = Field(default_factory=lambda: {"small": 0, "medium": 50, "large": 150})
    # The price list (domain/fees.py), and whether the audit waits until the case's invoice is paid.
    fees: FeeSchedule
    audit_waits_for_payment: bool = False
    # An expert who worked for a cluster (a consultancy, a seat on its board) is not proposed for its cases
    # until this long after the affiliation ended (ISO/IEC 17065 §4.2: a relationship within a recent
    # period threatens impartiality); an affiliation with no end keeps them off for good.
    affiliation_cooling_off: IsoDuration = Field(default=Duration(years=3))

    def allowed_for(self, step: str) -> Duration:
        """How long a case's reminded step may take: its deadline falls this long after the step begins."""
        allowed = {
            "screening": self.screening_deadline,
            "response": self.expert_response_timeout,
            "agreement": self.agreement_deadline,
            "audit": self.audit_deadline,
            "decision": self.decision_deadline,
            "appeal_decision": self.appeal_decision_deadline,
        }
        return allowed[step]

    @field_validator("expiry_reminders", "deadline_reminders")
    @classmethod
    def _earliest_first(cls, offsets: tuple[Duration, ...]) -> tuple[Duration, ...]:
        # Reminders fire in order: the longest offset before the deadline comes first.
        return tuple(sorted(set(offsets), key=Duration.approximate_seconds, reverse=True))

    @field_validator("delivery_backoff", "webhook_backoff")
    @classmethod
    def _backoff_is_a_fixed_span(cls, backoff: Duration) -> Duration:
        # Temporal's retry intervals are fixed lengths of time; a month has none.
        if backoff.years or backoff.months or backoff.approximate_seconds() < 1:
            raise ValueError("a backoff must be at least a second, in days or less (e.g. PT1M)")
        return backoff

    @model_validator(mode="after")
    def _silver_gap_is_a_range(self) -> Policy:
        if self.silver_min_gap.approximate_seconds() > self.silver_max_gap.approximate_seconds():
            raise ValueError("silver_min_gap must not be longer than silver_max_gap")
        return self

    @classmethod
    def from_toml(cls, text: str, base: Policy | None = None) -> Policy:
        """A policy from TOML text; keys it leaves out keep the base (default) values."""
        overrides = tomllib.loads(text)
        return (base or default_policy()).with_overrides(overrides)

    def with_overrides(self, overrides: dict[str, Any]) -> Policy:
        unknown = sorted(set(overrides) - set(type(self).model_fields))
        if unknown:
            raise ValueError(f"unknown policy keys: {', '.join(unknown)}")
        current = self.model_dump(mode="json")
        # A table (`[fees]`) overrides the keys it names and keeps the others.
        merged = {
            name: {**current[name], **value} if isinstance(value, dict) and isinstance(current[name], dict) else value
            for name, value in overrides.items()
        }
        return type(self).model_validate({**current, **merged})

    def size_band(self, members: int) -> str:
        """The band of a cluster with this many members: the largest whose lower bound it reaches."""
        reached = [(bound, name) for name, bound in self.size_bands.items() if members >= bound]
        return max(reached)[1] if reached else min((bound, name) for name, bound in self.size_bands.items())[1]

    def label_validity_from(self, audited_at: datetime, decided_at: datetime) -> tuple[datetime, datetime]:
        """(valid_from, valid_until) of a label awarded at `decided_at` on an audit held at `audited_at`
        (CertificationCase.audit_month_of: the audit as it took place).

        A validity in whole months or years runs from the end of the audit's month
        (audited in March 2025, a two-year label is valid to the end of March 2027); a validity in
        days or less runs from the decision instant, so compressed policies behave.
        The label never takes effect before its decision.
        """
        base = Duration(months=1).after(start_of_month(audited_at)) if self.label_validity.is_calendar else decided_at
        return decided_at, max(self.label_validity.after(base), decided_at)


def uniform_durations(length: str, reminder: str) -> dict[str, Any]:
    """Policy overrides that make every period `length` and every reminder `reminder` before it.

    For demos, tests and benchmarks: with an hour, nothing fires by surprise while a test drives
    the steps; with seconds, a whole lifecycle runs while one watches.
    """
    periods = (
        "label_validity",
        "renewal_window",
        "screening_deadline",
        "expert_response_timeout",
        "agreement_deadline",
        "audit_deadline",
        "decision_deadline",
        "suspension_limit",
        "appeal_window",
        "appeal_decision_deadline",
        "complaint_acknowledgement_deadline",
        "complaint_investigation_deadline",
    )
    return {
        **{name: length for name in periods},
        "expiry_reminders": [reminder],
        "deadline_reminders": [reminder],
    }


@lru_cache(maxsize=1)
def default_policy() -> Policy:
    text = resources.files("clusterlabel.domain").joinpath("policy.toml").read_text(encoding="utf-8")
    return Policy.model_validate(tomllib.loads(text))
