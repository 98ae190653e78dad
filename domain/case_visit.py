"""The audit's interview or visit: when it is held, how, where and for how long, and that it took place.

The rules are pure functions on what the case knows (its audit deadline, the team's certifications, the
agreement's mode); the steps that record them are AuditVisitSteps, inherited by CertificationCase
(domain/certification_case.py), whose events (AuditScheduled, AuditHeld) they record. The month in which
the audit took place is where a label's calendar validity starts (Policy.label_validity_from).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Protocol
from uuid import UUID

from clusterlabel.domain import case_assessment, case_team
from clusterlabel.domain.base import InvalidInput, Level, StepNotAllowed
from clusterlabel.domain.case_lifecycle import CaseKind
from clusterlabel.domain.case_queries import CaseQueries
from clusterlabel.domain.command_base import Envelope
from clusterlabel.domain.durations import Duration
from clusterlabel.domain.fees import AuditMode, check_mode_offered
from clusterlabel.domain.label_lifecycle import check_held_for_renewal
from clusterlabel.domain.policy import Policy


class CertifiedExpert(Protocol):
    """What the visit asks of a team expert's record (domain/expert.py, Expert)."""

    @property
    def name(self) -> str: ...

    def is_qualified_at(self, level: Level, at: datetime) -> bool: ...


def visit_mode(level: Level, agreed: AuditMode | None, asked: AuditMode | None) -> AuditMode:
    """The agreement's mode unless the scheduling names one; a mode other than the agreed one is refused,
    because the cluster agreed to (and its invoice priced) the audit held that way. An agreement recorded
    before the case kept its mode allows any mode the price list offers for the level."""
    if agreed is not None and asked is not None and asked is not agreed:
        raise InvalidInput(f"the cluster agreed to an audit {_by(agreed)}: it cannot be held {_by(asked)}")
    mode = asked or agreed or AuditMode.ON_SITE
    check_mode_offered(level, mode)
    return mode


def _by(mode: AuditMode) -> str:
    return "on site" if mode is AuditMode.ON_SITE else "by video"


def check_visit_date(
    audit_date: datetime, audit_due: datetime | None, experts: Iterable[CertifiedExpert], level: Level
) -> None:
    """Before the audit deadline, and on a day every team expert still holds a qualification for the case's
    level (ISO/IEC 17065 §6.1)."""
    if audit_due is not None and audit_date >= audit_due:
        raise InvalidInput(f"the audit must be held before its deadline of {audit_due:%Y-%m-%d %H:%M} UTC")
    check_team_qualified(audit_date, experts, level)


def check_team_qualified(day: datetime, experts: Iterable[CertifiedExpert], level: Level) -> None:
    """Every team expert holds a qualification for the case's level on the audit's day: DOMAIN.md, an expert
    never audits while their own certification has lapsed."""
    uncertified = sorted(expert.name for expert in experts if not expert.is_qualified_at(level, day))
    if uncertified:
        names = ", ".join(uncertified)
        raise InvalidInput(f"on {day:%Y-%m-%d} the {level} certification of {names} is no longer valid")


# DOMAIN.md (the Gold process): a two-day visit, one day for a renewal.
GOLD_RENEWAL_VISIT = "P1D"


def visit_duration(level: Level, kind: CaseKind, duration: str | None) -> str | None:
    """The visit's duration as scheduled: a Gold renewal's visit is one day (by default, and at most)."""
    if level is not Level.GOLD or kind is not CaseKind.RENEWAL:
        return duration
    longest = Duration.parse(GOLD_RENEWAL_VISIT).approximate_seconds()
    if duration is not None and Duration.parse(duration).approximate_seconds() > longest:
        raise InvalidInput(f"a Gold renewal is a one-day visit: its duration cannot be {duration}")
    return duration or GOLD_RENEWAL_VISIT


def check_place(mode: AuditMode, place: str) -> None:
    if mode is AuditMode.ON_SITE and not place:
        raise InvalidInput("an audit on site needs its place")


def check_held_on(held_on: datetime, agreed_at: datetime | None, at: datetime) -> None:
    """The audit took place on or after the day the cluster agreed to its experts, and not in the future."""
    if held_on > at:
        raise InvalidInput(f"the audit cannot be recorded as held on {held_on:%Y-%m-%d}: that is still ahead")
    check_not_before_agreement(held_on, agreed_at, "have been held")


