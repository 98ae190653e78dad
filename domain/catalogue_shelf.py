"""Which catalogues there are: the ones shipped in ``domain/catalogues/`` and those a secretariat publishes
beside them without a code change (``publish``; activities/catalogues.py reads their folder). Each says
from which day new assessments use it (``published``): a new application takes the latest catalogue of
its level published by then, and every case keeps the version it started on. A version, once known,
never changes (domain/shelf.py keeps them, as it keeps the baseline's).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime

from clusterlabel.domain.catalogue import Catalogue
from clusterlabel.domain.shelf import CataloguesRefused, Shelf, UnknownCatalogue

__all__ = [
    "CATALOGUE_LEVEL_FOR",
    "CataloguesRefused",
    "UnknownCatalogue",
    "available_versions",
    "current_version_for",
    "load_catalogue",
    "parse_catalogue",
    "publish",
    "published_catalogues",
]

# The catalogue level a new assessment of each label level uses. Silver is a second Bronze benchmarking
# plus an on-site validation against the Gold criteria and the baseline (domain/silver.py), hence a Bronze
# catalogue; Silver cases applied for before were assessed on a Gold one, and keep it.
CATALOGUE_LEVEL_FOR = {"bronze": "bronze", "silver": "bronze", "gold": "gold"}

# The shipped catalogues are the files of domain/catalogues/ itself; its subfolder holds the baseline's.
CATALOGUES: Shelf[Catalogue] = Shelf(Catalogue.model_validate, ("catalogues",), "catalogue")


def parse_catalogue(text: str, source: str) -> Catalogue:
    """The catalogue a TOML text describes; ValueError naming `source` and every fault otherwise."""
    return CATALOGUES.parse(text, source)


def publish(catalogues: Mapping[str, Catalogue]) -> None:
    """Publish catalogues (by where each was read from) beside the shipped ones, all or none.

    Refused whole, naming every problem: a version already known (shipped, published, or read twice)
    with other content; a revision needs a new version name, since cases keep theirs. Publishing the
    very catalogues again changes nothing."""
    CATALOGUES.publish(catalogues)


def published_catalogues() -> dict[str, Catalogue]:
    """The catalogues published beside the shipped ones, by version: what a process started by this
    one (a view rebuilt in a process of its own) publishes in turn, so that both know the same versions."""
    return CATALOGUES.published()


def available_versions() -> list[str]:
    """Versions of the shipped and the published catalogues, sorted."""
    return CATALOGUES.versions()


def load_catalogue(version: str) -> Catalogue:
    """The catalogue of this version; UnknownCatalogue if none is shipped or published."""
    return CATALOGUES.load(version)


def current_version_for(level: str, at: datetime | date) -> str:
    """The catalogue version a new assessment at this label level uses on the day `at`: the latest
    of its catalogue level published by then."""
    try:
        wanted = CATALOGUE_LEVEL_FOR[level]
    except KeyError:
        expected = ", ".join(CATALOGUE_LEVEL_FOR)
        raise ValueError(f"unknown label level {level!r}; expected one of {expected}") from None
    return CATALOGUES.latest(at, lambda catalogue: catalogue.level == wanted, f"{wanted} catalogue").version
