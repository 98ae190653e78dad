"""A shelf of versioned TOML data: the versions shipped in a package folder and those a secretariat
publishes beside them without a code change. Each version says from which day it is used (`published`);
the current one on a day is the latest published by then. A version, once known, never changes. The
indicator catalogues (domain/catalogue_shelf.py) and the Silver baseline (domain/baseline.py) each keep
one shelf. This module reads only the shipped package data and does no other I/O.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from datetime import date, datetime
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import Any, Generic, Protocol, TypeVar


class UnknownCatalogue(KeyError):
    """No catalogue (or baseline) of that version is shipped or published."""

    def __init__(self, version: str, available: list[str]) -> None:
        self.version = version
        self.available = available
        listed = ", ".join(available) or "none"
        super().__init__(f"unknown catalogue version {version!r}; available versions: {listed}")

    def __str__(self) -> str:
        # KeyError would show the repr of its argument, quotes and all; show the sentence.
        return str(self.args[0])


class CataloguesRefused(ValueError):
    """Catalogues that cannot be published, each with what is wrong: none of them was published."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("catalogues not published: " + "; ".join(problems))


class Versioned(Protocol):
    """What a shelf needs of what it holds: a version name and the day from which it is used."""

    @property
    def version(self) -> str: ...

    @property
    def published(self) -> date: ...


T = TypeVar("T", bound=Versioned)


class Shelf(Generic[T]):
    """The versions of one kind of data: `validate` builds one from a file's TOML, `path` names the
    shipped folder under the package ``clusterlabel.domain`` and `kind` names the data in messages."""

    def __init__(self, validate: Callable[[Any], T], path: tuple[str, ...], kind: str) -> None:
        self._validate = validate
        self._path = path
        self._kind = kind
        self._published: dict[str, T] = {}
        self._shipped_read: dict[str, T] = {}
        self._shipped_names: list[str] | None = None

    def parse(self, text: str, source: str) -> T:
        """What a TOML text describes; ValueError naming `source` and every fault otherwise."""
        try:
            return self._validate(tomllib.loads(text))
        except (tomllib.TOMLDecodeError, ValueError) as error:
            raise ValueError(f"{source}: {error}") from None

    def conflicts(self, found: Mapping[str, T]) -> list[str]:
        """What keeps `found` (by where each was read from) from being published: a version already
        known (shipped, published, or read twice) with other content; a revision needs a new version
        name, since cases keep theirs. The very same content again is no conflict."""
        problems, seen = [], dict(self._published)
        for source, item in found.items():
            known = seen.get(item.version) or self._shipped(item.version)
            if known is not None and known != item:
                problems.append(f"{source}: version {item.version} is already published with other content")
            seen[item.version] = item
        return problems

    def publish(self, found: Mapping[str, T]) -> None:
        """Publish `found` beside the shipped versions, all or none: CataloguesRefused naming every conflict."""
        problems = self.conflicts(found)
        if problems:
            raise CataloguesRefused(problems)
        self._published.update({item.version: item for item in found.values()})

    def published(self) -> dict[str, T]:
        """The versions published beside the shipped ones."""
        return dict(self._published)

    def forget_published(self, kept: Mapping[str, T]) -> None:
        """Only `kept` published again (a test puts the shelf back as it found it)."""
        self._published.clear()
        self._published.update(kept)

    def versions(self) -> list[str]:
        """The shipped and the published versions, sorted."""
        return sorted({*self._shipped_versions(), *self._published})

    def load(self, version: str) -> T:
        """The item of this version; UnknownCatalogue if none is shipped or published."""
        item = self._published.get(version) or self._shipped(version)
        if item is None:
            raise UnknownCatalogue(version, self.versions())
        return item

    def latest(self, at: datetime | date, fits: Callable[[T], bool] = lambda item: True, what: str = "") -> T:
        """The latest item that `fits` published by the day `at`; UnknownCatalogue naming `what` if none."""
        day = at.date() if isinstance(at, datetime) else at
        candidates = [item for item in map(self.load, self.versions()) if fits(item) and item.published <= day]
        if not candidates:
            raise UnknownCatalogue(f"{what or self._kind} published by {day}", self.versions())
        return max(candidates, key=lambda item: (item.published, item.version))

    def _folder(self) -> Traversable:
        return files("clusterlabel.domain").joinpath(*self._path)

    def _shipped_versions(self) -> list[str]:
        # Package data does not change while the process runs: the folder is listed once, not at every
        # application that asks for the current version.
        if self._shipped_names is None:
            self._shipped_names = [
                entry.name.removesuffix(".toml")
                for entry in self._folder().iterdir()
                if entry.is_file() and entry.name.endswith(".toml")
            ]
        return self._shipped_names

    def _shipped(self, version: str) -> T | None:
        # Matching the shipped names first also keeps a crafted version from reaching outside the folder.
        if version not in self._shipped_read:
            if version not in self._shipped_versions():
                return None
            item = self.parse((self._folder() / f"{version}.toml").read_text(encoding="utf-8"), version)
            if item.version != version:
                raise ValueError(f"{self._kind} file {version}.toml declares version {item.version!r}")
            self._shipped_read[version] = item
        return self._shipped_read[version]
