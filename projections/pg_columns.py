"""A column of values sent to PostgreSQL as one binary array, its bytes built here in a few C calls each.

Why: a catch-up sends its rows as one array per column (PostgresViewStore.insert_rows) and its row keys as
one array per query, and psycopg builds a binary array element by element in Python: about two million
elements per 100,000 events, a tenth of a catch-up's time on PostgreSQL. Here a column of text (or of
integers) is packed by one comprehension, half the time or less; the server receives the same array
(text[] or bigint[], cast to the column's type in the statement as before). A column holding anything
else (floats, booleans, mixed types) goes to psycopg as a plain list, as it always did.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg import DataError
from psycopg.adapt import Buffer, Dumper
from psycopg.errors import CharacterNotInRepertoire
from psycopg.pq import Format

_HEAD = struct.Struct(">iiIii").pack  # dimensions, has nulls, element type, length, lower bound
_LENGTH = struct.Struct(">i").pack
_INT8 = struct.Struct(">iq").pack  # an element's length (8) and its value
_NULL = _LENGTH(-1)
_TEXT, _INT8_OID = 25, 20
_TEXT_ARRAY, _INT8_ARRAY = 1009, 1016


class TextColumn(list[str | None]):
    """Values all text (or NULL): sent as text[]."""


class IntColumn(list[int | None]):
    """Values all integers (or NULL): sent as bigint[]."""


class _TextColumnDumper(Dumper):
    format = Format.BINARY
    oid = _TEXT_ARRAY

    def dump(self, obj: TextColumn) -> Buffer:
        # As psycopg's own text dumper: a SQL_ASCII database (Python's "ascii") is sent UTF-8, as it stores bytes.
        encoding = self.connection.info.encoding if self.connection is not None else "utf-8"
        encoding = "utf-8" if encoding == "ascii" else encoding
        pieces = [_NULL if value is None else _LENGTH(len(data := value.encode(encoding))) + data for value in obj]
        return _HEAD(1, None in obj, _TEXT, len(obj), 1) + b"".join(pieces)


class _IntColumnDumper(Dumper):
    format = Format.BINARY
    oid = _INT8_ARRAY

    def dump(self, obj: IntColumn) -> Buffer:
        pieces = [_NULL if value is None else _INT8(8, value) for value in obj]
        return _HEAD(1, None in obj, _INT8_OID, len(obj), 1) + b"".join(pieces)


# For every connection made after this module is imported (the views' pools are made later).
psycopg.adapters.register_dumper(TextColumn, _TextColumnDumper)
psycopg.adapters.register_dumper(IntColumn, _IntColumnDumper)


def array_column(values: Sequence[Any]) -> list[Any]:
    """`values` as the column type that sends them fastest; a plain list when neither fits."""
    kinds = set(map(type, values))
    kinds.discard(type(None))
    if kinds == {str}:
        return TextColumn(values)
    if kinds == {int} and _fits_bigint(values):  # not bool (a subclass of int, sent as boolean): type() tells
        return IntColumn(values)
    return list(values)


def _fits_bigint(values: Sequence[int | None]) -> bool:
    """Every integer a bigint holds (a larger one goes to psycopg, which sends it as numeric and says why)."""
    present = [value for value in values if value is not None]
    return min(present) >= -(2**63) and max(present) < 2**63


def insert_columns(cursor: Any, sql: str, rows: Sequence[Sequence[Any]], table: str) -> None:
    """Execute `sql`, whose parameters are the columns of `rows` in order (each cast to its type's array)."""
    try:
        cursor.execute(sql, [array_column(values) for values in zip(*rows, strict=True)])
    except CharacterNotInRepertoire as error:
        if "0x00" not in str(error):
            raise
        # Say what it is, as psycopg says of a NUL in a text parameter; the server's words do not.
        raise DataError(f"PostgreSQL text fields cannot contain NUL (0x00) bytes (table {table})") from error
