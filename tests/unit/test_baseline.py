"""The Cluster Excellence Baseline: versioned pass/fail requirements, validated whole when read."""

from __future__ import annotations

from datetime import date

import pytest

from clusterlabel.domain.baseline import baseline_versions, current_baseline_for, load_baseline, parse_baseline
from clusterlabel.domain.catalogue_shelf import UnknownCatalogue, available_versions

GOOD = """
version = "baseline-2030"
title = "A revision"
published = 2030-01-01
[[requirements]]
code = "BL-01"
title = "Written strategy"
text = "There is one."
"""


def test_the_shipped_baseline_lists_its_requirements_with_code_title_and_text() -> None:
    baseline = load_baseline("baseline-2020")
    assert baseline.published == date(2020, 1, 1)
    assert 8 <= len(baseline.requirements) <= 10
    assert all(item.code and item.title and item.text for item in baseline.requirements)
    assert baseline.requirement("BL-01").title == "Written strategy"


def test_a_silver_case_is_validated_against_the_baseline_published_by_its_application_day() -> None:
    assert current_baseline_for(date(2026, 11, 30)).version == "baseline-2020"
    with pytest.raises(UnknownCatalogue, match="baseline published by 2019-12-31"):
        current_baseline_for(date(2019, 12, 31))


def test_the_baseline_is_not_taken_for_an_indicator_catalogue() -> None:
    assert "baseline-2020" in baseline_versions()
    assert "baseline-2020" not in available_versions()


def test_an_unknown_baseline_version_names_the_shipped_ones() -> None:
    with pytest.raises(UnknownCatalogue, match="available versions: baseline-2020"):
        load_baseline("../bronze-2020")


@pytest.mark.parametrize(
    ("broken", "fault"),
    [
        (GOOD + '[[requirements]]\ncode = "BL-01"\ntitle = "Again"\ntext = "twice"\n', "more than once: BL-01"),
        (GOOD.replace('text = "There is one."', 'text = ""'), "text"),
        (GOOD.replace('title = "Written strategy"', 'title = "x"\nweight = 2'), "weight"),
        (GOOD.replace("published = 2030-01-01", ""), "published"),
        (GOOD.replace('code = "BL-01"', 'code = "bl 01"'), "code"),
    ],
)
def test_a_baseline_with_any_fault_is_refused_whole(broken: str, fault: str) -> None:
    assert parse_baseline(GOOD, "good.toml").codes() == ("BL-01",)
    with pytest.raises(ValueError, match=fault) as refused:
        parse_baseline(broken, "revision.toml")
    assert str(refused.value).startswith("revision.toml: ")
