"""Appeals against a label's suspension or withdrawal (ISO/IEC 17065 §7.13, DOMAIN.md "Complaints and
appeals"): the cluster's contact, or an officer for it, appeals inside the appeal window that opened
with the decision; the appeals panel decides, never an expert of the label's audit nor whoever took the
decision appealed against. An upheld appeal reverses the decision: the label is back in force (expired,
if its validity ran out meanwhile). A dismissed appeal leaves it as it stood.

A suspension not restored by its limit is withdrawn (domain/label.py); an appeal against the suspension
still pending then stands against the withdrawal that followed from it. A restoration, an expiry or a
supersession ends a pending appeal against the suspension: there is nothing left to reverse.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any
from uuid import UUID

from clusterlabel.domain.base import StepNotAllowed
from clusterlabel.domain.case_decision import (
    check_not_appealed_decider,
    check_not_appellant,
    check_not_auditor,
    require_reason,
)
from clusterlabel.domain.command_base import Envelope
from clusterlabel.domain.label_commands import DecideLabelAppeal, LodgeLabelAppeal
from clusterlabel.domain.label_lifecycle import APPEALABLE, FINAL, LabelState
from clusterlabel.domain.policy import Policy


class LabelAppealSteps:
    """The appeal's steps, mixed into Label (which records the attributes read here)."""

    label_code: str
    state: LabelState
    state_since: datetime
    valid_until: datetime
    expert_ids: list[UUID]
    # The pending or decided appeal against the decision the label stands under, else None.
    appeal: dict[str, Any] | None
    # Who took the decisions the label stands under (the suspension, and a withdrawal after it): they do
    # not decide its appeal.
    adverse_by: list[str]
    suspended_until: datetime | None
    reason: str | None

    def check_step(self, step: str) -> None:
        raise NotImplementedError

    _label_appeal_lodged: Callable[..., None]  # the events are Label's (domain/label.py)
    _label_appeal_upheld: Callable[..., None]
    _label_appeal_dismissed: Callable[..., None]

    def appeal_due(self, policy: Policy) -> datetime | None:
        """Until when the decision the label stands under may be appealed; None if it stands under none."""
        if self.state not in APPEALABLE:
            return None
        return policy.appeal_window.after(self.state_since)

    def appeal_window_open(self, at: datetime, policy: Policy) -> bool:
        """Whether the decision the label stands under may still be appealed at `at` (its window runs)."""
        due = self.appeal_due(policy)
        return due is not None and at < due

    @property
    def appeal_pending(self) -> bool:
        return self.appeal is not None and self.appeal["upheld"] is None

    @property
    def settled(self) -> bool:
        """Out of force for good: nothing will happen to it (its workflow ends). A withdrawn label with an
        appeal pending is not: the panel may put it back in force."""
        return self.state in FINAL and not self.appeal_pending

    def lodge_appeal(self, grounds: str, at: datetime, policy: Policy, actor: str, command_key: str) -> None:
        self.check_appeal_lodgeable(grounds, at, policy)
        self._label_appeal_lodged(
            against=self.state.value, grounds=grounds, at=at, actor=actor, command_key=command_key
        )

    def check_appeal_lodgeable(self, grounds: str, at: datetime, policy: Policy) -> None:
        self.check_step("lodge_appeal")
        if self.appeal is not None:
            raise StepNotAllowed(f"an appeal against the {self.state.value} label {self.label_code} was already lodged")
        if not self.appeal_window_open(at, policy):
            due = self.appeal_due(policy)
            assert due is not None  # check_step: the label is suspended or withdrawn
            raise StepNotAllowed(f"the appeal window closed on {due:%Y-%m-%d %H:%M:%S} UTC")
        require_reason(grounds, "an appeal needs grounds")

    def reopens(self, command: LodgeLabelAppeal | DecideLabelAppeal, at: datetime, policy: Policy) -> bool:
        """Whether this appeal step takes a withdrawn label (final: nothing else happens to it) up again.
        Refused here as the step itself would be, so that a caller restarting what waits on the label
        for the step starts nothing for a step refused."""
        if self.state is not LabelState.WITHDRAWN:
            return False
        if isinstance(command, LodgeLabelAppeal):
            self.check_appeal_lodgeable(command.grounds, at, policy)
        else:
            self.check_appeal_pending()
        return True

    def check_appeal_pending(self) -> None:
        self.check_step("decide_appeal")
        if not self.appeal_pending:
            raise StepNotAllowed(f"there is no pending appeal on label {self.label_code}")

    def decide_appeal(
        self,
        upheld: bool,
        rationale: str,
        env: Envelope,
        *,
        decider_expert_ids: Iterable[UUID] = (),
        auditors: Iterable[UUID] = (),
    ) -> None:
        """The envelope's actor decides: an account that speaks for `decider_expert_ids`, none of the label's
        experts nor of the `auditors` of its case (released from its team or not)."""
        at, actor, command_key = env.when()
        self.check_appeal_pending()
        check_not_auditor(actor, decider_expert_ids, {*self.expert_ids, *auditors}, "decide the appeal")
        check_not_appealed_decider(actor, self.adverse_by, "decide the appeal")
        check_not_appellant(actor, self.appeal, "decide the appeal")
        require_reason(rationale, "an appeal decision needs a rationale")
        decision = {"rationale": rationale, "decided_by": actor, "at": at, "actor": actor}
        if upheld:
            self._label_appeal_upheld(**decision, command_key=command_key)
        else:
            self._label_appeal_dismissed(**decision, command_key=command_key)

    def _appeal_decided(self, upheld: bool, rationale: str, decided_by: str) -> None:
        """The panel's decision; an upheld one also puts the label back in force (Label._follow)."""
        self.appeal = {**(self.appeal or {}), "upheld": upheld, "rationale": rationale, "decided_by": decided_by}
        if upheld:
            self.suspended_until = None
            self.reason = None

    def _decision_taken(self, actor: str) -> None:
        """A suspension or withdrawal opens a new appeal window. A withdrawal of a suspended label (at the
        suspension's limit, say) follows from the suspension: whoever suspended it is still party to it, and
        an appeal pending against the suspension carries over to the withdrawal."""
        follows = self.state is LabelState.SUSPENDED or self.appeal_pending
        self.adverse_by = [*self.adverse_by, actor] if follows else [actor]
        if not self.appeal_pending:
            self.appeal = None

    def _appeal_follows_state(self) -> None:
        """An appeal pending when the label leaves the decision behind (restored, expired, superseded)
        has nothing left to reverse: it ends."""
        if self.appeal_pending and self.state not in APPEALABLE:
            self.appeal = None
