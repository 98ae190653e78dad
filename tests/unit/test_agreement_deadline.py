"""Once its expert team is complete, a case waits for the cluster to agree to its experts (or object) against
a deadline: reminded to the cluster and the secretariat, escalated when missed, and settled by the answer or
by a change of the team."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from clusterlabel.activities.views import case_view
from clusterlabel.domain import notices
from clusterlabel.domain.base import Level
from clusterlabel.domain.commands import AnswerProposal, ProposeExpert, RecordAgreement, ReleaseExpert
from clusterlabel.domain.notification import Notification
from clusterlabel.domain.policy import default_policy
from tests.builders import send
from tests.lifecycle import SECRETARIAT, Clock, Lifecycle

AGREEMENT = timedelta(days=21)  # the default policy's agreement_deadline


def accept_next(life: Lifecycle, case_id: UUID, key: str) -> UUID:
    """Propose the first eligible expert (registering one for the seat if none is) and let them accept."""
    case = life.app.get_case(case_id)
    seat_country = "LT" if case.next_nationality() == "national" else "DE"  # the cluster is Lithuanian
    candidates = life.app.eligible_experts(case_id) or [life.expert(seat_country)]
    expert_id = candidates[0]
    send(life.app, case_id, ProposeExpert(expert_id=expert_id), actor="system")
    send(
        life.app,
        case_id,
        AnswerProposal(expert_id=expert_id, accept=True),
        actor=f"expert:{expert_id}",
        command_key=key,
    )
    return expert_id


def agreeing(life: Lifecycle, level: Level = Level.BRONZE) -> UUID:
    """A screened case whose team is complete: the cluster's answer is due."""
    case_id = life.screened(level)
    life.staff(case_id)
    return case_id


def test_the_expert_who_fills_the_last_seat_sets_the_clusters_agreement_deadline(life: Lifecycle, clock: Clock) -> None:
    case_id = life.screened(Level.GOLD)
    accept_next(life, case_id, "accept-national")
    assert "agreement" not in life.app.get_case(case_id).deadlines  # one seat is still free

    clock.advance(days=2)
    accept_next(life, case_id, "accept-foreign")

    case = life.app.get_case(case_id)
    assert case.deadlines["agreement"] == clock.now + AGREEMENT
    assert case.current_deadline() == ("agreement", clock.now + AGREEMENT)
    assert not case.is_overdue(clock.now) and case.is_overdue(clock.now + AGREEMENT)


def test_the_cluster_is_asked_to_agree_in_the_save_that_completes_its_team(life: Lifecycle) -> None:
    case_id = life.screened()
    accept_next(life, case_id, "accept-last")

    case = life.app.get_case(case_id)
    asked = life.app.load(
        Notification.create_id(f"accept-last/notify/{notices.recipient(notices.CLUSTER, case.cluster_id)}"),
        Notification,
    )
    assert (asked.kind, asked.case_id) == ("experts_to_agree", case_id)
    assert asked.data["agree_by"] == case.deadlines["agreement"].isoformat()


def test_the_clusters_agreement_or_objection_settles_the_agreement_deadline(life: Lifecycle) -> None:
    agreed, objected = agreeing(life), agreeing(Lifecycle(life.app, country="LV"))
    assert all("agreement" in life.app.get_case(case_id).deadlines for case_id in (agreed, objected))

    send(life.app, agreed, RecordAgreement(agreed=True), actor=SECRETARIAT)
    send(life.app, objected, RecordAgreement(agreed=False), actor=SECRETARIAT)

    agreed_case, objected_case = life.app.get_case(agreed), life.app.get_case(objected)
    assert "agreement" not in agreed_case.deadlines and agreed_case.current_deadline() == (
        "audit",
        agreed_case.deadlines["audit"],
    )
    assert "agreement" not in objected_case.deadlines and objected_case.current_deadline() is None


def test_releasing_an_expert_of_the_complete_team_settles_the_agreement_deadline_until_the_team_is_complete_again(
    life: Lifecycle, clock: Clock
) -> None:
    case_id = agreeing(life)
    (expert_id,) = life.app.get_case(case_id).expert_ids

    send(life.app, case_id, ReleaseExpert(expert_id=expert_id, reason="certification revoked"), actor=SECRETARIAT)
    assert "agreement" not in life.app.get_case(case_id).deadlines
    assert life.app.get_case(case_id).current_deadline() is None

    clock.advance(days=3)
    accept_next(life, case_id, "accept-again")
    assert life.app.get_case(case_id).current_deadline() == ("agreement", clock.now + AGREEMENT)


def test_a_case_waiting_for_the_clusters_agreement_is_reminded_and_then_escalated(
    life: Lifecycle, clock: Clock
) -> None:
    policy = default_policy()  # the agreement due in 21 days, reminded 7 days before
    case = life.app.get_case(agreeing(life))
    due = case.deadlines["agreement"]

    view = case_view(policy, case, clock())

    assert view.current_step == "agreement"
    assert [(alarm.kind, alarm.step, alarm.offset, alarm.at) for alarm in view.alarms] == [
        ("reminder", "agreement", "P7D", due - timedelta(days=7)),
        ("deadline", "agreement", None, due),
    ]


def test_the_agreements_reminder_goes_to_the_clusters_contacts_and_the_secretariat(life: Lifecycle) -> None:
    case = life.app.get_case(agreeing(life))

    reminders = notices.deadline_reminders(case, "agreement", "P7D", case.deadlines["agreement"])

    assert [notice.recipient for notice in reminders] == [
        notices.SECRETARIAT,
        notices.recipient(notices.CLUSTER, case.cluster_id),
    ]
