"""The application on real event stores: round trips, retries and races, SQLite and PostgreSQL alike."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from clusterlabel.activities.application import CertificationApp
from clusterlabel.domain.base import ConcurrencyConflict, DomainError, Level
from clusterlabel.domain.case_lifecycle import CaseState
from clusterlabel.domain.commands import Screen, StartRenewal, SubmitApplication, WithdrawCase
from clusterlabel.domain.label_lifecycle import LabelState
from clusterlabel.domain.policy import default_policy
from clusterlabel.domain.record_commands import RegisterCluster
from tests.builders import cluster_profile, key, register, send
from tests.lifecycle import SECRETARIAT, Clock, Lifecycle, event_count
from tests.stores import postgres_schema, sqlite_env


class EventStoreContract:
    """What every store must do; subclasses provide the `env` fixture."""

    @pytest.fixture
    def clock(self) -> Clock:
        return Clock()

    def open_app(self, env: dict[str, str], clock: Clock) -> CertificationApp:
        return CertificationApp(env=env, clock=clock)

    def test_a_whole_lifecycle_reads_back_identically_from_a_fresh_process(
        self, env: dict[str, str], clock: Clock
    ) -> None:
        life = Lifecycle(self.open_app(env, clock))
        life.expert("FR")
        case_id, label_id = life.labelled(Level.GOLD, fraction=1.0)
        written_case, written_label = life.app.get_case(case_id), life.app.get_label(label_id)

        reopened = self.open_app(env, clock)
        case, label = reopened.get_case(case_id), reopened.get_label(label_id)
        assert case.state is CaseState.AWARDED and case.expert_ids == written_case.expert_ids
        assert case.scores == written_case.scores and case.deadlines == written_case.deadlines
        assert label.state is LabelState.ACTIVE and label.label_code == written_label.label_code
        assert label.valid_until == written_label.valid_until and label.valid_until.tzinfo is not None
        assert reopened.find_label(label.label_code).verification_code == written_label.verification_code

    def test_a_retried_command_racing_itself_is_recorded_once(self, env: dict[str, str], clock: Clock) -> None:
        life = Lifecycle(self.open_app(env, clock))
        case_id = life.apply()
        before = event_count(life.app)
        shared_key, errors = key(), []
        apps = [self.open_app(env, clock) for _ in range(6)]

        def screen(app: CertificationApp) -> None:
            try:
                send(app, case_id, Screen(accepted=True, reason="ok"), actor=SECRETARIAT, command_key=shared_key)
            except Exception as error:
                errors.append(error)

        threads = [threading.Thread(target=screen, args=(app,)) for app in apps]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert event_count(life.app) == before + 1
        assert life.app.get_case(case_id).state is CaseState.ASSIGNING

    def test_a_retried_registration_racing_itself_gives_one_cluster(self, env: dict[str, str], clock: Clock) -> None:
        shared_key, ids, errors = key(), [], []
        apps = [self.open_app(env, clock) for _ in range(6)]

        def register_once(app: CertificationApp) -> None:
            try:
                ids.append(
                    register(app, RegisterCluster(profile=cluster_profile()), actor=SECRETARIAT, command_key=shared_key)
                )
            except Exception as error:
                errors.append(error)

        threads = [threading.Thread(target=register_once, args=(app,)) for app in apps]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert len(set(ids)) == 1 and event_count(apps[0]) == 1

    def test_a_repeated_application_after_the_case_moved_on_records_nothing(
        self, env: dict[str, str], clock: Clock
    ) -> None:
        life = Lifecycle(self.open_app(env, clock))
        apply_key = key()
        application = SubmitApplication(cluster_id=life.cluster_id, level=Level.BRONZE)
        case_id = send(life.app, life.cluster_id, application, actor=SECRETARIAT, command_key=apply_key).id
        send(life.app, case_id, Screen(accepted=True, reason="ok"), actor=SECRETARIAT)
        before = event_count(life.app)
        # The cluster's open Bronze case would refuse a new application: the repeat still answers.
        assert send(life.app, life.cluster_id, application, actor=SECRETARIAT, command_key=apply_key).id == case_id
        assert event_count(life.app) == before

    def test_two_different_commands_racing_on_one_case_never_both_win(self, env: dict[str, str], clock: Clock) -> None:
        life = Lifecycle(self.open_app(env, clock))
        case_id = life.apply()
        before = event_count(life.app)
        other = self.open_app(env, clock)
        stale = other.get_case(case_id)
        send(life.app, case_id, WithdrawCase(reason="changed plans"), actor=SECRETARIAT)
        stale_key = key()
        stale.screen(True, "ok", clock(), default_policy(), SECRETARIAT, stale_key)
        with pytest.raises(ConcurrencyConflict):
            other.save_once(stale_key, stale)
        assert event_count(life.app) == before + 1
        assert self.open_app(env, clock).get_case(case_id).state is CaseState.WITHDRAWN

    def test_a_refused_multi_record_command_writes_none_of_its_records(self, env: dict[str, str], clock: Clock) -> None:
        life = Lifecycle(self.open_app(env, clock))
        _, label_id = life.labelled()
        clock.now = life.app.get_label(label_id).renewable_until
        before = event_count(life.app)
        with pytest.raises(DomainError, match="must apply anew"):
            send(life.app, label_id, StartRenewal(), actor=SECRETARIAT)
        assert event_count(life.app) == before
        assert life.app.get_cluster(life.cluster_id).open_cases == {}


class TestSQLiteEventStore(EventStoreContract):
    @pytest.fixture
    def env(self, tmp_path: Path) -> dict[str, str]:
        return sqlite_env(tmp_path)


@pytest.mark.postgres
class TestPostgresEventStore(EventStoreContract):
    @pytest.fixture
    def env(self) -> Iterator[dict[str, str]]:
        yield from postgres_schema()
