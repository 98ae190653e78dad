"""An audit's date reaches the calendars of those who attend it: scheduling invites the team and the
cluster, moving the date sends an update of the same event, withdrawing the case cancels it; the .ics is
RFC 5545 as icalendar reads it."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import icalendar

from clusterlabel.activities.application import CertificationApp
from clusterlabel.activities.content.calendar import audit_uid, invitation
from clusterlabel.activities.content.wording import MessageContent
from clusterlabel.domain.commands import RecordAgreement, ReleaseExpert, ScheduleAudit, WithdrawCase
from clusterlabel.domain.notification import Notification
from tests.builders import send
from tests.lifecycle import SECRETARIAT, Lifecycle, memory_app

ORGANIZER = "ECEI Secretariat <secretariat@esca.example>"
STAMP = datetime(2026, 12, 1, 9, tzinfo=UTC)


def queued(app: CertificationApp, key: str, recipient: str) -> Notification:
    return app.load(Notification.create_id(f"{key}/notify/{recipient}"), Notification)


def calendar_of(message: Notification, *attendees: str) -> icalendar.Calendar:
    ics = invitation(MessageContent.of(message), ORGANIZER, list(attendees), STAMP, "https://labels.example")
    assert ics is not None
    return icalendar.Calendar.from_ical(ics)


def scheduled(life: Lifecycle, case_id: UUID, day: int, key: str) -> None:
    audit_date = datetime(2026, 5, day, 9, tzinfo=UTC)
    send(
        life.app,
        case_id,
        ScheduleAudit(audit_date=audit_date, place="the cluster office"),
        actor=SECRETARIAT,
        command_key=key,
    )


def test_scheduling_invites_every_expert_of_the_team_and_the_cluster() -> None:
    life = Lifecycle(memory_app())
    case_id = life.auditing()
    (expert_id,) = life.app.get_case(case_id).expert_ids

    scheduled(life, case_id, 3, "schedule-1")

    for recipient in (f"expert:{expert_id}", f"cluster:{life.cluster_id}"):
        message = queued(life.app, "schedule-1", recipient)
        assert (message.kind, message.case_id, message.data["sequence"]) == ("audit_invitation", case_id, "0")


def test_the_invitation_is_an_rfc_5545_request_for_the_audit_with_its_attendees() -> None:
    life = Lifecycle(memory_app())
    case_id = life.auditing()
    scheduled(life, case_id, 3, "schedule-1")
    message = queued(life.app, "schedule-1", f"cluster:{life.cluster_id}")

    calendar = calendar_of(message, "clara@cluster.example", "carl@cluster.example")
    (event,) = calendar.walk("VEVENT")

    assert (str(calendar["METHOD"]), str(calendar["VERSION"])) == ("REQUEST", "2.0")
    assert (str(event["UID"]), int(event["SEQUENCE"]), str(event["STATUS"])) == (
        audit_uid(case_id),
        0,
        "CONFIRMED",
    )
    assert event.decoded("DTSTART") == datetime(2026, 5, 3, 9, tzinfo=UTC)
    assert event.decoded("DTEND") == datetime(2026, 5, 3, 12, tzinfo=UTC)  # a Bronze interview: three hours
    assert str(event["ORGANIZER"]) == "mailto:secretariat@esca.example"
    assert [str(who) for who in event["ATTENDEE"]] == ["mailto:clara@cluster.example", "mailto:carl@cluster.example"]
    assert str(event["URL"]) == f"https://labels.example/ui/cases/{case_id}"


def test_a_visit_scheduled_with_its_duration_and_place_blocks_out_that_long_there() -> None:
    life = Lifecycle(memory_app())
    case_id = life.auditing()
    visit = ScheduleAudit(audit_date=datetime(2026, 5, 4, 8, tzinfo=UTC), place="Klaipeda harbour", duration="P2D")
    send(life.app, case_id, visit, actor=SECRETARIAT, command_key="schedule-visit")

    (event,) = calendar_of(queued(life.app, "schedule-visit", f"cluster:{life.cluster_id}")).walk("VEVENT")

    assert event.decoded("DTEND") == datetime(2026, 5, 6, 8, tzinfo=UTC)
    assert str(event["LOCATION"]) == "Klaipeda harbour"


def test_the_ics_ends_its_lines_in_crlf_and_folds_them_at_75_octets() -> None:
    life = Lifecycle(memory_app())
    case_id = life.auditing()
    scheduled(life, case_id, 3, "schedule-1")
    message = queued(life.app, "schedule-1", f"cluster:{life.cluster_id}")
    long_name = "Someone With A Very Long Name Indeed <" + "a" * 60 + "@cluster.example>"

    ics = invitation(MessageContent.of(message), ORGANIZER, [long_name], STAMP, "https://labels.example")

    assert ics is not None and ics.endswith(b"\r\n")
    lines = ics.split(b"\r\n")
    assert b"\n" not in b"".join(lines) and max(len(line) for line in lines) <= 75
    assert any(line.startswith(b" ") for line in lines), "the long attendee line is folded"


def test_moving_the_date_updates_the_same_event_with_the_next_sequence() -> None:
    life = Lifecycle(memory_app())
    case_id = life.auditing()
    scheduled(life, case_id, 3, "schedule-1")
    scheduled(life, case_id, 10, "schedule-2")
    recipient = f"cluster:{life.cluster_id}"

    first, moved = (
        calendar_of(queued(life.app, key, recipient)).walk("VEVENT")[0] for key in ("schedule-1", "schedule-2")
    )

    assert str(first["UID"]) == str(moved["UID"]) == audit_uid(case_id)
    assert int(first["SEQUENCE"]) < int(moved["SEQUENCE"])
    assert moved.decoded("DTSTART") == datetime(2026, 5, 10, 9, tzinfo=UTC)


def test_withdrawing_a_case_before_its_audit_cancels_the_event_for_everyone_invited() -> None:
    life = Lifecycle(memory_app())
    case_id = life.auditing()
    (expert_id,) = life.app.get_case(case_id).expert_ids
    scheduled(life, case_id, 3, "schedule-1")
    scheduled(life, case_id, 10, "schedule-2")

    send(life.app, case_id, WithdrawCase(reason="the cluster withdrew"), actor=SECRETARIAT, command_key="withdraw-1")

    for recipient in (f"expert:{expert_id}", f"cluster:{life.cluster_id}"):
        message = queued(life.app, "withdraw-1", recipient)
        calendar = calendar_of(message)
        (event,) = calendar.walk("VEVENT")
        assert (message.kind, str(calendar["METHOD"]), str(event["STATUS"])) == (
            "audit_cancelled",
            "CANCEL",
            "CANCELLED",
        )
        assert (str(event["UID"]), int(event["SEQUENCE"])) == (audit_uid(case_id), 3)  # after 0 and 2


def test_withdrawing_a_case_whose_audit_was_never_scheduled_sends_no_cancellation() -> None:
    life = Lifecycle(memory_app())
    case_id = life.auditing()

    send(life.app, case_id, WithdrawCase(reason="the cluster withdrew"), actor=SECRETARIAT, command_key="withdraw-1")

    assert not life.app._exists(Notification.create_id(f"withdraw-1/notify/cluster:{life.cluster_id}"))


def test_a_message_about_anything_else_carries_no_invitation() -> None:
    content = MessageContent(kind="offer", subject="s", body="b", data={"case_id": "c"})

    assert invitation(content, ORGANIZER, ["x@example.org"], STAMP, "https://labels.example") is None


def test_an_expert_leaving_the_team_before_the_audit_cancels_it_for_everyone_it_invited() -> None:
    life = Lifecycle(memory_app())
    case_id = life.auditing()
    (expert_id,) = life.app.get_case(case_id).expert_ids
    scheduled(life, case_id, 3, "schedule-1")

    release = ReleaseExpert(expert_id=expert_id, reason="certification revoked")
    send(life.app, case_id, release, actor=SECRETARIAT, command_key="release-1")

    for recipient in (f"expert:{expert_id}", f"cluster:{life.cluster_id}"):
        message = queued(life.app, "release-1", recipient)
        (event,) = calendar_of(message).walk("VEVENT")
        assert (message.kind, message.data["because"], int(event["SEQUENCE"])) == ("audit_cancelled", "team_changed", 1)
    assert life.app.get_case(case_id).audit_date is None


def test_a_date_set_again_after_a_cancellation_outranks_the_cancellation_in_every_calendar() -> None:
    life = Lifecycle(memory_app())
    case_id = life.auditing()
    (expert_id,) = life.app.get_case(case_id).expert_ids
    scheduled(life, case_id, 3, "schedule-1")
    send(life.app, case_id, ReleaseExpert(expert_id=expert_id, reason="revoked"), actor=SECRETARIAT, command_key="rel")
    recipient = f"cluster:{life.cluster_id}"
    cancelled = calendar_of(queued(life.app, "rel", recipient)).walk("VEVENT")[0]
    life.staff(case_id)  # the next team is assigned, agreed to, and sets a new date
    send(life.app, case_id, RecordAgreement(agreed=True), actor=SECRETARIAT)
    scheduled(life, case_id, 12, "schedule-2")

    again = calendar_of(queued(life.app, "schedule-2", recipient)).walk("VEVENT")[0]

    assert str(again["UID"]) == str(cancelled["UID"]) and int(again["SEQUENCE"]) > int(cancelled["SEQUENCE"])
