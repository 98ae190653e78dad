"""The European Cluster Excellence Baseline: the minimum requirements a Silver audit checks, pass or fail.

A Silver label needs every requirement met: failing any single one means no Silver (DOMAIN.md, "The
labels"; cluster-analysis.org silver-label page). Like the indicator catalogues (domain/catalogue.py) the
baseline is versioned TOML data with a `published` day, shipped in ``domain/catalogues/baseline/``,
validated whole when read and refused whole when any part is wrong; a secretariat publishes revisions
beside the shipped ones as it does catalogues (domain/shelf.py keeps both); a Silver case is validated against
the version current on its application day, and its validation records that version. The shipped list is
the project's own paraphrase, not ESCA's text. This module reads only that package data.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import date, datetime
from typing import Self

from pydantic import BaseModel, Field, model_validator

from clusterlabel.domain.shelf import Shelf


class Requirement(BaseModel, frozen=True, extra="forbid"):
    """One pass/fail minimum requirement."""

    code: str = Field(min_length=1, max_length=40, pattern=r"^[A-Z0-9][A-Z0-9-]*$")
    title: str = Field(min_length=1)
    text: str = Field(min_length=1)


class Baseline(BaseModel, frozen=True, extra="forbid"):
    """One version of the baseline's requirements."""

    version: str = Field(min_length=1, max_length=40, pattern=r"^[a-z0-9][a-z0-9.-]*$")
    title: str = Field(min_length=1)
    published: date  # from this day on, new Silver applications are validated against it
    requirements: tuple[Requirement, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _codes_are_unique(self) -> Self:
        repeated = sorted(code for code, count in Counter(self.codes()).items() if count > 1)
        if repeated:
            raise ValueError(f"baseline {self.version}: requirement codes appear more than once: {', '.join(repeated)}")
        return self

    def codes(self) -> tuple[str, ...]:
        return tuple(item.code for item in self.requirements)

    def requirement(self, code: str) -> Requirement:
        for item in self.requirements:
            if item.code == code:
                return item
        raise KeyError(f"{code} is not a requirement of baseline {self.version}")


# Shipped in domain/catalogues/baseline/; a secretariat publishes revisions beside them (publish_baselines).
BASELINES: Shelf[Baseline] = Shelf(Baseline.model_validate, ("catalogues", "baseline"), "baseline")


def parse_baseline(text: str, source: str) -> Baseline:
    """The baseline a TOML text describes; ValueError naming `source` and every fault otherwise."""
    return BASELINES.parse(text, source)


def publish_baselines(baselines: Mapping[str, Baseline]) -> None:
    """Publish baselines (by where each was read from) beside the shipped ones, all or none; refused
    whole (CataloguesRefused) when a version already known has other content."""
    BASELINES.publish(baselines)


def baseline_versions() -> list[str]:
    """The shipped and the published baseline versions, sorted."""
    return BASELINES.versions()


def load_baseline(version: str) -> Baseline:
    """The baseline of this version; UnknownCatalogue if none is shipped or published."""
    return BASELINES.load(version)


def current_baseline_for(at: datetime | date) -> Baseline:
    """The baseline a Silver case applied for on the day `at` is validated against: the latest published by then."""
    return BASELINES.latest(at)
