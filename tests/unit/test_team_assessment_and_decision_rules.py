"""The expert team's seats, the assessment's levels and the refusal's finality as pure functions:
the rules the case applies that its step-by-step tests (test_certification_case.py) do not reach."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from clusterlabel.domain.base import InvalidInput, Level
from clusterlabel.domain.case_assessment import check_awardable, check_improvement_areas, supported_level
from clusterlabel.domain.case_decision import is_refusal_final
from clusterlabel.domain.case_team import next_nationality
from clusterlabel.domain.catalogue import Catalogue
from clusterlabel.domain.catalogue_shelf import load_catalogue
from clusterlabel.domain.expert import Nationality
from tests.builders import full_scores

GOLD_MINIMUM = 80.0


@pytest.fixture
def gold() -> Catalogue:
    return load_catalogue("gold-2020")


def below_threshold_on(gold: Catalogue, code: str) -> dict[str, int]:
    """Top scores everywhere but one indicator, which misses its threshold by a point."""
    threshold = gold.indicator(code).threshold
    assert threshold  # every Gold indicator has one, above zero
    return {**full_scores(gold), code: threshold - 1}


def test_a_gold_team_fills_its_national_seat_first_then_the_foreign_one_then_none() -> None:
    assert next_nationality(Level.GOLD, []) is Nationality.NATIONAL
    assert next_nationality(Level.GOLD, [Nationality.NATIONAL]) is Nationality.FOREIGN
    assert next_nationality(Level.GOLD, [Nationality.FOREIGN]) is Nationality.NATIONAL
    assert next_nationality(Level.GOLD, [Nationality.FOREIGN, Nationality.NATIONAL]) is None


def test_a_silver_application_names_its_areas_once_each_and_only_from_its_catalogue(gold: Catalogue) -> None:
    first, second, third = gold.codes()[:3]
    assert check_improvement_areas(Level.SILVER, gold, [third, first, second, first]) == [first, second, third]
    with pytest.raises(InvalidInput, match="G-XXX-99 is not an indicator of catalogue gold-2020"):
        check_improvement_areas(Level.SILVER, gold, [first, second, "G-XXX-99"])


def test_only_a_silver_application_names_improvement_areas(gold: Catalogue) -> None:
    assert check_improvement_areas(Level.BRONZE, gold, []) == []
    with pytest.raises(InvalidInput, match="only for a Silver application"):
        check_improvement_areas(Level.GOLD, gold, list(gold.codes()[:3]))


def test_silver_holds_when_the_missed_threshold_is_outside_the_improvement_areas(gold: Catalogue) -> None:
    areas, elsewhere = gold.codes()[:3], gold.codes()[-1]
    scores = below_threshold_on(gold, elsewhere)
    assert supported_level(Level.SILVER, areas, scores, gold, GOLD_MINIMUM) is Level.SILVER


def test_silver_fails_to_bronze_when_an_improvement_area_misses_its_threshold(gold: Catalogue) -> None:
    areas = gold.codes()[:3]
    scores = below_threshold_on(gold, areas[1])
    assert supported_level(Level.SILVER, areas, scores, gold, GOLD_MINIMUM) is Level.BRONZE


def test_a_gold_application_that_misses_gold_is_supported_only_as_bronze(gold: Catalogue) -> None:
    scores = below_threshold_on(gold, gold.codes()[-1])
    assert supported_level(Level.GOLD, (), scores, gold, GOLD_MINIMUM) is Level.BRONZE


def test_an_award_may_grant_less_than_applied_for_but_never_more() -> None:
    check_awardable(Level.BRONZE, applied=Level.SILVER, supported=Level.GOLD)
    with pytest.raises(InvalidInput, match="applied for silver; it cannot award gold"):
        check_awardable(Level.GOLD, applied=Level.SILVER, supported=Level.GOLD)
    with pytest.raises(InvalidInput, match="supports bronze, not silver"):
        check_awardable(Level.SILVER, applied=Level.SILVER, supported=Level.BRONZE)


def test_a_refusal_stands_for_good_once_its_appeal_is_dismissed_or_its_window_closes_unappealed() -> None:
    due = datetime(2026, 6, 1, tzinfo=UTC)
    before, after = due - timedelta(seconds=1), due
    assert not is_refusal_final(None, due, before) and is_refusal_final(None, due, after)
    assert not is_refusal_final({"upheld": None}, due, after)  # lodged in time, not yet decided
    assert is_refusal_final({"upheld": False}, due, before)
    assert is_refusal_final({"upheld": True}, due, before)  # decided again after the upheld appeal: final
