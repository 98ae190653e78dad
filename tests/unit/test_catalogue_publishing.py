"""A secretariat publishes a catalogue revision without a code change: from its day on, new applications
are assessed on it, cases keep the version they started on, and a faulty folder publishes nothing."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from clusterlabel.activities.catalogues import publish_folder
from clusterlabel.domain.base import Level
from clusterlabel.domain.catalogue_shelf import CataloguesRefused, UnknownCatalogue, current_version_for, load_catalogue
from tests.catalogues import SHIPPED_BRONZE as SHIPPED
from tests.catalogues import bronze_revision, shipped_catalogues_only
from tests.lifecycle import Lifecycle, memory_app

REVISION_DAY = date(2027, 1, 1)


@pytest.fixture(autouse=True)
def only_the_shipped_catalogues() -> Iterator[None]:
    with shipped_catalogues_only():
        yield


def revision(version: str = "bronze-2027", published: date = REVISION_DAY, title: str = "Bronze, revision 2027") -> str:
    return bronze_revision(version, published, title)


def folder_with(tmp_path: Path, **files: str) -> Path:
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def test_a_published_revision_is_current_from_its_day_and_cases_keep_their_version(tmp_path: Path) -> None:
    assert publish_folder(folder_with(tmp_path, **{"bronze-2027.toml": revision()})) == ["bronze-2027"]
    assert current_version_for(Level.BRONZE, date(2026, 12, 31)) == "bronze-2020"
    assert current_version_for(Level.BRONZE, REVISION_DAY) == "bronze-2027"
    assert current_version_for(Level.GOLD, REVISION_DAY) == "gold-2020"  # another level's revision

    app, before, after = memory_app(), datetime(2026, 12, 31, 23, 0, tzinfo=UTC), datetime(2027, 1, 2, tzinfo=UTC)
    started_before = Lifecycle(app).apply(at=before)
    started_after = Lifecycle(app).apply(at=after)
    assert app.get_case(started_before).catalogue_version == "bronze-2020"
    assert app.get_case(started_after).catalogue_version == "bronze-2027"
    assert load_catalogue("bronze-2020").title == "Bronze benchmarking indicators, revision 2020"  # still there


def test_a_folder_with_a_faulty_catalogue_publishes_none_and_names_every_problem(tmp_path: Path) -> None:
    broken = revision("bronze-2028").replace('code = "B-STR-01"', 'code = "B-STR-02"', 1)  # a duplicate code
    folder = folder_with(
        tmp_path,
        **{"bronze-2027.toml": revision(), "bronze-2028.toml": broken, "notes.toml": "version = ["},
    )
    with pytest.raises(CataloguesRefused) as refused:
        publish_folder(folder)
    problems = "\n".join(refused.value.problems)
    assert "bronze-2028.toml" in problems and "B-STR-02 appears more than once" in problems
    assert "notes.toml" in problems
    with pytest.raises(UnknownCatalogue):
        load_catalogue("bronze-2027")  # the good one was not published either
    assert current_version_for(Level.BRONZE, REVISION_DAY) == "bronze-2020"


def test_a_known_version_cannot_be_published_again_with_other_content(tmp_path: Path) -> None:
    changed = revision("bronze-2020", date(2020, 1, 1), title="A silent change of the 2020 catalogue")
    with pytest.raises(CataloguesRefused, match="bronze-2020 is already published with other content"):
        publish_folder(folder_with(tmp_path, **{"bronze-2020.toml": changed}))
    assert load_catalogue("bronze-2020").title == "Bronze benchmarking indicators, revision 2020"

    again = tmp_path / "again"
    again.mkdir()
    same = folder_with(again, **{"bronze-2027.toml": revision()})
    publish_folder(same)
    assert publish_folder(same) == ["bronze-2027"]  # the very same catalogue again changes nothing


def test_a_catalogue_file_says_from_which_day_it_is_used() -> None:
    assert tomllib.loads(SHIPPED.read_text(encoding="utf-8"))["published"] == date(2020, 1, 1)
