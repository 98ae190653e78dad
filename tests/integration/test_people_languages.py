"""The language each person reads their messages in, kept with their name beside the event store, on
SQLite and PostgreSQL alike: English until they choose, their choice from then on, forgotten on erasure;
and a people table made before languages gains the column when it is opened, its people reading English."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import pytest

from clusterlabel.interfaces.settings import Settings
from clusterlabel.interfaces.web.people import People, open_people
from clusterlabel.interfaces.web.side_tables import open_side_table
from tests.stores import postgres_schema, schema_url

COLUMNS_BEFORE_LANGUAGES = "account_id TEXT PRIMARY KEY, name TEXT, email TEXT UNIQUE, erased_at TEXT"


class LanguagesContract:
    @pytest.fixture
    def settings(self) -> Settings:
        raise NotImplementedError

    @pytest.fixture
    def people(self, settings: Settings) -> Iterator[People]:
        opened = open_people(settings)
        yield opened
        opened.close()

    def test_a_person_reads_english_until_they_choose_another_language(self, people: People) -> None:
        account_id = uuid4()
        people.add(account_id, "Dieter Kontakt", f"dieter.{account_id.hex[:6]}@cluster.example")
        english = people.get(account_id)

        assert people.choose_language(account_id, "de")

        assert english is not None and english.language == "en"
        chosen = people.get(account_id)
        assert chosen is not None and chosen.language == "de"

    def test_an_erased_persons_language_is_forgotten_and_cannot_be_chosen_again(self, people: People) -> None:
        account_id = uuid4()
        people.add(account_id, "Erna Erased", f"erna.{account_id.hex[:6]}@cluster.example")
        people.choose_language(account_id, "de")

        people.erase(account_id)

        erased = people.get(account_id)
        assert erased is not None and (erased.email, erased.language) == (None, "en")
        assert not people.choose_language(account_id, "de")
        assert not people.choose_language(uuid4(), "de"), "nobody is recorded under an unknown account"

    def test_a_people_table_made_before_languages_gains_the_column_and_its_people_read_english(
        self, settings: Settings
    ) -> None:
        account_id = uuid4()
        before = open_side_table(settings, "people", COLUMNS_BEFORE_LANGUAGES)
        before.count(
            "INSERT INTO {} (account_id, name, email) VALUES ({p}, {p}, {p})",
            (str(account_id), "Olaf Older", "olaf@cluster.example"),
        )
        before.close()

        people, again = open_people(settings), open_people(settings)  # a second process opens it after the first
        try:
            older = people.get(account_id)
            assert older is not None and (older.name, older.language) == ("Olaf Older", "en")
            assert again.choose_language(account_id, "de")
            chosen = people.get(account_id)
            assert chosen is not None and chosen.language == "de"
        finally:
            people.close()
            again.close()


class TestLanguagesInSQLiteFiles(LanguagesContract):
    @pytest.fixture
    def settings(self, tmp_path: Path) -> Settings:
        return Settings(data_dir=tmp_path / "data", database_url=None)


@pytest.mark.postgres
class TestLanguagesInPostgreSQLTables(LanguagesContract):
    @pytest.fixture
    def settings(self, tmp_path: Path) -> Iterator[Settings]:
        for env in postgres_schema():
            yield Settings(data_dir=tmp_path / "data", database_url=schema_url(env))
