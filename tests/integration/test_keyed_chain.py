"""The chain needs its key: whoever can rewrite events and the chain, but lacks the key, is caught; a rebuild
never replaces a chain that finds tampering; a chain made before it had a key is kept, reported and re-keyed;
an anchored head tells when the chain was rebuilt over a rewritten log. On SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from structlog.testing import capture_logs

from clusterlabel.activities.application import CertificationApp
from clusterlabel.domain.record_commands import RegisterCluster
from clusterlabel.projections.chain_head import ChainHead
from clusterlabel.projections.chain_key import UNKEYED, ChainKey, chained, event_hash
from clusterlabel.projections.event_chain import LEGACY_DDL, EventChainView, Problem
from clusterlabel.projections.factory import open_read_models
from clusterlabel.projections.queries import ChainTampered, ReadModels
from tests.builders import T0, cluster_profile, register
from tests.stores import POSTGRES, postgres_schema

KEY = ChainKey("the-chain-key-kept-outside-the-database-0123")


class KeyedChainContract:
    """Subclasses say how to reach the store and rewrite a stored event in it."""

    @pytest.fixture
    def env(self) -> dict[str, str]:
        raise NotImplementedError

    def rewrite_event(self, env: dict[str, str], aggregate_id: UUID, old: str, new: str) -> None:
        raise NotImplementedError

    @pytest.fixture
    def app(self, env: dict[str, str]) -> Iterator[CertificationApp]:
        app = CertificationApp(env=env)
        yield app
        app.close()

    @pytest.fixture
    def clusters(self, app: CertificationApp) -> list[UUID]:
        return [self.register(app, f"Cluster {n}") for n in range(6)]

    @pytest.fixture
    def views(self, env: dict[str, str], app: CertificationApp, clusters: list[UUID]) -> Iterator[ReadModels]:
        models = open_read_models(env, app, chain_key=KEY, only=["event_chain"])
        models.catch_up()
        yield models
        models.close()

    @staticmethod
    def register(app: CertificationApp, name: str) -> UUID:
        return register(app, RegisterCluster(profile=cluster_profile(name=name)), actor="secretariat:sam")

    def rechain(self, views: ReadModels, link: Any, scheme: str, keyed_until: int = 0) -> None:
        """What an attacker with write access does after rewriting events: recompute every hash of the chain
        (keeping the links up to `keyed_until` as the key made them)."""
        heads: dict[str, str] = {}
        log = ""
        rows = []
        for event in views.app.recorder.select_notifications(start=1, limit=10_000):
            aggregate = str(UUID(str(event.originator_id)))
            digest = event_hash(event)
            linker, named = (KEY.link, KEY.scheme) if event.id <= keyed_until else (link, scheme)
            heads[aggregate], log = linker(heads.get(aggregate, ""), digest), linker(log, digest)
            rows.append((digest, heads[aggregate], log, named, event.id))
        with views.view(EventChainView).write() as cursor:
            cursor.executemany(
                views.view(EventChainView).q(
                    "UPDATE {event_chain} SET event_hash = ?, aggregate_hash = ?, log_hash = ?, scheme = ? "
                    "WHERE notification_id = ?"
                ),
                rows,
            )

    # ---- without the key, a recomputed chain does not check out --------------------------------------

    def test_an_untouched_keyed_chain_verifies(self, views: ReadModels) -> None:
        report = views.verify()

        assert report.ok and report.checked == 6
        assert views.view(EventChainView).last_link()["scheme"] == KEY.scheme  # type: ignore[index]

    def test_rewriting_an_event_and_recomputing_the_chain_without_the_key_is_caught(
        self, env: dict[str, str], views: ReadModels, clusters: list[UUID]
    ) -> None:
        self.rewrite_event(env, clusters[2], "Cluster 2", "Cluster X")
        self.rechain(views, chained, KEY.scheme)  # the old, unkeyed links, under the keyed scheme's name

        problems = {(p.aggregate_id, p.problem) for p in views.verify().problems}

        assert (clusters[0], Problem.CHAIN_BROKEN) in problems
        assert Problem.ALTERED not in {problem for _, problem in problems}  # the event hashes were recomputed

    def test_an_attacker_cannot_downgrade_the_chain_to_unkeyed_links(
        self, env: dict[str, str], views: ReadModels, clusters: list[UUID]
    ) -> None:
        self.rewrite_event(env, clusters[2], "Cluster 2", "Cluster X")
        self.rechain(views, chained, UNKEYED)

        report = views.verify()

        assert not report.ok
        assert [p.problem for p in report.problems] == [Problem.UNKEYED]
        with pytest.raises(ChainTampered):  # only the operator's --rekey, once after upgrading, re-keys
            views.rebuild()

    def test_unkeyed_links_after_keyed_ones_break_the_chain_and_no_rebuild_re_keys_them(
        self, env: dict[str, str], views: ReadModels, clusters: list[UUID]
    ) -> None:
        self.rewrite_event(env, clusters[4], "Cluster 4", "Cluster X")
        first_of_cluster_4 = next(
            e.id for e in views.app.recorder.select_notifications(1, 100) if e.originator_id == clusters[4]
        )
        self.rechain(views, chained, UNKEYED, keyed_until=first_of_cluster_4 - 1)

        report = views.verify()

        assert Problem.CHAIN_BROKEN in {p.problem for p in report.problems}
        with pytest.raises(ChainTampered):
            views.rebuild(rekey=True)

    def test_a_chain_made_with_another_key_is_reported_as_such(
        self, env: dict[str, str], views: ReadModels, clusters: list[UUID]
    ) -> None:
        forger = ChainKey("a-key-the-attacker-made-up-for-the-occasion")
        self.rewrite_event(env, clusters[2], "Cluster 2", "Cluster X")
        self.rechain(views, forger.link, forger.scheme)

        assert [p.problem for p in views.verify().problems] == [Problem.OTHER_KEY]

    # ---- no rebuild over tampering ------------------------------------------------------------------------

    def test_a_rebuild_refuses_to_replace_a_chain_that_finds_tampering_and_keeps_the_evidence(
        self, env: dict[str, str], views: ReadModels, clusters: list[UUID]
    ) -> None:
        self.rewrite_event(env, clusters[3], "Cluster 3", "Cluster X")

        with pytest.raises(ChainTampered) as refused:
            views.rebuild()

        assert [(p.aggregate_id, p.problem) for p in refused.value.report.problems] == [(clusters[3], Problem.ALTERED)]
        assert [(p.aggregate_id, p.problem) for p in views.verify().problems] == [(clusters[3], Problem.ALTERED)]

    def test_a_rebuild_over_tampering_when_accepted_says_so_loudly(
        self, env: dict[str, str], views: ReadModels, clusters: list[UUID]
    ) -> None:
        self.rewrite_event(env, clusters[3], "Cluster 3", "Cluster X")

        with capture_logs() as logs:
            views.rebuild(accept_tampering=True)

        assert [entry["log_level"] for entry in logs if entry["event"] == "chain.rebuilt_over_tampering"] == ["error"]
        assert views.verify().ok  # the new chain vouches for the log as it is now

    # ---- a chain made before it had a key -----------------------------------------------------------------

    def make_legacy(self, env: dict[str, str], app: CertificationApp, views: ReadModels) -> None:
        """The chain as the code before keys left it: unkeyed links, no scheme column, its old shape."""
        chain = views.view(EventChainView)
        self.rechain(views, chained, UNKEYED)
        with chain.write() as cursor:
            cursor.execute(chain.q("ALTER TABLE {event_chain} DROP COLUMN scheme"))
            legacy = chain.shape_of(LEGACY_DDL, revision=1)
            cursor.execute(chain.q("UPDATE {view_shapes} SET shape = ? WHERE view = ?"), (legacy, chain.name))
        views.close()

    def test_a_chain_made_before_keys_is_kept_reported_unkeyed_and_re_keyed_by_a_verified_rebuild(
        self, env: dict[str, str], app: CertificationApp, views: ReadModels, clusters: list[UUID]
    ) -> None:
        self.make_legacy(env, app, views)

        with open_read_models(env, app, chain_key=KEY, only=["event_chain"]) as upgraded:
            before = upgraded.verify()
            self.register(app, "Cluster after the upgrade")
            upgraded.catch_up()
            continued = upgraded.verify()
            with pytest.raises(ChainTampered):  # re-keying is the operator's explicit choice
                upgraded.rebuild()
            upgraded.rebuild(rekey=True)
            after = upgraded.verify()

        assert before.checked == 6 and [p.problem for p in before.problems] == [Problem.UNKEYED]
        assert continued.checked == 7 and [p.problem for p in continued.problems] == [Problem.UNKEYED]
        assert after.ok and after.checked == 7

    def test_a_legacy_chain_over_a_tampered_log_is_not_re_keyed(
        self, env: dict[str, str], app: CertificationApp, views: ReadModels, clusters: list[UUID]
    ) -> None:
        self.make_legacy(env, app, views)
        self.rewrite_event(env, clusters[1], "Cluster 1", "Cluster X")

        with open_read_models(env, app, chain_key=KEY, only=["event_chain"]) as upgraded, pytest.raises(ChainTampered):
            upgraded.rebuild(rekey=True)

    def test_a_chain_of_a_shape_the_code_cannot_migrate_is_refused_never_dropped(self, views: ReadModels) -> None:
        chain = views.view(EventChainView)
        with chain.write() as cursor:
            cursor.execute(chain.q("UPDATE {view_shapes} SET shape = 'older' WHERE view = ?"), (chain.name,))

        with pytest.raises(RuntimeError, match="never dropped"):
            chain.create_table()  # as a process starting with this code would

        assert views.verify().ok and views.verify().checked == 6

    # ---- the head, anchored elsewhere ---------------------------------------------------------------------

    def test_an_anchored_head_round_trips_and_a_longer_chain_still_extends_it(
        self, app: CertificationApp, views: ReadModels
    ) -> None:
        head = views.chain_head(T0)
        assert head is not None and head.position == head.links == 6 and head.scheme == KEY.scheme

        anchored = ChainHead.model_validate_json(head.model_dump_json())
        self.register(app, "Cluster after the anchor")
        views.catch_up()

        assert anchored == head
        check = views.check_anchor(anchored)
        assert check.ok and "by 1 links" in check.detail

    def test_a_chain_rebuilt_over_a_rewritten_log_no_longer_extends_the_anchored_head(
        self, env: dict[str, str], views: ReadModels, clusters: list[UUID]
    ) -> None:
        head = views.chain_head(T0)
        assert head is not None
        self.rewrite_event(env, clusters[0], "Cluster 0", "Cluster X")

        views.rebuild(accept_tampering=True)

        assert views.verify().ok
        assert not views.check_anchor(head).ok


class TestKeyedChainOnSQLite(KeyedChainContract):
    @pytest.fixture
    def env(self, tmp_path: Path) -> dict[str, str]:
        return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "events.sqlite")}

    def rewrite_event(self, env: dict[str, str], aggregate_id: UUID, old: str, new: str) -> None:
        import sqlite3

        with sqlite3.connect(env["SQLITE_DBNAME"]) as connection:
            connection.execute(
                "UPDATE stored_events SET state = CAST(REPLACE(CAST(state AS TEXT), ?, ?) AS BLOB) "
                "WHERE originator_id = ?",
                (old, new, aggregate_id.hex),
            )


@pytest.mark.postgres
class TestKeyedChainOnPostgreSQL(KeyedChainContract):
    @pytest.fixture
    def env(self) -> Iterator[dict[str, str]]:
        yield from postgres_schema()

    def rewrite_event(self, env: dict[str, str], aggregate_id: UUID, old: str, new: str) -> None:
        import psycopg

        with psycopg.connect(**POSTGRES, autocommit=True) as connection:
            connection.execute(
                f'UPDATE "{env["POSTGRES_SCHEMA"]}".clusterlabel_events '
                "SET state = convert_to(replace(convert_from(state, 'UTF8'), %s, %s), 'UTF8') WHERE originator_id = %s",
                (old, new, aggregate_id),
            )
