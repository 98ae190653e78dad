"""The shipped indicator catalogues and the scoring rules built on them."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from pydantic import ValidationError

from clusterlabel.domain.catalogue import Catalogue, InvalidScores
from clusterlabel.domain.catalogue_shelf import (
    UnknownCatalogue,
    available_versions,
    current_version_for,
    load_catalogue,
)

BRONZE_AREAS = {"structure", "governance", "financing", "services", "interaction", "recognition"}
GOLD_AREAS = {"structure", "governance", "financing", "strategy", "services", "recognition"}
NAMED_IN_DOMAIN = (
    "strategy definition",
    "quality of activities and services",
    "media recognition",
    "partner satisfaction (partner survey)",
    "share of private funding",
    "staff skills (recruitment, training)",
)
GOLD_MINIMUM = 80.0


@pytest.fixture
def bronze() -> Catalogue:
    return load_catalogue("bronze-2020")


@pytest.fixture
def gold() -> Catalogue:
    return load_catalogue("gold-2020")


def maxima(catalogue: Catalogue) -> dict[str, int]:
    return {item.code: item.max_score for item in catalogue.indicators}


def thresholds(catalogue: Catalogue) -> dict[str, int]:
    return {item.code: item.threshold or 0 for item in catalogue.indicators}


def raised_to(catalogue: Catalogue, scores: dict[str, int], target_total: int) -> dict[str, int]:
    """Raise scores towards their maxima, in catalogue order, until they add up to the target."""
    raised = dict(scores)
    remaining = target_total - sum(raised.values())
    for item in catalogue.indicators:
        step = min(item.max_score - raised[item.code], remaining)
        raised[item.code] += step
        remaining -= step
    assert remaining == 0, "target total is out of reach"
    return raised


def raw_catalogue(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "version": "gold-test",
        "level": "gold",
        "title": "A small catalogue",
        "published": "2020-01-01",
        "areas": [{"code": "structure", "title": "Structure"}],
        "indicators": [
            {"code": "G-STR-01", "area": "structure", "title": "One", "max_score": 5, "threshold": 3},
            {"code": "G-STR-02", "area": "structure", "title": "Two", "max_score": 5, "threshold": 3},
        ],
    }
    data.update(changes)
    return data


def test_bronze_catalogue_has_36_indicators_in_the_six_bronze_areas(bronze: Catalogue) -> None:
    assert bronze.level == "bronze"
    assert len(bronze.indicators) == 36
    assert {area.code for area in bronze.areas} == BRONZE_AREAS
    assert {item.area for item in bronze.indicators} == BRONZE_AREAS


def test_gold_catalogue_has_31_indicators_in_the_six_gold_areas(gold: Catalogue) -> None:
    assert gold.level == "gold"
    assert len(gold.indicators) == 31
    assert {area.code for area in gold.areas} == GOLD_AREAS
    assert {item.area for item in gold.indicators} == GOLD_AREAS


@pytest.mark.parametrize("version", ["bronze-2020", "gold-2020"])
def test_indicator_codes_are_unique_and_carry_the_level_and_area(version: str) -> None:
    catalogue = load_catalogue(version)
    prefix = catalogue.level[0].upper()
    assert len(set(catalogue.codes())) == len(catalogue.codes())
    abbreviation_of_area: dict[str, set[str]] = {}
    for item in catalogue.indicators:
        match = re.fullmatch(rf"{prefix}-([A-Z]{{3}})-\d\d", item.code)
        assert match, item.code
        abbreviation_of_area.setdefault(item.area, set()).add(match.group(1))
    assert all(len(abbreviations) == 1 for abbreviations in abbreviation_of_area.values())


def test_every_gold_indicator_has_a_threshold_within_its_range(gold: Catalogue) -> None:
    assert all(0 < (item.threshold or 0) <= item.max_score for item in gold.indicators)


def test_no_bronze_indicator_has_a_threshold(bronze: Catalogue) -> None:
    assert all(item.threshold is None for item in bronze.indicators)


@pytest.mark.parametrize("version", ["bronze-2020", "gold-2020"])
def test_the_indicators_named_in_the_domain_appear_in_each_catalogue(version: str) -> None:
    titles = " | ".join(item.title.lower() for item in load_catalogue(version).indicators)
    assert [name for name in NAMED_IN_DOMAIN if name not in titles] == []


def test_each_shipped_catalogue_declares_the_version_of_its_file() -> None:
    assert {"bronze-2020", "gold-2020"} <= set(available_versions())
    assert all(load_catalogue(version).version == version for version in available_versions())


def test_loading_the_same_version_twice_gives_the_same_catalogue() -> None:
    assert load_catalogue("gold-2020") is load_catalogue("gold-2020")


def test_problems_with_reports_missing_unknown_and_out_of_range_scores_at_once(
    bronze: Catalogue,
) -> None:
    scores = maxima(bronze)
    del scores["B-FIN-02"]
    del scores["B-STR-01"]
    scores["B-XXX-99"] = 1
    scores["B-REC-01"] = 7
    scores["B-GOV-05"] = -1

    assert bronze.problems_with(scores) == [
        "indicator B-FIN-02 (Share of private funding) has no score",
        "indicator B-STR-01 (Composition of committed cluster participants) has no score",
        "B-XXX-99 is not an indicator of catalogue bronze-2020",
        "score -1 for B-GOV-05 is outside 0..10",
        "score 7 for B-REC-01 is outside 0..5",
    ]


def test_a_score_that_is_not_a_whole_number_is_a_problem(bronze: Catalogue) -> None:
    scores: dict[str, Any] = {**maxima(bronze), "B-STR-02": 2.5, "B-STR-03": True}

    assert bronze.problems_with(scores) == [
        "score 2.5 for B-STR-02 is not a whole number",
        "score True for B-STR-03 is not a whole number",
    ]


@pytest.mark.parametrize("version", ["bronze-2020", "gold-2020"])
def test_scores_covering_the_catalogue_exactly_have_no_problems(version: str) -> None:
    catalogue = load_catalogue(version)

    assert catalogue.problems_with(maxima(catalogue)) == []
    assert catalogue.problems_with(dict.fromkeys(catalogue.codes(), 0)) == []


def test_total_and_percentage_are_measured_against_the_maximum(gold: Catalogue) -> None:
    scores = thresholds(gold)

    assert gold.maximum() == sum(item.max_score for item in gold.indicators)
    assert gold.total(scores) == sum(scores.values())
    assert gold.percentage(maxima(gold)) == 100.0
    assert gold.percentage(dict.fromkeys(gold.codes(), 0)) == 0.0


def test_totals_refuse_scores_that_have_problems(gold: Catalogue) -> None:
    partial = dict(list(maxima(gold).items())[:-1])

    with pytest.raises(InvalidScores) as raised:
        gold.percentage(partial)
    assert raised.value.problems == gold.problems_with(partial)


def test_below_threshold_lists_only_the_indicators_under_their_threshold(gold: Catalogue) -> None:
    scores = {**thresholds(gold), "G-FIN-02": 2, "G-STG-01": 6}

    assert gold.below_threshold(scores) == ["G-FIN-02", "G-STG-01"]
    assert gold.below_threshold(thresholds(gold)) == []


def test_a_cluster_scoring_exactly_every_threshold_does_not_meet_gold(gold: Catalogue) -> None:
    scores = thresholds(gold)

    assert gold.below_threshold(scores) == []
    assert gold.percentage(scores) < GOLD_MINIMUM
    assert gold.meets_gold(scores, GOLD_MINIMUM) is False


def test_a_cluster_above_80_percent_with_one_indicator_under_its_threshold_does_not_meet_gold(
    gold: Catalogue,
) -> None:
    scores = {**maxima(gold), "G-FIN-02": 2}

    assert gold.percentage(scores) >= GOLD_MINIMUM
    assert gold.meets_gold(scores, GOLD_MINIMUM) is False


def test_a_cluster_at_exactly_80_percent_with_every_threshold_met_meets_gold(
    gold: Catalogue,
) -> None:
    target = gold.maximum() * 80 // 100
    assert target * 100 == gold.maximum() * 80, "the catalogue maximum no longer allows exactly 80%"
    scores = raised_to(gold, thresholds(gold), target)

    assert gold.meets_gold(scores, GOLD_MINIMUM) is True
    assert gold.meets_gold({**scores, "G-STR-01": scores["G-STR-01"] - 1}, GOLD_MINIMUM) is False


def test_gold_rules_are_refused_on_a_catalogue_without_thresholds(bronze: Catalogue) -> None:
    with pytest.raises(ValueError, match="no thresholds"):
        bronze.meets_gold(maxima(bronze), GOLD_MINIMUM)


def test_looking_up_an_unknown_indicator_names_it_and_the_catalogue(gold: Catalogue) -> None:
    assert gold.indicator("G-STG-01").title == "Strategy definition"
    with pytest.raises(KeyError, match="G-XXX-99 is not an indicator of catalogue gold-2020"):
        gold.indicator("G-XXX-99")


def test_a_small_consistent_catalogue_is_accepted() -> None:
    assert Catalogue.model_validate(raw_catalogue()).codes() == ("G-STR-01", "G-STR-02")


@pytest.mark.parametrize(
    ("changes", "fault"),
    [
        (
            {"indicators": [raw_catalogue()["indicators"][0]] * 2},
            "indicator code G-STR-01 appears more than once",
        ),
        (
            {"areas": [{"code": "structure", "title": "Structure"}] * 2},
            "area code structure appears more than once",
        ),
        (
            {"areas": [{"code": "finance", "title": "Finance"}]},
            "indicator G-STR-01 names unknown area 'structure'",
        ),
        (
            {"indicators": [{**raw_catalogue()["indicators"][0], "threshold": 6}]},
            "threshold 6 of G-STR-01 is above its maximum 5",
        ),
        (
            {"indicators": [{**raw_catalogue()["indicators"][0], "threshold": None}]},
            "indicator G-STR-01 needs a threshold in a gold catalogue",
        ),
        ({"level": "platinum"}, "level 'platinum' is not one of bronze, gold"),
    ],
)
def test_an_inconsistent_catalogue_is_refused(changes: dict[str, Any], fault: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(fault)):
        Catalogue.model_validate(raw_catalogue(**changes))


def test_loading_an_unknown_version_names_the_available_versions() -> None:
    with pytest.raises(UnknownCatalogue) as raised:
        load_catalogue("bronze-1999")

    message = str(raised.value)
    assert "bronze-1999" in message
    assert all(version in message for version in available_versions())
    assert isinstance(raised.value, KeyError)


def test_a_version_that_looks_like_a_path_is_unknown() -> None:
    with pytest.raises(UnknownCatalogue):
        load_catalogue("../catalogues/gold-2020")


@pytest.mark.parametrize(
    ("level", "version"),
    [
        ("bronze", "bronze-2020"),
        ("silver", "bronze-2020"),
        ("gold", "gold-2020"),
    ],  # Silver: a second Bronze benchmarking,
)
def test_each_label_level_assesses_against_its_current_catalogue(level: str, version: str) -> None:
    assert current_version_for(level, date(2026, 3, 10)) == version
    assert version in available_versions()


def test_an_unknown_label_level_has_no_current_catalogue() -> None:
    with pytest.raises(ValueError, match="platinum"):
        current_version_for("platinum", date(2026, 3, 10))
