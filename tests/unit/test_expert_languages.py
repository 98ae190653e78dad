"""A language the expert shares with the cluster counts when choosing whom to propose: such an expert is
proposed before the others, whatever their load; a cluster that names no language ranks by load alone."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from clusterlabel.domain.record_commands import RegisterCluster
from tests.builders import cluster_profile, key, register
from tests.lifecycle import SECRETARIAT, Lifecycle, memory_app


def test_an_expert_sharing_the_clusters_language_is_proposed_before_a_less_loaded_one() -> None:
    life = Lifecycle(memory_app())
    profile = cluster_profile(name="Kaunas Food Cluster", languages=["LT", "en"])
    life.cluster_id = register(life.app, RegisterCluster(profile=profile), actor=SECRETARIAT, command_key=key())
    english = life.expert(name="Aaron English", languages=["de", "fr"])
    lithuanian = life.expert(name="Zita Lithuanian", languages=["lt"])
    case_id = life.screened()
    busy = {lithuanian: 3}
    assert life.app.eligible_experts(case_id, workload=busy) == [lithuanian, english]


def test_a_cluster_that_names_no_language_ranks_its_experts_by_load_then_name() -> None:
    life = Lifecycle(memory_app())
    first = life.expert(name="Aaron", languages=["lt"])
    second = life.expert(name="Berta", languages=["de"])
    case_id = life.screened()
    assert life.app.eligible_experts(case_id) == [first, second]
    assert life.app.eligible_experts(case_id, workload={first: 1}) == [second, first]


def test_a_cluster_declares_its_languages_as_iso_codes_and_none_by_default() -> None:
    assert cluster_profile().languages == []  # as every profile registered before languages reads back
    assert cluster_profile(languages=[" EN", "lt", "en"]).languages == ["en", "lt"]
    with pytest.raises(ValidationError, match="not ISO 639-1 language codes: lithuanian"):
        cluster_profile(languages=["lithuanian"])
