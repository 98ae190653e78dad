"""The lists on the pages: a page of rows at a time (`?limit=&offset=`), filtered by what the reader
chose (`?state=&level=&q=`), with links to the pages before and after that keep the filters.

A list asks its query for one row more than it shows: that row's presence is the next page's."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar
from urllib.parse import urlencode

from fastapi import Request

from clusterlabel.domain.base import Level
from clusterlabel.domain.case_lifecycle import CaseState

T = TypeVar("T")
PAGE = 25
MOST = 200
QUERY_CHARS = 100
LEVELS = [level.value for level in Level]
STATES = [state.value for state in CaseState]


@dataclass(frozen=True)
class Paging:
    limit: int
    offset: int

    @property
    def ask(self) -> int:
        """How many rows to ask the query for: one more than the page shows."""
        return self.limit + 1


@dataclass(frozen=True)
class Listing(Generic[T]):
    rows: list[T]
    first: int  # the number of the first row shown, counting from 1
    previous: str | None  # the address of the page before, if any
    next: str | None


def paging(request: Request, default: int = PAGE) -> Paging:
    """The page asked for; a malformed or out-of-range number is the default, never an error."""
    return Paging(
        limit=_number(request.query_params.get("limit"), default, 1, MOST),
        offset=_number(request.query_params.get("offset"), 0, 0, 1_000_000),
    )


def listing(request: Request, asked: Paging, rows: Sequence[T]) -> Listing[T]:
    """The rows of this page (`rows` as the query answered `asked.ask`) and links to its neighbours."""
    previous = None
    if asked.offset > 0:
        previous = _address(request, max(asked.offset - asked.limit, 0), asked.limit)
    following = _address(request, asked.offset + asked.limit, asked.limit) if len(rows) > asked.limit else None
    return Listing(list(rows[: asked.limit]), asked.offset + 1, previous, following)


def choice(request: Request, name: str, options: Sequence[str]) -> str | None:
    """A filter's value when it is one of the options; anything else means no filter."""
    value = request.query_params.get(name) or None
    return value if value in options else None


@dataclass(frozen=True)
class Choice:
    """A filter a list page offers as a select of its options ("any …" first), keeping the reader's choice."""

    name: str
    options: Sequence[str]
    chosen: str | None
    label: str  # what the select is called on the page


def choose(request: Request, name: str, options: Sequence[str], label: str | None = None) -> Choice:
    """The filter `name` as the reader chose it (see choice), called `label` on the page (else its name)."""
    return Choice(name, options, choice(request, name, options), label or name)


def text(request: Request, name: str = "q") -> str | None:
    value = (request.query_params.get(name) or "").strip()[:QUERY_CHARS]
    return value or None


def _address(request: Request, offset: int, limit: int) -> str:
    query = {key: value for key, value in request.query_params.items() if key not in ("offset", "limit", "done")}
    query.pop("error", None)
    return f"{request.url.path}?{urlencode({**query, 'offset': offset, 'limit': limit})}"


def _number(given: str | None, default: int, least: int, most: int) -> int:
    if given is None or not given.isascii() or not given.isdigit() or len(given) > 9:
        return default
    return min(max(int(given), least), most)
