"""A refusal names an end (of a certification, a qualification, an affiliation) by its last valid day, as the
pages do: an end is kept as the first instant past it, so "valid through 31 March" ends on 1 April 00:00."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from clusterlabel.domain import affiliation, qualification
from clusterlabel.domain.affiliation import Affiliation
from clusterlabel.domain.base import InvalidInput, Level, StepNotAllowed
from clusterlabel.domain.expert import Expert
from clusterlabel.domain.qualification import Qualification
from tests.builders import expert_profile
from tests.lifecycle import SECRETARIAT

END = datetime(2028, 4, 1, tzinfo=UTC)  # the end of a validity through 31 March 2028
LAST_DAY = "2028-03-31"
AFTER = datetime(2028, 4, 2, 9, tzinfo=UTC)


def certified_through_march() -> Expert:
    return Expert(expert_profile(certified_until=END).model_dump(mode="json"), SECRETARIAT, "k")


def test_a_lapsed_qualification_is_named_by_its_last_day() -> None:
    held = {Level.SILVER: Qualification(Level.SILVER, END)}
    with pytest.raises(StepNotAllowed, match=f"silver expert certification ended on {LAST_DAY}: "):
        qualification.check_qualified("Anna", held, Level.SILVER, AFTER, "sign an assessment")


def test_a_lapsed_certification_is_named_by_its_last_day() -> None:
    with pytest.raises(StepNotAllowed, match=f"Anna Expert's expert certification ended on {LAST_DAY}: "):
        certified_through_march().check_certified(AFTER, "accept an assignment")


def test_a_renewal_that_does_not_run_later_names_its_last_day() -> None:
    with pytest.raises(InvalidInput, match=f"the new certification end {LAST_DAY} is not later"):
        certified_through_march().renew_certification(END, SECRETARIAT, "renewal")


def test_a_qualification_that_does_not_run_later_names_the_current_last_day() -> None:
    expert = certified_through_march()
    with pytest.raises(InvalidInput, match=f"already qualified for gold until {LAST_DAY}; "):
        expert.record_qualification(Level.GOLD, END, "course", datetime(2027, 1, 1, tzinfo=UTC), SECRETARIAT, "q")


def test_an_affiliation_within_the_cooling_off_period_is_named_by_its_last_day() -> None:
    assert Affiliation(until=END).describe() == (
        f"was affiliated with the cluster until {LAST_DAY}, within the cooling-off period"
    )


def test_an_affiliation_ending_before_it_began_names_the_day_typed_as_its_end() -> None:
    # As the form sends them: begun on 1 April (its midnight), ended on 31 March (kept as 1 April 00:00).
    with pytest.raises(InvalidInput, match=rf"cannot end \({LAST_DAY}\) before it began \(2028-04-01\)"):
        affiliation.check_period(datetime(2028, 4, 1, tzinfo=UTC), END)
    affiliation.check_period(datetime(2028, 3, 31, tzinfo=UTC), END)  # one day: begun and ended on 31 March
