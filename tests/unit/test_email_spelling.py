"""One person per address however its letters are written, and never two people made one."""

from __future__ import annotations

import pytest

from clusterlabel.interfaces.web.people import normal_email


@pytest.mark.parametrize(
    ("written", "same_as"),
    [
        ("Maria.Rossi@Example.ORG", "maria.rossi@example.org"),
        ("  ANNA@cluster.example  ", "anna@cluster.example"),
        ("jan@BÜCHER.example", "jan@bücher.example"),
    ],
)
def test_ascii_capitals_and_the_domains_case_make_no_second_person(written: str, same_as: str) -> None:
    assert normal_email(written) == normal_email(same_as)


def test_letters_outside_ascii_are_kept_as_written_so_two_people_stay_two() -> None:
    assert normal_email("İlker@cluster.example") == "İlker@cluster.example"  # Turkish dotted capital I
    assert normal_email("İlker@cluster.example") != normal_email("i̇lker@cluster.example")
    assert normal_email("STRASSE@cluster.example") != normal_email("straße@cluster.example")
