"""An expiry reminder names the label's last valid day, as the certificate and the public pages do: a
label valid through 31 May ends at midnight on 1 June, and is not "valid until" 1 June."""

from __future__ import annotations

import pytest

from clusterlabel.activities.content.wording import MessageContent, render, written_day
from clusterlabel.domain import label_notices
from clusterlabel.domain.label_lifecycle import last_valid_day
from tests.lifecycle import Lifecycle, memory_app

BASE = "https://labels.example"


@pytest.mark.parametrize(("language", "valid_until"), [("en", "is valid until"), ("de", "ist gültig bis")])
def test_an_expiry_reminder_says_the_label_is_valid_until_its_last_day(language: str, valid_until: str) -> None:
    life = Lifecycle(memory_app())
    _, label_id = life.labelled()
    label = life.app.get_label(label_id)
    notice = label_notices.expiry_reminders(label, "P30D")[0]
    content = MessageContent(**{name: getattr(notice, name) for name in ("kind", "subject", "body", "data")})

    text = " ".join(render(content, language, BASE).text.split())  # as read, not as wrapped

    last_day = written_day(last_valid_day(label.valid_until), language)
    assert f"{valid_until} {last_day}." in text  # the whole day, without the instant's time


@pytest.mark.parametrize("language", ["en", "de"])
def test_an_expiry_reminder_s_subject_names_the_same_last_day_as_its_text(language: str) -> None:
    """The validity ends at midnight UTC (1 April 2028 00:00): the subject named that instant's day while the
    text named the day before; both name the last valid day, 31 March."""
    life = Lifecycle(memory_app())
    _, label_id = life.labelled()
    label = life.app.get_label(label_id)
    assert (label.valid_until.hour, label.valid_until.minute) == (0, 0)  # the case where the two days differ
    notice = label_notices.expiry_reminders(label, "P30D")[0]
    content = MessageContent(**{name: getattr(notice, name) for name in ("kind", "subject", "body", "data")})

    worded = render(content, language, BASE)

    last_day = written_day(last_valid_day(label.valid_until), language)
    instant_s_day = written_day(label.valid_until, language)
    assert last_day in worded.subject and instant_s_day not in worded.subject
    assert instant_s_day not in " ".join(worded.text.split())


def test_an_expiry_reminder_s_stored_english_text_names_the_last_valid_day_without_a_time() -> None:
    life = Lifecycle(memory_app())
    _, label_id = life.labelled()
    label = life.app.get_label(label_id)

    notice = label_notices.expiry_reminders(label, "P30D")[0]

    assert notice.subject == f"Label {label.label_code} is valid until 2028-03-31"
    assert "is valid until 2028-03-31 and renewable until 2029-03-31." in notice.body
    assert "2028-04-01" not in notice.body and "UTC" not in notice.body
