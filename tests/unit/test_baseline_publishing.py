"""A secretariat publishes a Baseline revision without a code change, in the catalogue folder's `baseline/`
subfolder: from its day on, new Silver cases are validated against it, cases applied for before keep the
old one, and a faulty or conflicting file of either kind publishes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from uuid import UUID

import pytest

from clusterlabel.activities.catalogues import publish_folder
from clusterlabel.domain.base import InvalidInput, Level
from clusterlabel.domain.baseline import Baseline, baseline_versions, current_baseline_for, load_baseline
from clusterlabel.domain.catalogue_shelf import (
    CataloguesRefused,
    UnknownCatalogue,
    current_version_for,
    load_catalogue,
)
from clusterlabel.domain.commands import SubmitAssessment
from clusterlabel.domain.silver import RequirementVerdict, SilverValidation
from tests.builders import described_areas, full_scores, indicators, send, silver_validation
from tests.catalogues import baseline_revision, bronze_revision, shipped_catalogues_only
from tests.lifecycle import Clock, Lifecycle, memory_app

REVISION_DAY = date(2027, 1, 1)
AREAS = sorted(load_catalogue("gold-2020").codes()[:3])


@pytest.fixture(autouse=True)
def only_the_shipped_catalogues() -> Iterator[None]:
    with shipped_catalogues_only():
        yield


def folder_with(tmp_path: Path, **files: str) -> Path:
    """A catalogue folder holding `files`, by their path in it ("baseline/x.toml" for a Baseline)."""
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tmp_path


def revision(version: str = "baseline-2027", published: date = REVISION_DAY) -> str:
    return baseline_revision(version, published, f"Baseline, revision {version}")


def test_a_published_baseline_revision_is_current_from_its_day(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, **{"baseline/baseline-2027.toml": revision()})
    assert publish_folder(folder) == ["baseline-2027"]
    assert baseline_versions() == ["baseline-2020", "baseline-2027"]
    assert current_baseline_for(date(2026, 12, 31)).version == "baseline-2020"
    assert current_baseline_for(REVISION_DAY).version == "baseline-2027"
    assert "BL-20" in load_baseline("baseline-2027").codes()
    assert "BL-20" not in load_baseline("baseline-2020").codes()  # the shipped one is still there, unchanged


def test_the_latest_baseline_published_by_a_day_is_the_current_one(tmp_path: Path) -> None:
    folder = folder_with(
        tmp_path,
        **{
            "baseline/baseline-2027.toml": revision(),
            "baseline/baseline-2029.toml": revision("baseline-2029", date(2029, 1, 1)),
        },
    )
    publish_folder(folder)
    assert current_baseline_for(date(2028, 6, 1)).version == "baseline-2027"
    assert current_baseline_for(date(2029, 1, 1)).version == "baseline-2029"


def test_catalogues_and_baselines_of_one_folder_are_published_together(tmp_path: Path) -> None:
    folder = folder_with(
        tmp_path,
        **{"bronze-2027.toml": bronze_revision("bronze-2027", REVISION_DAY), "baseline/baseline-2027.toml": revision()},
    )
    assert publish_folder(folder) == ["baseline-2027", "bronze-2027"]
    assert current_version_for(Level.BRONZE, REVISION_DAY) == "bronze-2027"
    assert current_baseline_for(REVISION_DAY).version == "baseline-2027"


def test_a_faulty_or_conflicting_file_of_either_kind_publishes_none_and_names_every_problem(tmp_path: Path) -> None:
    repeated = revision("baseline-2028").replace('code = "BL-20"', 'code = "BL-01"', 1)
    changed = baseline_revision("baseline-2020", date(2020, 1, 1), "A silent change of the 2020 baseline")
    folder = folder_with(
        tmp_path,
        **{
            "bronze-2027.toml": bronze_revision("bronze-2027", REVISION_DAY),
            "baseline/baseline-2027.toml": revision(),
            "baseline/baseline-2028.toml": repeated,
            "baseline/baseline-2020.toml": changed,
            "baseline/notes.toml": "version = [",
        },
    )
    with pytest.raises(CataloguesRefused) as refused:
        publish_folder(folder)
    problems = refused.value.problems
    assert len(problems) == 3, problems
    assert any(p.startswith("baseline/baseline-2028.toml: ") and "more than once: BL-01" in p for p in problems)
    assert "baseline/baseline-2020.toml: version baseline-2020 is already published with other content" in problems
    assert any(p.startswith("baseline/notes.toml: ") for p in problems)
    for unpublished in (lambda: load_baseline("baseline-2027"), lambda: load_catalogue("bronze-2027")):
        with pytest.raises(UnknownCatalogue):
            unpublished()  # the good files were not published either
    assert load_baseline("baseline-2020").title == "Cluster Excellence Baseline minimum requirements, revision 2020"


def test_a_faulty_catalogue_keeps_a_good_baseline_from_being_published(tmp_path: Path) -> None:
    broken = bronze_revision("bronze-2027", REVISION_DAY).replace("max_score = ", "max_score = -", 1)
    folder = folder_with(tmp_path, **{"bronze-2027.toml": broken, "baseline/baseline-2027.toml": revision()})
    with pytest.raises(CataloguesRefused, match=r"bronze-2027\.toml"):
        publish_folder(folder)
    assert current_baseline_for(REVISION_DAY).version == "baseline-2020"


def validation_on(baseline: Baseline) -> SilverValidation:
    """Every improvement area validated and every requirement of `baseline` met."""
    met = [RequirementVerdict(code=code, met=True, finding="") for code in baseline.codes()]
    return silver_validation(AREAS).model_copy(update={"requirements": met})


def assess(life: Lifecycle, case_id: UUID, validation: SilverValidation) -> None:
    """Bronze scores on every indicator of the case's catalogue, with the validation given."""
    case = life.app.get_case(case_id)
    scores = indicators(full_scores(load_catalogue(case.catalogue_version), 0.6))
    command = SubmitAssessment(expert_id=case.expert_ids[0], indicators=scores, report="report", validation=validation)
    send(life.app, case_id, command, actor=f"expert:{case.expert_ids[0]}")


def test_a_silver_case_is_validated_against_the_baseline_published_by_its_application_day(tmp_path: Path) -> None:
    clock = Clock()
    app = memory_app(clock=clock)
    early, late = Lifecycle(app), Lifecycle(app)
    early.labelled(Level.BRONZE)
    late.labelled(Level.BRONZE)
    clock.advance(days=580)  # both Bronze rounds 19 months ago: the time for a Silver application
    revision_day = (clock() + timedelta(days=5)).date()
    publish_folder(folder_with(tmp_path, **{"baseline/baseline-2027.toml": revision(published=revision_day)}))
    before = early.auditing(Level.SILVER, improvement_areas=described_areas(AREAS))
    clock.advance(days=10)
    after = late.auditing(Level.SILVER, improvement_areas=described_areas(AREAS))

    old, new = load_baseline("baseline-2020"), load_baseline("baseline-2027")
    with pytest.raises(InvalidInput, match="BL-20 is not one of the baseline requirements of this case"):
        assess(early, before, validation_on(new))
    assess(early, before, validation_on(old))
    with pytest.raises(InvalidInput, match="baseline requirement BL-20 has no verdict"):
        assess(late, after, validation_on(old))
    assess(late, after, validation_on(new))
    for case_id, version in ((before, "baseline-2020"), (after, "baseline-2027")):
        validation = app.get_case(case_id).silver_validation
        assert validation is not None and validation["holds"] and validation["baseline_version"] == version