def check_not_before_agreement(day: datetime, agreed_at: datetime | None, verb: str) -> None:
    """An audit follows the cluster's agreement to its experts. A date scheduled before it would count as
    held at once (check_audit_taken_place), and a label would count its validity from it: a year mistyped
    would issue a label expired from the start. Days, not instants, are compared: an interview held the day
    the cluster agreed is real (its time of day, often midnight in the form, must not read as "before")."""
    if agreed_at is not None and day.date() < agreed_at.date():
        raise InvalidInput(
            f"the audit cannot {verb} on {day:%Y-%m-%d}, before the cluster agreed on {agreed_at:%Y-%m-%d}"
        )


def check_audit_taken_place(audit_date: datetime | None, held_on: datetime | None, at: datetime) -> None:
    """The assessment comes after the audit. A scheduled date already past counts as held (cases scheduled
    before holdings were recorded); a case with no audit scheduled is assessed as it always was."""
    if held_on is None and audit_date is not None and audit_date > at:
        raise StepNotAllowed(
            f"cannot submit the assessment: the audit scheduled for {audit_date:%Y-%m-%d} has not been held yet"
        )


def audited_at(audit_date: datetime | None, held_on: datetime | None, assessed_at: datetime) -> datetime:
    """The instant whose month a label's calendar validity starts from: the audit as it took place (its
    recorded holding, else its scheduled date once past), or the assessment for a case with no audit date."""
    if held_on is not None:
        return held_on
    if audit_date is not None and audit_date <= assessed_at:
        return audit_date
    return assessed_at


class AuditVisitSteps(CaseQueries):
    """Scheduling the audit and recording that it was held; CertificationCase records their events."""

    _audit_scheduled: Callable[..., None]
    _audit_held: Callable[..., None]

    @property
    def audit_month_of(self) -> datetime:
        """Where an assessed case's label validity counts from: the audit as it took place."""
        assert self.assessed_at is not None, "asked of an assessed case"
        return audited_at(self.audit_date, self.audit_held_on, self.assessed_at)

    def schedule_audit(
        self,
        audit_date: datetime,
        actor: str,
        command_key: str,
        *,
        experts: Iterable[CertifiedExpert] = (),
        mode: AuditMode | None = None,
        place: str = "",
        duration: str | None = None,
        silver_gap: tuple[datetime, Policy] | None = None,
    ) -> None:
        """Set (or move) the date of the audit; `experts` are the team's records, each certified on that date;
        `silver_gap` a Silver case's Bronze round and the policy: its interview keeps the gap (domain/silver.py)."""
        self.check_step("schedule_audit")
        self._check_not_held("schedule the audit")
        chosen = visit_mode(self.level, self.agreed_audit_mode, mode)
        check_place(chosen, place)
        check_not_before_agreement(audit_date, self.agreed_at, "be scheduled")
        check_visit_date(audit_date, self.deadlines.get("audit"), experts, self.level)
        if silver_gap is not None:
            case_assessment.check_silver_gap("", silver_gap[0], silver_gap[1], audit_date, "interview")
        visit = {"mode": chosen.value, "place": place, "duration": visit_duration(self.level, self.kind, duration)}
        self._audit_scheduled(audit_date=audit_date, **visit, actor=actor, command_key=command_key)

    def record_audit_held(
        self,
        expert_id: UUID | None,
        held_on: datetime | None,
        env: Envelope,
        renew_by: datetime | None = None,
        experts: Iterable[CertifiedExpert] = (),
    ) -> None:
        """A team expert (or an officer for the team: `expert_id` None) records that the audit took place,
        on its scheduled date unless `held_on` says otherwise, a day every team expert (`experts`) was
        certified for the level; a renewal's by `renew_by` (its label's `renewable_until`: DOMAIN.md,
        re-benchmarked no later than one year after expiry)."""
        self.check_step("record_audit_held")
        if expert_id is not None:
            case_team.check_on_team(expert_id, self.team)
        self._check_not_held("record the audit as held")
        if self.audit_date is None:
            raise StepNotAllowed("cannot record the audit as held: no audit is scheduled")
        day = held_on or self.audit_date
        at, actor, command_key = env.when()
        check_held_on(day, self.agreed_at, at)
        check_team_qualified(day, experts, self.level)
        if renew_by is not None:
            check_held_for_renewal(day, renew_by)
        self._audit_held(expert_id=expert_id, held_on=day, at=at, actor=actor, command_key=command_key)

    def _check_not_held(self, verb: str) -> None:
        if self.audit_held_on is not None:
            raise StepNotAllowed(f"cannot {verb}: the audit was held on {self.audit_held_on:%Y-%m-%d}")
