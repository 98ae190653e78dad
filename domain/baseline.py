"""The European Cluster Excellence Baseline: the minimum requirements a Silver audit checks, pass or fail.

A Silver label needs every requirement met: failing any single one means no Silver (DOMAIN.md, "The
labels"; cluster-analysis.org silver-label page). Like the indicator catalogues (domain/catalogue.py) the
baseline is versioned TOML data with a `published` day, shipped in ``domain/catalogues/baseline/``,
validated whole when read and refused whole when any part is wrong; a Silver case is validated against
the version current on its application day, and its validation records that version. The shipped list is
the project's own paraphrase, not ESCA's text. This module reads only that package data.
"""

from __future__ import annotations

import tomllib
from collections import Counter
from datetime import date, datetime
from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import Self

from pydantic import BaseModel, Field, model_validator

from clusterlabel.domain.catalogue_shelf import UnknownCatalogue


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


def parse_baseline(text: str, source: str) -> Baseline:
    """The baseline a TOML text describes; ValueError naming `source` and every fault otherwise."""
    try:
        return Baseline.model_validate(tomllib.loads(text))
    except (tomllib.TOMLDecodeError, ValueError) as error:
        raise ValueError(f"{source}: {error}") from None


def _folder() -> Traversable:
    return files("clusterlabel.domain") / "catalogues" / "baseline"


def baseline_versions() -> list[str]:
    """The shipped baseline versions, sorted."""
    return sorted(
        entry.name.removesuffix(".toml")
        for entry in _folder().iterdir()
        if entry.is_file() and entry.name.endswith(".toml")
    )


@cache
def load_baseline(version: str) -> Baseline:
    """The baseline of this version; UnknownCatalogue if none is shipped."""
    if version not in baseline_versions():  # also keeps a crafted version from reaching outside the folder
        raise UnknownCatalogue(version, baseline_versions())
    baseline = parse_baseline((_folder() / f"{version}.toml").read_text(encoding="utf-8"), version)
    if baseline.version != version:
        raise ValueError(f"baseline file {version}.toml declares version {baseline.version!r}")
    return baseline


def current_baseline_for(at: datetime | date) -> Baseline:
    """The baseline a Silver case applied for on the day `at` is validated against: the latest published by then."""
    day = at.date() if isinstance(at, datetime) else at
    candidates = [baseline for baseline in map(load_baseline, baseline_versions()) if baseline.published <= day]
    if not candidates:
        raise UnknownCatalogue(f"baseline published by {day}", baseline_versions())
    return max(candidates, key=lambda baseline: (baseline.published, baseline.version))
