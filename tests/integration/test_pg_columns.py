"""The views' columns sent to PostgreSQL as binary arrays (projections/pg_columns.py) reach the server as
psycopg itself would send them: text in the connection's encoding (UTF-8 for a SQL_ASCII one, as psycopg
does), NULLs as NULLs, and integers too large for a bigint left to psycopg."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from clusterlabel.projections.pg_columns import IntColumn, TextColumn, array_column
from tests.stores import POSTGRES, postgres_url

NAMES = ["Île-de-France Photonics", None, "Klaipėdos jūrinis klasteris", "北海道"]


@pytest.mark.parametrize("encoding", ["UTF8", "SQL_ASCII", "LATIN9"])
def test_a_text_column_reads_back_as_the_same_text_whatever_the_connections_encoding(encoding: str) -> None:
    postgres_url()  # skips, saying why, when no server answers
    names = NAMES if encoding != "LATIN9" else NAMES[:2]  # what Latin-9 can spell
    with psycopg.connect(**POSTGRES, options=f"-c client_encoding={encoding}") as connection:
        column = array_column(names)
        assert isinstance(column, TextColumn)
        # Compared in the server with the same values sent as psycopg sends them, one by one.
        placeholders = ", ".join("%s::text" for _ in names)
        row: Any = connection.execute(f"SELECT %b::text[] = ARRAY[{placeholders}]", [column, *names]).fetchone()
        assert row == (True,)


def test_integers_read_back_and_one_beyond_a_bigint_goes_as_psycopg_sends_it() -> None:
    postgres_url()
    with psycopg.connect(**POSTGRES) as connection:
        small = array_column([1, None, -(2**63), 2**63 - 1])
        assert isinstance(small, IntColumn)
        row: Any = connection.execute("SELECT %b::bigint[]", [small]).fetchone()
        assert row == ([1, None, -(2**63), 2**63 - 1],)
        large = array_column([1, 2**63])
        assert type(large) is list
        assert connection.execute("SELECT %b::numeric[]", [large]).fetchone() == ([1, 2**63],)
