"""A decision may grant less than the level applied for: a Gold label's renewal awarded Bronze replaces
the Gold label with a Bronze one, and the cluster holds only that (it may apply for Gold anew)."""

from __future__ import annotations

from clusterlabel.domain.base import Level
from clusterlabel.domain.catalogue_shelf import load_catalogue
from clusterlabel.domain.commands import (
    CloseCase,
    DecideLabelAppeal,
    IssueLabel,
    LodgeLabelAppeal,
    RecordAgreement,
    Screen,
    StartRenewal,
    WithdrawLabel,
)
from clusterlabel.domain.label_lifecycle import LabelState
from clusterlabel.interfaces.web.labels import closed_detail
from tests.builders import send
from tests.lifecycle import SECRETARIAT, Clock, Lifecycle, memory_app

AREAS = sorted(load_catalogue("gold-2020").codes()[:3])


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
    # A step on the Gold label is refused naming the label that replaced it.
    assert closed_detail(life.app.get_label(gold)).endswith(f"superseded by label {bronze}; act on that label")


def test_a_silver_renewal_awarded_bronze_while_the_cluster_holds_bronze_too_replaces_both_labels() -> None:
    """The new Bronze label is the cluster's latest Bronze benchmarking and what its Silver renewal earned: it
    supersedes the Bronze label held and the Silver label renewed. (It was refused, "already holds a bronze
    label", which left the award unissued and the Silver label waiting on a renewal that never ended.)"""
    clock = Clock()
    life = Lifecycle(memory_app(clock=clock))
    _, bronze = life.labelled(Level.BRONZE)
    clock.advance(days=580)  # the Silver round, 19 months after the Bronze benchmarking
    _, silver = life.labelled(Level.SILVER, improvement_areas=AREAS)
    clock.advance(days=90)
    renewal = send(life.app, silver, StartRenewal(improvement_areas=AREAS), actor=SECRETARIAT).renewal_case_id
    assert renewal is not None
    send(life.app, renewal, Screen(accepted=True, reason="complete"), actor=SECRETARIAT)
    life.staff(renewal)
    send(life.app, renewal, RecordAgreement(agreed=True), actor=SECRETARIAT)
    life.assess(renewal)
    life.decide(renewal, level=Level.BRONZE)  # the decider grants less than applied for

    renewed = send(life.app, renewal, IssueLabel(), actor="system").label_id
    send(life.app, renewal, CloseCase(), actor="system")

    assert renewed is not None and life.app.get_label(renewed).level is Level.BRONZE
    assert {life.app.get_label(old).state for old in (bronze, silver)} == {LabelState.SUPERSEDED}
    assert life.app.get_label(silver).renewal_case_id is None
    assert life.app.get_cluster(life.cluster_id).current_labels == {Level.BRONZE: renewed}


def test_a_gold_label_withdrawn_while_renewed_and_reinstated_on_appeal_gives_way_to_its_renewals_label() -> None:
    """Its renewal awarded Bronze while the Gold label stood withdrawn (the renewal's label stands on its own);
    the withdrawal reversed on appeal afterwards has that label supersede it, as the award would have done.
    (It was held again with the ended renewal still open on it: never lapsing, never renewable, and blocking
    a new Gold round, beside the Bronze label.)"""
    clock = Clock()
    life = Lifecycle(memory_app(clock=clock))
    _, gold = life.labelled(Level.GOLD)
    clock.advance(days=600)
    renewal = life.renewal_agreed(gold)
    send(life.app, gold, WithdrawLabel(reason="The management left."), actor="secretariat:oliver")
    send(life.app, gold, LodgeLabelAppeal(grounds="The management is back."), actor="cluster:contact")
    life.assess(renewal, fraction=0.5)
    life.decide(renewal, level=Level.BRONZE)
    bronze = send(life.app, renewal, IssueLabel(), actor="system").label_id
    send(life.app, renewal, CloseCase(), actor="system")

    upheld = DecideLabelAppeal(upheld=True, rationale="The management never left.")
    send(life.app, gold, upheld, actor="board:appeals")

    reinstated = life.app.get_label(gold)
    assert reinstated.state is LabelState.SUPERSEDED and reinstated.superseded_by == bronze
    assert reinstated.renewal_case_id is None
    assert life.app.get_cluster(life.cluster_id).current_labels == {Level.BRONZE: bronze}
    life.apply(Level.GOLD)  # no Gold label held: a new Gold round may start
