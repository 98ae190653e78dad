"""Registering clusters and experts: bad input is refused field by field."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from clusterlabel.domain.cluster import ClusterProfile
from tests.builders import cluster_profile, expert_profile


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


def test_an_expert_needs_an_aware_certification_date_and_real_language_codes() -> None:
    with pytest.raises(ValidationError, match="certified_until"):
        expert_profile(certified_until="2030-01-01T00:00:00")
    with pytest.raises(ValidationError, match="not ISO 639-1 language codes: english"):
        expert_profile(languages=["english"])
