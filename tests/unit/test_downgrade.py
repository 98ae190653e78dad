"""A decision may grant less than the level applied for: a Gold label's renewal awarded Bronze replaces
the Gold label with a Bronze one, and the cluster holds only that (it may apply for Gold anew)."""

from __future__ import annotations

from clusterlabel.domain.base import Level
from clusterlabel.domain.commands import CloseCase, IssueLabel
from clusterlabel.domain.label_lifecycle import LabelState
from tests.builders import send
from tests.lifecycle import Clock, Lifecycle, memory_app


def test_a_gold_renewal_awarded_bronze_leaves_the_cluster_holding_the_bronze_label_only() -> None:
    clock = Clock()
    life = Lifecycle(memory_app(clock=clock))
    _, gold = life.labelled(Level.GOLD)
    clock.advance(days=600)
    renewal = life.renewal_agreed(gold)
    life.assess(renewal, fraction=0.5)  # below Gold's thresholds
    life.decide(renewal, level=Level.BRONZE)
    bronze = send(life.app, renewal, IssueLabel(), actor="system").label_id
    send(life.app, renewal, CloseCase(), actor="system")

    assert bronze is not None and life.app.get_label(bronze).level is Level.BRONZE
    assert life.app.get_label(gold).state is LabelState.SUPERSEDED
    assert life.app.get_cluster(life.cluster_id).current_labels == {Level.BRONZE: bronze}
    life.apply(Level.GOLD)  # no Gold label held any more: a new Gold round may start
