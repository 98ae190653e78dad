"""Who may decide a certification case or its appeal, and what every decision must state.

ISO/IEC 17021-1 and 17065: the certification decision is taken by someone not involved in the audit
(four eyes), an appeal is handled by someone other than whoever took the appealed decision, and every
decision is recorded with its reasons (DOMAIN.md, "Impartiality and decisions").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from clusterlabel.domain.base import ImpartialityViolation, InvalidInput, Level, StepNotAllowed


def require_reason(text: str, refusal: str) -> None:
    """Refuse a blank reason, rationale or grounds: the record must say why the step was taken."""
    if not text.strip():
        raise InvalidInput(refusal)


def check_not_auditor(person: str, person_expert_ids: Iterable[UUID], team: Iterable[UUID], role: str) -> None:
    """An expert of the audit team cannot judge its outcome: whether the person is named by the expert's
    id, as `expert:<id>`, or by an account that speaks or ever spoke for that expert (`person_expert_ids`)."""
    members = set(team)
    auditors = {name for expert_id in members for name in (str(expert_id), f"expert:{expert_id}")}
    if person in auditors or members & set(person_expert_ids):
        raise ImpartialityViolation(f"{person} took part in the audit and cannot {role}")


@dataclass(frozen=True)
class DecidedApart:
    """Who takes a decision on a label and whom the four-eyes rule keeps from it: the expert records the
    deciding account speaks or spoke for, and the label's auditors (its case's evaluators)."""

    decider_expert_ids: frozenset[UUID] = frozenset()
    auditors: frozenset[UUID] = frozenset()

    def check(self, person: str, role: str) -> None:
        check_not_auditor(person, self.decider_expert_ids, self.auditors, role)


NOBODY = DecidedApart()  # an automatic step (a timer) or a label with no audit of its own: no one to keep apart


def check_not_appealed_decider(person: str, appealed_by: str | Iterable[str] | None, role: str) -> None:
    """Whoever took the appealed decision (or any of the decisions appealed) decides neither the appeal
    nor the case again."""
    deciders = {appealed_by} if isinstance(appealed_by, str) else set(appealed_by or ())
    if person in deciders:
        raise ImpartialityViolation(f"{person} took the appealed decision and cannot {role}")


def check_not_appellant(person: str, appeal: Mapping[str, Any] | None, role: str) -> None:
    """Whoever lodged the appeal (an officer, for the cluster) is a party to it and does not decide it."""
    if appeal is not None and appeal.get("lodged_by") == person:
        raise ImpartialityViolation(f"{person} lodged the appeal and cannot {role}")


FINAL_AFTER_APPEAL = "this decision was taken again after an upheld appeal and is final"


def check_appeal_lodgeable(appeal: Mapping[str, Any] | None, appeal_due: datetime, at: datetime, grounds: str) -> None:
    """An adverse decision may be appealed once, inside its appeal window, on stated grounds (one taken
    again after an upheld appeal is final: CaseQueries.decided_again)."""
    if appeal is not None:
        raise StepNotAllowed("an appeal against this decision has already been lodged")
    if at >= appeal_due:
        raise StepNotAllowed(f"the appeal window closed on {appeal_due:%Y-%m-%d %H:%M:%S} UTC")
    require_reason(grounds, "an appeal needs grounds")


def check_appeal_pending(appeal: Mapping[str, Any] | None) -> None:
    """Only a lodged appeal not yet decided can be decided."""
    if appeal is None or appeal["upheld"] is not None:
        raise StepNotAllowed("there is no pending appeal on this case")


def is_refusal_final(appeal: Mapping[str, Any] | None, appeal_due: datetime, at: datetime) -> bool:
    """An adverse decision stands for good once its appeal is decided (dismissed, or upheld and the case
    decided again), or once the window closed without one."""
    if appeal is None:
        return at >= appeal_due
    # Dismissed; or upheld, and this is the decision taken again after it (an upheld appeal leaves the
    # appealable state, so a case back in one was decided again).
    return appeal.get("upheld") is not None


def check_not_worse_after_appeal(
    appeal: Mapping[str, Any] | None, appealed_level: Level, outcome: str, level: Level
) -> None:
    """After an upheld appeal against an award below the level applied for, the new decision leaves the
    cluster no worse off (the cluster appealed, not the secretariat): an award at the appealed level or above.
    A benchmark outcome (an eligibility criterion lapsed meanwhile) is a fact, not the decider's choice."""
    if appeal is None or appeal.get("against") != "awarded" or outcome == "benchmark":
        return
    if outcome != "award" or level.rank < appealed_level.rank:
        raise InvalidInput(
            f"the appeal against the award of {appealed_level.value} was upheld: the new decision must award "
            f"{appealed_level.value} or a higher level"
        )
