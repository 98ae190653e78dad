"""Registering clusters and experts: bad input is refused field by field, and a person is registered once."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from clusterlabel.domain.base import StepNotAllowed
from clusterlabel.domain.cluster import ClusterProfile
from clusterlabel.domain.record_commands import RegisterExpert
from tests.builders import cluster_profile, expert_profile, register
from tests.lifecycle import SECRETARIAT, event_count, memory_app


def test_a_cluster_profile_names_every_bad_field() -> None:
    with pytest.raises(ValidationError) as refused:
        ClusterProfile.model_validate(
            {
                "name": "",
                "country": "XX",
                "sector": "ict",
                "website": "marine",
                "members": -1,
                "member_types": ["business", "aliens"],
                "staff_fte": 1,
                "eccp_listed": True,
                "extra": 1,
            }
        )
    fields = {error["loc"][0] for error in refused.value.errors()}
    assert fields == {"name", "country", "website", "members", "member_types", "extra"}


def test_country_codes_are_normalised_to_upper_case() -> None:
    assert cluster_profile(country="de").country == "DE"


def test_a_clusters_postal_address_is_optional_and_a_blank_one_is_none() -> None:
    assert cluster_profile().address is None  # as every profile registered before addresses reads back
    assert cluster_profile(address="   ").address is None  # a form's empty field
    assert cluster_profile(address=" Naujoji Uosto g. 8, Klaipėda ").address == "Naujoji Uosto g. 8, Klaipėda"
    with pytest.raises(ValidationError, match="address"):
        cluster_profile(address="Line one\nLine two")  # printed on one line of the certificate


def test_an_expert_needs_an_aware_certification_date_and_real_language_codes() -> None:
    with pytest.raises(ValidationError, match="certified_until"):
        expert_profile(certified_until="2030-01-01T00:00:00")
    with pytest.raises(ValidationError, match="not ISO 639-1 language codes: english"):
        expert_profile(languages=["english"])


def test_an_expert_registered_again_without_the_key_is_refused_naming_only_the_first() -> None:
    app = memory_app()
    first = register(app, RegisterExpert(profile=expert_profile(name="Anna  Expert")), actor=SECRETARIAT)
    before = event_count(app)

    again = RegisterExpert(profile=expert_profile(name=" anna expert "))
    with pytest.raises(StepNotAllowed) as refused:
        register(app, again, actor=SECRETARIAT)

    assert str(first) in refused.value.message and "Anna" not in refused.value.message
    assert event_count(app) == before and app.expert_ids() == [first]


def test_two_experts_who_share_a_name_and_a_country_are_both_registered() -> None:
    app = memory_app()
    first = register(app, RegisterExpert(profile=expert_profile(name="Anna Expert")), actor=SECRETARIAT)
    namesake = register(
        app, RegisterExpert(profile=expert_profile(name="Anna Expert", languages=["fr"])), actor=SECRETARIAT
    )

    assert namesake != first and sorted(app.expert_ids()) == sorted([first, namesake])


def test_an_expert_registration_retried_with_its_key_answers_the_same_expert() -> None:
    app = memory_app()
    command = RegisterExpert(profile=expert_profile())
    first = register(app, command, actor=SECRETARIAT, command_key="http:expert:retried")
    before = event_count(app)

    assert register(app, command, actor=SECRETARIAT, command_key="http:expert:retried") == first
    assert event_count(app) == before


def test_an_expert_of_the_same_name_from_another_country_is_another_person() -> None:
    app = memory_app()
    register(app, RegisterExpert(profile=expert_profile(country="DE")), actor=SECRETARIAT)
    register(app, RegisterExpert(profile=expert_profile(country="AT")), actor=SECRETARIAT)

    assert len(app.expert_ids()) == 2
