"""Which catalogues there are: the ones shipped in ``domain/catalogues/`` and those a secretariat publishes
beside them without a code change (``publish``; activities/catalogues.py reads their folder). Each says
from which day new assessments use it (``published``): a new application takes the latest catalogue of
its level published by then, and every case keeps the version it started on. A version, once known,
never changes. This module reads only the shipped package data and does no other I/O.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from datetime import date, datetime
from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable

from clusterlabel.domain.catalogue import Catalogue

# The catalogue level a new assessment of each label level uses. Silver is a second Bronze benchmarking
# plus an on-site validation against the Gold criteria and the baseline (domain/silver.py), hence a Bronze
# catalogue; Silver cases applied for before were assessed on a Gold one, and keep it.
CATALOGUE_LEVEL_FOR = {"bronze": "bronze", "silver": "bronze", "gold": "gold"}


class UnknownCatalogue(KeyError):
    """No catalogue of that version is shipped."""

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


# The catalogues published beside the shipped ones, by version (see `publish`).
_published: dict[str, Catalogue] = {}


def parse_catalogue(text: str, source: str) -> Catalogue:
    """The catalogue a TOML text describes; ValueError naming `source` and every fault otherwise."""
    try:
        return Catalogue.model_validate(tomllib.loads(text))
    except (tomllib.TOMLDecodeError, ValueError) as error:
        raise ValueError(f"{source}: {error}") from None


def publish(catalogues: Mapping[str, Catalogue]) -> None:
    """Publish catalogues (by where each was read from) beside the shipped ones, all or none.

    Refused whole, naming every problem: a version already known (shipped, published, or read twice)
    with other content; a revision needs a new version name, since cases keep theirs. Publishing the
    very catalogues again changes nothing."""
    problems, seen = [], dict(_published)
    for source, catalogue in catalogues.items():
        known = seen.get(catalogue.version) or _shipped(catalogue.version)
        if known is not None and known != catalogue:
            problems.append(f"{source}: version {catalogue.version} is already published with other content")
        seen[catalogue.version] = catalogue
    if problems:
        raise CataloguesRefused(problems)
    _published.update({catalogue.version: catalogue for catalogue in catalogues.values()})


def published_catalogues() -> dict[str, Catalogue]:
    """The catalogues published beside the shipped ones, by version: what a process started by this
    one (a view rebuilt in a process of its own) publishes in turn, so that both know the same versions."""
    return dict(_published)


def _catalogue_folder() -> Traversable:
    return files("clusterlabel.domain") / "catalogues"


def _shipped_versions() -> list[str]:
    return [
        entry.name.removesuffix(".toml")
        for entry in _catalogue_folder().iterdir()
        if entry.is_file() and entry.name.endswith(".toml")
    ]


@cache
def _shipped(version: str) -> Catalogue | None:
    # Matching the shipped names first also keeps a crafted version from reaching outside the folder.
    if version not in _shipped_versions():
        return None
    catalogue = parse_catalogue((_catalogue_folder() / f"{version}.toml").read_text(encoding="utf-8"), version)
    if catalogue.version != version:
        raise ValueError(f"catalogue file {version}.toml declares version {catalogue.version!r}")
    return catalogue


def available_versions() -> list[str]:
    """Versions of the shipped and the published catalogues, sorted."""
    return sorted({*_shipped_versions(), *_published})


def load_catalogue(version: str) -> Catalogue:
    """The catalogue of this version; UnknownCatalogue if none is shipped or published."""
    catalogue = _published.get(version) or _shipped(version)
    if catalogue is None:
        raise UnknownCatalogue(version, available_versions())
    return catalogue


def current_version_for(level: str, at: datetime | date) -> str:
    """The catalogue version a new assessment at this label level uses on the day `at`: the latest
    of its catalogue level published by then."""
    try:
        wanted = CATALOGUE_LEVEL_FOR[level]
    except KeyError:
        expected = ", ".join(CATALOGUE_LEVEL_FOR)
        raise ValueError(f"unknown label level {level!r}; expected one of {expected}") from None
    day = at.date() if isinstance(at, datetime) else at
    candidates = [
        catalogue
        for catalogue in map(load_catalogue, available_versions())
        if catalogue.level == wanted and catalogue.published <= day
    ]
    if not candidates:
        raise UnknownCatalogue(f"{wanted} catalogue published by {day}", available_versions())
    return max(candidates, key=lambda catalogue: (catalogue.published, catalogue.version)).version
