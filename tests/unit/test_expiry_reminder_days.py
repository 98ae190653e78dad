"""An expiry reminder names the label's last valid day, as the certificate and the public pages do: a
label valid through 31 May ends at midnight on 1 June, and is not "valid until" 1 June."""

from __future__ import annotations

import pytest

from clusterlabel.activities.content.wording import MessageContent, render, written_day
from clusterlabel.domain import notices
from clusterlabel.domain.label_lifecycle import last_valid_day
from tests.lifecycle import Lifecycle, memory_app

BASE = "https://labels.example"


@pytest.mark.parametrize(("language", "valid_until"), [("en", "is valid until"), ("de", "ist gültig bis")])
def test_an_expiry_reminder_says_the_label_is_valid_until_its_last_day(language: str, valid_until: str) -> None:
    life = Lifecycle(memory_app())
    _, label_id = life.labelled()
    label = life.app.get_label(label_id)
    notice = notices.expiry_reminders(label, "P30D")[0]
    content = MessageContent(**{name: getattr(notice, name) for name in ("kind", "subject", "body", "data")})

    text = " ".join(render(content, language, BASE).text.split())  # as read, not as wrapped

    last_day = written_day(last_valid_day(label.valid_until), language)
    assert f"{valid_until} {last_day}." in text  # the whole day, without the instant's time
