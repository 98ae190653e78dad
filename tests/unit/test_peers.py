"""Peer statistics: quartiles, median and percentile from a histogram; the peer group and its widening."""

from __future__ import annotations

import statistics
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clusterlabel.domain.peers import PeerProfile, choose_group, peer_stats, quantile
from clusterlabel.domain.policy import default_policy

MARITIME_LT_SMALL = PeerProfile(level="bronze", sector="maritime", country="LT", size_band="small")


@given(st.lists(st.integers(min_value=0, max_value=5), min_size=2, max_size=40))
def test_quartiles_of_a_histogram_are_the_inclusive_quartiles_of_its_scores(scores: list[int]) -> None:
    q1, median, q3 = statistics.quantiles(scores, n=4, method="inclusive")
    histogram = Counter(scores)
    assert quantile(histogram, 0.25) == pytest.approx(q1)
    assert quantile(histogram, 0.5) == pytest.approx(median) == statistics.median(scores)
    assert quantile(histogram, 0.75) == pytest.approx(q3)


def test_a_score_in_the_middle_of_its_peers_is_at_the_fiftieth_percentile_ties_counting_half() -> None:
    stats = peer_stats(3, Counter({1: 2, 3: 2, 5: 2}))
    assert stats is not None
    assert (stats.count, stats.q1, stats.median, stats.q3, stats.percentile) == (6, 1.5, 3.0, 4.5, 50.0)
    assert peer_stats(5, Counter({1: 1, 2: 1})).percentile == 100.0  # type: ignore[union-attr]


def test_no_peers_give_no_statistics() -> None:
    assert peer_stats(3, Counter()) is None
    assert peer_stats(3, Counter({2: 0, 4: -1})) is None  # a cluster's own rounds taken out leave nothing


def test_the_narrowest_group_with_the_minimum_of_peers_is_chosen() -> None:
    peers = Counter({MARITIME_LT_SMALL: 5, MARITIME_LT_SMALL.model_copy(update={"size_band": "large"}): 3})
    group = choose_group(MARITIME_LT_SMALL, peers, minimum=5)
    assert group is not None and group.widened == [] and group.count == 5
    assert group.kept == {"level": "bronze", "sector": "maritime", "country": "LT", "size_band": "small"}


def test_a_small_group_is_widened_first_by_size_then_by_country_then_by_sector() -> None:
    peers = Counter(
        {
            MARITIME_LT_SMALL: 2,
            MARITIME_LT_SMALL.model_copy(update={"size_band": "large"}): 1,
            MARITIME_LT_SMALL.model_copy(update={"country": "DE"}): 1,
            PeerProfile(level="bronze", sector="food", country="SE", size_band="medium"): 1,
        }
    )
    assert choose_group(MARITIME_LT_SMALL, peers, minimum=3).widened == ["size_band"]  # type: ignore[union-attr]
    assert choose_group(MARITIME_LT_SMALL, peers, minimum=4).widened == ["size_band", "country"]  # type: ignore[union-attr]
    widest = choose_group(MARITIME_LT_SMALL, peers, minimum=5)
    assert widest is not None and widest.kept == {"level": "bronze"} and widest.count == 5


def test_when_even_every_peer_together_is_fewer_than_the_minimum_no_comparison_is_shown() -> None:
    peers = Counter({MARITIME_LT_SMALL: 4, PeerProfile(level="gold"): 0})
    assert choose_group(MARITIME_LT_SMALL, peers, minimum=5) is None


def test_the_policy_names_a_peer_minimum_and_places_a_cluster_in_a_size_band_by_its_members() -> None:
    policy = default_policy()
    assert policy.peer_group_minimum == 5
    assert [policy.size_band(members) for members in (0, 15, 49, 50, 149, 150, 900)] == [
        "small",
        "small",
        "small",
        "medium",
        "medium",
        "large",
        "large",
    ]
