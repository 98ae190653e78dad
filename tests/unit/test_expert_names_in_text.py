"""An escalation's text, recorded for good, names no expert: each name a refusal quoted becomes the
expert's id (domain/expert.py: without_names)."""

from __future__ import annotations

from clusterlabel.domain.expert import Expert, without_names
from tests.builders import expert_profile, key
from tests.lifecycle import SECRETARIAT


def expert(name: str) -> Expert:
    return Expert(expert_profile(name=name).model_dump(mode="json"), SECRETARIAT, key("expert"))


def test_each_name_becomes_the_experts_id_and_a_longer_name_wins_over_a_shorter_one_inside_it() -> None:
    ann, ann_lee = expert("Ann"), expert("Ann Lee")

    text = without_names("Ann Lee cannot be proposed; Ann's certification has lapsed", [ann, ann_lee])

    assert text == f"expert {ann_lee.id} cannot be proposed; expert {ann.id}'s certification has lapsed"


def test_a_name_inside_another_word_is_left_alone() -> None:
    ali = expert("Ali")

    assert without_names("Alice asked for Ali", [ali]) == f"Alice asked for expert {ali.id}"


def test_a_name_several_experts_share_names_none_of_them() -> None:
    first, second = expert("erased person"), expert("erased person")

    text = without_names("erased person cannot be proposed", [first, second])

    assert text == "an expert cannot be proposed"
    assert str(first.id) not in text and str(second.id) not in text
