"""A cluster management label: issued, reminded, expired, renewed, suspended, withdrawn, appealed (its
states and the steps each allows: domain/label_lifecycle.py; the appeal's rules: domain/label_appeal.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from clusterlabel.domain.base import InvalidInput, Level, RecordedAggregate, StepNotAllowed
from clusterlabel.domain.case_decision import NOBODY, DecidedApart
from clusterlabel.domain.label_appeal import LabelAppealSteps
from clusterlabel.domain.label_code import label_code_for, label_id_for
from clusterlabel.domain.label_lifecycle import (
    BACK_IN_FORCE,
    LABEL_STEPS,
    LabelState,
    RenewalWindow,
    check_label_step,
    check_renewal_window,
    label_state_after,
    label_status_at,
    renewal_window_end,
)
from clusterlabel.domain.policy import Policy

__all__ = ["Label", "label_code_for", "label_id_for"]  # the codes are made in domain/label_code.py


class Label(LabelAppealSteps, RecordedAggregate):
    """The label a cluster holds after an awarded case."""

    @staticmethod
    def create_id(label_code: str) -> UUID:
        return label_id_for(label_code)

    class Issued(RecordedAggregate.Created):
        """Version 2 adds `imported_from`: the source of a label awarded before the engine existed (an
        import, which has no case: `case_id` None). Every label stored before was issued by the engine."""

        class_version = 2
        label_code: str
        verification_code: str
        cluster_id: UUID
        cluster_name: str
        country: str
        case_id: UUID | None
        level: str
        catalogue_version: str
        expert_ids: list[UUID]
        decided_at: datetime
        valid_from: datetime
        valid_until: datetime
        renewable_until: datetime
        supersedes: UUID | None
        actor: str
        command_key: str
        imported_from: str | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["imported_from"] = None

    @event(Issued)
    def __init__(
        self,
        label_code: str,
        verification_code: str,
        cluster_id: UUID,
        cluster_name: str,
        country: str,
        case_id: UUID | None,
        level: str,
        catalogue_version: str,
        expert_ids: list[UUID],
        decided_at: datetime,
        valid_from: datetime,
        valid_until: datetime,
        renewable_until: datetime,
        supersedes: UUID | None,
        actor: str,
        command_key: str,
        imported_from: str | None = None,
    ) -> None:
        self.label_code = label_code
        self.verification_code = verification_code
        self.cluster_id = cluster_id
        self.cluster_name = cluster_name
        self.country = country
        self.case_id = case_id
        self.level = Level(level)
        self.catalogue_version = catalogue_version
        self.expert_ids = list(expert_ids)
        self.decided_at = decided_at
        self.valid_from = valid_from
        self.valid_until = valid_until
        self.renewable_until = renewable_until
        self.supersedes = supersedes
        # Where a label awarded before the engine came from (an import); None if the engine issued it (case_id).
        self.imported_from = imported_from
        self.superseded_by: UUID | None = None
        self.state = LabelState.ACTIVE
        self.state_since = valid_from
        self.reminders_sent: list[str] = []
        self.renewal_case_id: UUID | None = None
        self.held_until: datetime | None = None  # see RenewalWindow.held_until
        self.suspended_until: datetime | None = None
        self.reason: str | None = None
        self.appeal: dict[str, Any] | None = None
        self.adverse_by: list[str] = []

    @classmethod
    def issue(
        cls,
        *,
        case: Any,
        cluster: Any,
        verification_code: str,
        policy: Policy,
        supersedes: Label | None,
        actor: str,
        command_key: str,
        replacing: UUID | None = None,
    ) -> Label:
        """The label of an awarded case, valid for the policy's validity from the month of its audit."""
        if case.decision is None or case.decision["outcome"] != "award":
            raise StepNotAllowed("a label is issued only for an awarded case")
        level = Level(case.decision["level"])
        valid_from, valid_until = policy.label_validity_from(case.audit_month_of, case.decision["at"])
        return cls(
            label_code=label_code_for(case.id, level, replacing),
            verification_code=verification_code,
            cluster_id=cluster.id,
            cluster_name=cluster.name,
            country=cluster.country,
            case_id=case.id,
            level=level.value,
            catalogue_version=case.catalogue_version,
            expert_ids=case.expert_ids,
            decided_at=case.decision["at"],
            valid_from=valid_from,
            valid_until=valid_until,
            renewable_until=renewal_window_end(policy.renewal_window, valid_until),
            supersedes=supersedes.id if supersedes else None,
            actor=actor,
            command_key=command_key,
        )

    # ---- views -------------------------------------------------------------------

    def status_at(self, at: datetime) -> tuple[LabelState, datetime]:
        """Its status at `at` and since when (see label_status_at)."""
        return label_status_at(self.state, self.state_since, self.valid_until, at, RenewalWindow.of(self))

    def is_valid_at(self, at: datetime) -> bool:
        return self.valid_from <= at and self.status_at(at)[0] is LabelState.ACTIVE

    def check_step(self, step: str, at: datetime | None = None) -> None:
        """`at`: judged on the label's status then, as the public reads it, its timers fired or not (a label past
        its date is expired: no suspension; past its window lapsed: no withdrawal)."""
        check_label_step(step, self._judged_state(at), self.label_code)

    def allows(self, step: str, at: datetime | None = None) -> bool:
        """Whether the label allows the step (LABEL_STEPS), as check_step would find."""
        return self._judged_state(at) in LABEL_STEPS[step][0]

    def _judged_state(self, at: datetime | None) -> LabelState:
        return self.state if at is None else self.status_at(at)[0]

    @property
    def may_be_superseded(self) -> bool:
        """A label still standing is superseded by its renewal's label. One withdrawn while its renewal ran stays
        withdrawn: the renewal's label stands on its own (benchmarked and decided knowing of the withdrawal)."""
        return self.state in LABEL_STEPS["supersede"][0]

    # ---- expiry ------------------------------------------------------------------

    def send_expiry_reminder(self, offset: str, at: datetime, actor: str, command_key: str) -> None:
        self.check_step("send_expiry_reminder")
        if offset in self.reminders_sent:
            raise StepNotAllowed(f"the {offset} reminder for label {self.label_code} was already sent")
        self._expiry_reminder_sent(offset=offset, at=at, actor=actor, command_key=command_key)

    @event("ExpiryReminderSent")
    def _expiry_reminder_sent(self, offset: str, at: datetime, actor: str, command_key: str) -> None:
        self.reminders_sent.append(offset)

    def expire(self, at: datetime, actor: str, command_key: str) -> None:
        self.check_step("expire")
        if at < self.valid_until:
            raise StepNotAllowed(f"label {self.label_code} is valid until {self.valid_until:%Y-%m-%d %H:%M:%S} UTC")
        self._expired(at=at, actor=actor, command_key=command_key)

    @event("Expired")
    def _expired(self, at: datetime, actor: str, command_key: str) -> None:
        self._follow("Expired", at)
        self.suspended_until = None

    def close_renewal_window(self, at: datetime, actor: str, command_key: str) -> None:
        self.check_step("close_renewal_window")
        if at < self.renewable_until:
            raise StepNotAllowed(
                f"label {self.label_code} is renewable until {self.renewable_until:%Y-%m-%d %H:%M:%S} UTC"
            )
        if self.renewal_case_id is not None:
            raise StepNotAllowed(f"renewal case {self.renewal_case_id} of label {self.label_code} is still open")
        self._renewal_window_closed(at=at, actor=actor, command_key=command_key)

    @event("RenewalWindowClosed")
    def _renewal_window_closed(self, at: datetime, actor: str, command_key: str) -> None:
        self._follow("RenewalWindowClosed", at)

    # ---- renewal -------------------------------------------------------------------

    def start_renewal(self, case_id: UUID, at: datetime, actor: str, command_key: str) -> None:
        self.check_renewable(at)
        self._renewal_started(case_id=case_id, at=at, actor=actor, command_key=command_key)

    def check_renewable(self, at: datetime) -> None:
        check_renewal_window(self.label_code, self.state, self.renewable_until, at)
        self.check_step("start_renewal")
        if self.renewal_case_id is not None:
            raise StepNotAllowed(f"renewal case {self.renewal_case_id} of label {self.label_code} is already open")

    def may_start_renewal(self, at: datetime) -> bool:
        """Whether a renewal would be started at `at` (the pages offer it only then)."""
        try:
            self.check_renewable(at)
        except StepNotAllowed:
            return False
        return True

    @event("RenewalStarted")
    def _renewal_started(self, case_id: UUID, at: datetime, actor: str, command_key: str) -> None:
        self.renewal_case_id = case_id

    def abandon_renewal(self, case_id: UUID, at: datetime, actor: str, command_key: str) -> None:
        """The renewal case ended without a new label."""
        if self.renewal_case_id != case_id:
            raise StepNotAllowed(f"case {case_id} is not the open renewal of label {self.label_code}")
        self._renewal_abandoned(case_id=case_id, at=at, actor=actor, command_key=command_key)

    @event("RenewalAbandoned")
    def _renewal_abandoned(self, case_id: UUID, at: datetime, actor: str, command_key: str) -> None:
        self.renewal_case_id = None
        self.held_until = at

    def supersede(
        self, new_label_id: UUID, case_id: UUID | None, at: datetime, actor: str, command_key: str, renewal: bool = True
    ) -> None:
        """`renewal` False: a later round's label at this level takes its place (a Silver case awarded Bronze)."""
        self.check_step("supersede")
        if renewal and self.renewal_case_id != case_id:
            raise StepNotAllowed(f"case {case_id} is not the open renewal of label {self.label_code}")
        self._superseded(new_label_id=new_label_id, case_id=case_id, at=at, actor=actor, command_key=command_key)

    @event("Superseded")
    def _superseded(self, new_label_id: UUID, case_id: UUID | None, at: datetime, actor: str, command_key: str) -> None:
        self.superseded_by = new_label_id
        self.renewal_case_id = None
        self._follow("Superseded", at)

    # ---- suspension and withdrawal ---------------------------------------------------

    def suspend(
        self, reason: str, at: datetime, policy: Policy, actor: str, command_key: str, *, apart: DecidedApart = NOBODY
    ) -> None:
        self.check_step("suspend", at)
        apart.check(actor, f"suspend the label {self.label_code}")
        if not reason.strip():
            raise InvalidInput("a suspension needs a reason")
        until = policy.suspension_limit.after(at)
        self._suspended(reason=reason, until=until, at=at, actor=actor, command_key=command_key)

    @event("Suspended")
    def _suspended(self, reason: str, until: datetime, at: datetime, actor: str, command_key: str) -> None:
        self.suspended_until = until
        self.reason = reason
        self._decision_taken(actor)
        self._follow("Suspended", at)

    def restore(
        self, at: datetime, actor: str, command_key: str, *, rationale: str = "", apart: DecidedApart = NOBODY
    ) -> None:
        """`rationale`: why the suspension is lifted, in the label's history and the cluster's message."""
        self.check_step("restore")
        apart.check(actor, f"restore the label {self.label_code}")
        self._restored(rationale=rationale.strip(), at=at, actor=actor, command_key=command_key)

    class Restored(RecordedAggregate.Event):
        """Version 2 adds the `rationale`; a label restored before it had one was restored without a word."""

        class_version = 2
        rationale: str
        at: datetime
        actor: str
        command_key: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["rationale"] = ""

    @event(Restored)
    def _restored(self, rationale: str, at: datetime, actor: str, command_key: str) -> None:
        self.suspended_until = None
        self.reason = None
        self._follow("Restored", at)

    def withdraw(
        self, reason: str, at: datetime, actor: str, command_key: str, *, apart: DecidedApart = NOBODY
    ) -> None:
        self.check_step("withdraw", at)
        apart.check(actor, f"withdraw the label {self.label_code}")
        if not reason.strip():
            raise InvalidInput("a withdrawal needs a reason")
        self._withdrawn(reason=reason, at=at, actor=actor, command_key=command_key)

    @event("Withdrawn")
    def _withdrawn(self, reason: str, at: datetime, actor: str, command_key: str) -> None:
        self.reason = reason
        self.suspended_until = None
        self._decision_taken(actor)
        self._follow("Withdrawn", at)

    # ---- appeals (the rules: domain/label_appeal.py) ------------------------------------------

    @event("LabelAppealLodged")
    def _label_appeal_lodged(self, against: str, grounds: str, at: datetime, actor: str, command_key: str) -> None:
        self.appeal = {"against": against, "grounds": grounds, "lodged_at": at, "lodged_by": actor, "upheld": None}

    @event("LabelAppealUpheld")
    def _label_appeal_upheld(self, rationale: str, decided_by: str, at: datetime, actor: str, command_key: str) -> None:
        self._appeal_decided(True, rationale, decided_by)
        self._follow("LabelAppealUpheld", at)

    @event("LabelAppealDismissed")
    def _label_appeal_dismissed(
        self, rationale: str, decided_by: str, at: datetime, actor: str, command_key: str
    ) -> None:
        self._appeal_decided(False, rationale, decided_by)

    def _follow(self, event_type: str, at: datetime) -> None:
        """Enter the state the event leads to, by the one table views read too."""
        state = label_state_after(event_type, at, self.valid_until)
        assert state is not None, f"{event_type} changes no label state"
        self.state, self.state_since = state, at
        self.held_until = at if event_type in BACK_IN_FORCE else self.held_until  # a suspension or withdrawal ended
        self._appeal_follows_state()
