"""Which messages each person opened, kept beside the event store: a SQLite file, or a table every API
process shares on PostgreSQL. Two stores opened on the same settings stand for two API processes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import pytest

from clusterlabel.interfaces.settings import Settings
from clusterlabel.interfaces.web.inbox_reads import InboxReads, open_inbox_reads
from tests.stores import postgres_schema, race, schema_url

OLGA, OTTO = "account:olga", "account:otto"


class InboxReadsContract:
    """Subclasses provide the `settings` fixture."""

    @pytest.fixture
    def stores(self, settings: Settings) -> Iterator[list[InboxReads]]:
        opened = [open_inbox_reads(settings) for _ in range(2)]
        yield opened
        for store in opened:
            store.close()

    def test_a_message_opened_is_read_for_its_reader_alone_and_in_every_process(self, stores: list[InboxReads]) -> None:
        first, second = str(uuid4()), str(uuid4())

        stores[0].mark_read(OLGA, first, "secretariat")

        assert stores[1].read_among(OLGA, [first, second]) == {first}
        assert stores[1].read_among(OTTO, [first, second]) == set()
        assert stores[1].count_read(OLGA, ["secretariat"]) == 1
        assert stores[1].count_read(OLGA, ["cluster:elsewhere"]) == 0  # counted only for the inbox it was read in

    def test_opening_a_message_again_or_at_once_in_two_processes_counts_it_once(self, stores: list[InboxReads]) -> None:
        message = str(uuid4())

        race([lambda store=store: store.mark_read(OLGA, message, "secretariat") for store in stores * 2])  # type: ignore[misc]

        assert stores[0].count_read(OLGA, ["secretariat", "expert:x"]) == 1


class TestInboxReadsInTheSQLiteFile(InboxReadsContract):
    @pytest.fixture
    def settings(self, tmp_path: Path) -> Settings:
        return Settings(data_dir=tmp_path / "data", database_url=None)


@pytest.mark.postgres
class TestInboxReadsInThePostgreSQLTable(InboxReadsContract):
    @pytest.fixture
    def settings(self, tmp_path: Path) -> Iterator[Settings]:
        for env in postgres_schema():
            yield Settings(data_dir=tmp_path / "data", database_url=schema_url(env))
