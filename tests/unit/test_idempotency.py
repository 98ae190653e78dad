"""Commands retried with the same key record nothing new and answer the same."""

from __future__ import annotations

import pytest

from clusterlabel.domain.base import ConcurrencyConflict, Level
from clusterlabel.domain.commands import Screen, SubmitApplication, WithdrawCase
from clusterlabel.domain.record_commands import RegisterCluster
from tests.builders import cluster_profile, key, register, send
from tests.lifecycle import SECRETARIAT, Lifecycle, event_count, memory_app


def test_registering_a_cluster_twice_with_one_key_gives_one_cluster() -> None:
    app = memory_app()
    command_key = key()
    command = RegisterCluster(profile=cluster_profile())
    first = register(app, command, actor=SECRETARIAT, command_key=command_key)
    before = event_count(app)
    assert register(app, command, actor=SECRETARIAT, command_key=command_key) == first
    assert event_count(app) == before


def test_a_repeated_step_records_nothing_even_when_it_would_now_be_refused() -> None:
    life = Lifecycle(memory_app())
    case_id = life.apply()
    screening_key = key()
    send(life.app, case_id, Screen(accepted=True, reason="ok"), actor=SECRETARIAT, command_key=screening_key)
    before = event_count(life.app)
    send(
        life.app, case_id, Screen(accepted=True, reason="ok"), actor=SECRETARIAT, command_key=screening_key
    )  # a retry, not a new step
    assert event_count(life.app) == before


def test_a_repeated_application_returns_the_first_case() -> None:
    life = Lifecycle(memory_app())
    command_key = key()
    command = SubmitApplication(cluster_id=life.cluster_id, level=Level.BRONZE)
    first = send(life.app, life.cluster_id, command, actor=SECRETARIAT, command_key=command_key).id
    assert send(life.app, life.cluster_id, command, actor=SECRETARIAT, command_key=command_key).id == first


def test_a_stale_copy_cannot_overwrite_a_newer_change() -> None:
    life = Lifecycle(memory_app())
    case_id = life.apply()
    stale = life.app.get_case(case_id)
    send(life.app, case_id, WithdrawCase(reason="changed plans"), actor=SECRETARIAT)
    stale_key = key()
    stale.screen(True, "ok", life.app.clock(), life.app.policy, SECRETARIAT, stale_key)
    with pytest.raises(ConcurrencyConflict, match="changed by another command"):
        life.app.save_once(stale_key, stale)
    assert life.app.get_case(case_id).state == "withdrawn"
