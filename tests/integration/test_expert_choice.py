"""Expert proposals go to the least-loaded eligible expert, by the workload read model, and never to an
expert whose every account is deactivated, by the accounts read model."""

from __future__ import annotations

from pathlib import Path

from clusterlabel.activities.application import CertificationApp
from clusterlabel.activities.certification import CertificationActivities
from clusterlabel.activities.models import ChooseExpertInput
from clusterlabel.domain.account import Role
from clusterlabel.domain.base import Level
from clusterlabel.domain.commands import ProposeExpert
from clusterlabel.domain.record_commands import DeactivateAccount, OpenAccount, RevokeRole
from clusterlabel.projections.factory import open_read_models
from tests.builders import register, send
from tests.lifecycle import SECRETARIAT, Clock, Lifecycle
from tests.stores import sqlite_env


def test_the_next_proposal_goes_to_the_expert_with_fewer_open_assignments(tmp_path: Path) -> None:
    clock = Clock()
    app = CertificationApp(env=sqlite_env(tmp_path), clock=clock)
    first = Lifecycle(app)
    busy, free = first.expert(name="Aaron Busy"), first.expert(name="Zoe Free")
    first.auditing(Level.BRONZE)  # Aaron, first by name, now has an open assignment
    assert app.get_case(next(iter(app.get_cluster(first.cluster_id).open_cases))).expert_ids == [busy]

    second = Lifecycle(app, country="DE")
    case_id = second.screened()
    with open_read_models(sqlite_env(tmp_path), app) as models:
        models.catch_up()
        assert models.expert_workload().get(busy) == 1
        balanced = CertificationActivities(app, workload=models.expert_workload)
        unbalanced = CertificationActivities(app)
        at = clock()
        assert unbalanced.choose_expert(ChooseExpertInput(case_id=case_id, at=at)).expert_id == busy
        assert balanced.choose_expert(ChooseExpertInput(case_id=case_id, at=at)).expert_id == free


def test_a_broken_read_side_never_blocks_a_proposal(tmp_path: Path) -> None:
    app = CertificationApp(env=sqlite_env(tmp_path), clock=Clock())
    life = Lifecycle(app)
    expert = life.expert()
    case_id = life.screened()

    def unavailable() -> dict:
        raise RuntimeError("views are being rebuilt")

    choice = CertificationActivities(app, workload=unavailable).choose_expert(
        ChooseExpertInput(case_id=case_id, at=app.clock())
    )
    assert choice.expert_id == expert
    send(app, case_id, ProposeExpert(expert_id=expert), actor=SECRETARIAT)


def test_an_expert_whose_every_account_is_deactivated_is_not_proposed(tmp_path: Path) -> None:
    clock = Clock()
    app = CertificationApp(env=sqlite_env(tmp_path), clock=clock)
    life = Lifecycle(app)
    gone, staying = life.expert(name="Aaron Gone"), life.expert(name="Zoe Staying")
    accounts = {
        expert: register(app, OpenAccount(roles=[Role.EXPERT], expert_id=expert), actor=SECRETARIAT)
        for expert in (gone, staying)
    }
    second_of_gone = register(app, OpenAccount(roles=[Role.EXPERT], expert_id=gone), actor=SECRETARIAT)
    case_id = life.screened()
    with open_read_models(sqlite_env(tmp_path), app) as models:
        choose = CertificationActivities(app, locked_out=models.experts_locked_out).choose_expert
        send(app, accounts[gone], DeactivateAccount(reason="left the pool"), actor=SECRETARIAT)
        models.catch_up()
        assert choose(ChooseExpertInput(case_id=case_id, at=clock())).expert_id == gone  # one account still works

        send(app, second_of_gone, DeactivateAccount(reason="left the pool"), actor=SECRETARIAT)
        models.catch_up()
        assert models.experts_locked_out() == {gone}
        assert choose(ChooseExpertInput(case_id=case_id, at=clock())).expert_id == staying
        alone = CertificationActivities(app).choose_expert(ChooseExpertInput(case_id=case_id, at=clock()))
        assert alone.expert_id == gone  # without the read side, by the write side alone


def test_an_expert_whose_account_lost_its_expert_role_is_not_proposed(tmp_path: Path) -> None:
    clock = Clock()
    app = CertificationApp(env=sqlite_env(tmp_path), clock=clock)
    life = Lifecycle(app)
    demoted, staying = life.expert(name="Aaron Demoted"), life.expert(name="Zoe Staying")
    both = OpenAccount(roles=[Role.EXPERT, Role.OFFICER], expert_id=demoted)
    account = register(app, both, actor=SECRETARIAT)  # still active, as an officer
    register(app, OpenAccount(roles=[Role.EXPERT], expert_id=staying), actor=SECRETARIAT)
    case_id = life.screened()
    send(app, account, RevokeRole(role=Role.EXPERT), actor=SECRETARIAT)
    with open_read_models(sqlite_env(tmp_path), app) as models:
        models.catch_up()
        assert models.experts_locked_out() == {demoted}
        choose = CertificationActivities(app, locked_out=models.experts_locked_out).choose_expert
        assert choose(ChooseExpertInput(case_id=case_id, at=clock())).expert_id == staying
