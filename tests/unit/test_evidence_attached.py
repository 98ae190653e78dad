"""An evidence document joins an open case once, by its hash; a decided case takes none. The bytes are
stored before the event, and a refusal stores nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from clusterlabel.activities.evidence import store_and_attach
from clusterlabel.activities.files import LocalFileStore
from clusterlabel.domain.base import StepNotAllowed
from clusterlabel.domain.evidence import UnsupportedMediaType
from tests import evidence_files
from tests.lifecycle import Lifecycle, event_count, memory_app


def stored(root: Path) -> list[str]:
    return sorted(path.name for path in root.rglob("*") if path.is_file())


def test_the_same_file_attached_twice_is_one_event_under_its_first_name(tmp_path: Path) -> None:
    app, files = memory_app(), LocalFileStore(tmp_path)
    case_id = Lifecycle(app).auditing()
    content = evidence_files.pdf()
    case, sha256 = store_and_attach(app, files, case_id, content, "report.pdf", "account:contact")
    events = event_count(app)
    case, again = store_and_attach(app, files, case_id, content, "report-final.pdf", "account:expert")
    assert again == sha256 and event_count(app) == events
    assert case.evidence[sha256]["file_name"] == "report.pdf" and case.evidence[sha256]["by"] == "account:contact"
    assert stored(tmp_path) == [sha256]


def test_a_decided_case_takes_no_evidence_and_nothing_is_stored(tmp_path: Path) -> None:
    app, files = memory_app(), LocalFileStore(tmp_path)
    case_id = Lifecycle(app).awarded()
    events = event_count(app)
    with pytest.raises(StepNotAllowed, match="cannot attach evidence: the case is already awarded"):
        store_and_attach(app, files, case_id, evidence_files.png(), "late.png", "secretariat")
    assert event_count(app) == events and stored(tmp_path) == []


def test_a_file_of_no_accepted_type_is_refused_before_it_is_stored(tmp_path: Path) -> None:
    app, files = memory_app(), LocalFileStore(tmp_path)
    case_id = Lifecycle(app).auditing()
    events = event_count(app)
    with pytest.raises(UnsupportedMediaType):
        store_and_attach(app, files, case_id, b"MZ\x90\x00 a program", "setup.pdf", "secretariat")
    assert event_count(app) == events and stored(tmp_path) == []
