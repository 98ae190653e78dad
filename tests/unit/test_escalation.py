"""A case escalated tells the secretariat once for each reason it awaits help for: a case waiting for an
expert is woken by every expert registered anywhere, and each wake mailed the secretariat again. The case's
page still shows each escalation (an officer's "Look again" shows what looking again found)."""

from __future__ import annotations

import pytest

from clusterlabel.activities.open_records import waiting_messages
from clusterlabel.domain.base import StepNotAllowed
from clusterlabel.domain.case_lifecycle import NO_EXPERT as NO_EXPERT_PREFIX
from clusterlabel.domain.case_lifecycle import Outcome
from clusterlabel.domain.commands import Escalate, LodgeAppeal, RecordAgreement
from clusterlabel.domain.notification import Notification
from tests.builders import send
from tests.lifecycle import SECRETARIAT, Lifecycle, memory_app

NO_EXPERT = f"{NO_EXPERT_PREFIX}; register or re-certify an expert"


def escalations(life: Lifecycle) -> int:
    return sum(life.app.load(message, Notification).kind == "escalation" for message in waiting_messages(life.app))


def test_an_escalation_for_a_reason_still_unsettled_tells_no_one_again() -> None:
    life = Lifecycle(memory_app())
    case_id = life.screened()
    for wake in range(3):  # three experts registered, none of them eligible
        send(life.app, case_id, Escalate(reason=NO_EXPERT), actor="system", command_key=f"no-expert:{wake}")

    assert life.app.get_case(case_id).attention == [NO_EXPERT]  # the page says it once; the history has each
    assert escalations(life) == 1
    send(life.app, case_id, Escalate(reason="the screening deadline has passed"), actor="system")
    assert escalations(life) == 2  # another reason is news


def test_the_same_reason_once_settled_is_told_again() -> None:
    life = Lifecycle(memory_app())
    case_id = life.screened()
    life.staff(case_id)
    send(life.app, case_id, Escalate(reason=NO_EXPERT), actor="system", command_key="no-expert:1")
    send(life.app, case_id, RecordAgreement(agreed=True), actor=SECRETARIAT)  # a new state settles it
    assert life.app.get_case(case_id).attention == []

    send(life.app, case_id, Escalate(reason=NO_EXPERT), actor="system", command_key="no-expert:2")

    assert life.app.get_case(case_id).attention == [NO_EXPERT] and escalations(life) == 2


def test_a_refused_case_is_escalated_only_while_its_appeal_waits_for_the_panel() -> None:
    """Nothing is left to chase on a refusal not appealed: its escalation would stay on a concluded case."""
    life = Lifecycle(memory_app())
    case_id = life.deciding()
    life.decide(case_id, Outcome.REFUSE)
    with pytest.raises(StepNotAllowed, match="no appeal waits"):
        send(life.app, case_id, Escalate(reason="closing the case was refused 5 times"), actor="system")

    send(life.app, case_id, LodgeAppeal(grounds="the scores were misread"), actor=SECRETARIAT)
    send(life.app, case_id, Escalate(reason="the appeal waits"), actor="system")

    assert life.app.get_case(case_id).attention == ["the appeal waits"]
