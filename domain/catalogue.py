"""Versioned indicator catalogues: the questionnaires that label assessments are scored against.

The indicator set is policy that gets revised (it was in 2019-2020), so catalogues are TOML data: the
ones shipped in ``domain/catalogues/``, and those a secretariat publishes beside them without a code
change (``publish``; activities/catalogues.py reads their folder). Each says from which day new
assessments use it (``published``): a new application takes the latest catalogue of its level published
by then, and every case keeps the version it started on. A version, once known, never changes. Bronze
benchmarking uses a Bronze catalogue; Silver audits and Gold assessments use a Gold catalogue, whose
indicators carry thresholds. This module reads only the shipped package data and does no other I/O.
"""

from __future__ import annotations

import tomllib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from clusterlabel.domain.base import Problem
from clusterlabel.domain.text import Prose, Text

CATALOGUE_LEVELS = ("bronze", "gold")
# The catalogue level a new assessment of each label level uses. Silver is validated against the Gold
# criteria, hence a Gold catalogue.
CATALOGUE_LEVEL_FOR = {"bronze": "bronze", "silver": "gold", "gold": "gold"}


class Indicator(BaseModel, frozen=True, extra="forbid"):
    """One scored question of a catalogue; ``threshold`` is the Gold minimum for this indicator."""

    code: str = Field(min_length=1)
    area: str = Field(min_length=1)
    title: str = Field(min_length=1)
    max_score: int = Field(gt=0, strict=True)
    threshold: int | None = Field(default=None, gt=0, strict=True)


class Area(BaseModel, frozen=True, extra="forbid"):
    """A group of indicators, such as governance or financing."""

    code: str = Field(min_length=1)
    title: str = Field(min_length=1)


class IndicatorScore(BaseModel):
    """One answered indicator of an assessment, as the expert submits it. Part of a command, so it
    ignores unknown fields (see domain/commands.py); the HTTP body refuses them."""

    model_config = ConfigDict(frozen=True, extra="ignore", str_strip_whitespace=True)

    code: Text = Field(min_length=1, max_length=40)
    score: int = Field(strict=True, ge=0, le=1000)
    evidence: Prose = Field(default="", max_length=2_000)
    finding: Prose = Field(default="", max_length=4_000, description="what the expert found on this indicator")
    recommendation: Prose = Field(default="", max_length=4_000, description="what the expert advises, where it matters")


class AreaSummary(BaseModel):
    """The expert's summary of one area of the catalogue (part of an assessment, as IndicatorScore)."""

    model_config = ConfigDict(frozen=True, extra="ignore", str_strip_whitespace=True)

    code: Text = Field(min_length=1, max_length=40)
    summary: Prose = Field(min_length=1, max_length=4_000)


class InvalidScores(ValueError):
    """Scores that do not cover a catalogue exactly or lie outside an indicator's range."""

    def __init__(self, version: str, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(f"scores do not fit catalogue {version}: " + "; ".join(problems))


class Catalogue(BaseModel, frozen=True, extra="forbid"):
    """One version of the indicator set, and the arithmetic an assessment does on its scores."""

    version: str = Field(min_length=1, max_length=40, pattern=r"^[a-z0-9][a-z0-9.-]*$")
    level: str
    title: str = Field(min_length=1)
    published: date  # from this day on, new applications of its level are assessed on it
    areas: tuple[Area, ...] = Field(min_length=1)
    indicators: tuple[Indicator, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _check_consistency(self) -> Self:
        # Collect every fault so that whoever edits the data file can fix them in one pass.
        faults = [
            *self._level_faults(),
            *_duplicate_faults("area", [area.code for area in self.areas]),
            *_duplicate_faults("indicator", self.codes()),
            *self._indicator_faults(),
        ]
        if faults:
            raise ValueError(f"catalogue {self.version} is inconsistent: " + "; ".join(faults))
        return self

    def _level_faults(self) -> list[str]:
        if self.level in CATALOGUE_LEVELS:
            return []
        return [f"level {self.level!r} is not one of {', '.join(CATALOGUE_LEVELS)}"]

    def _indicator_faults(self) -> list[str]:
        area_codes = {area.code for area in self.areas}
        faults: list[str] = []
        for item in self.indicators:
            if item.area not in area_codes:
                faults.append(f"indicator {item.code} names unknown area {item.area!r}")
            if item.threshold is not None and item.threshold > item.max_score:
                faults.append(f"threshold {item.threshold} of {item.code} is above its maximum {item.max_score}")
            # A Gold decision needs a threshold on every indicator; a Bronze one must not imply any.
            if (item.threshold is None) == (self.level == "gold"):
                expected = "needs" if self.level == "gold" else "must not have"
                faults.append(f"indicator {item.code} {expected} a threshold in a {self.level} catalogue")
        return faults

    def indicator(self, code: str) -> Indicator:
        """The indicator with this code; KeyError naming the catalogue if there is none."""
        found = self._by_code().get(code)
        if found is None:
            raise KeyError(f"{code} is not an indicator of catalogue {self.version}")
        return found

    def codes(self) -> tuple[str, ...]:
        return tuple(item.code for item in self.indicators)

    def problems_with(self, scores: Mapping[str, int]) -> list[str]:
        """Every reason these scores are not a complete, in-range scoring of this catalogue.

        Missing indicators come first, then unknown codes, then bad scores, each group by code.
        """
        known = self._by_code()
        missing = [
            f"indicator {code} ({known[code].title}) has no score" for code in sorted(known) if code not in scores
        ]
        unknown = [
            f"{code} is not an indicator of catalogue {self.version}"
            for code in sorted(scores, key=str)
            if code not in known
        ]
        bad = [_score_problem(known[code], scores[code]) for code in sorted(scores, key=str) if code in known]
        return missing + unknown + [problem for problem in bad if problem]

    def assessment_problems(self, indicators: Sequence[IndicatorScore]) -> list[Problem]:
        """Every way a submitted list misses this catalogue, each at its position in the list."""
        known = self._by_code()
        found: list[Problem] = []
        seen: set[str] = set()
        for index, item in enumerate(indicators):
            indicator = known.get(item.code)
            if indicator is None:
                msg = f"{item.code} is not an indicator of catalogue {self.version}"
                found.append(Problem(msg, ("indicators", index, "code"), "invalid_indicator"))
            elif item.code in seen:
                found.append(
                    Problem(f"{item.code} is scored more than once", ("indicators", index, "code"), "invalid_indicator")
                )
            elif problem := _score_problem(indicator, item.score):
                found.append(Problem(problem, ("indicators", index, "score"), "invalid_indicator"))
            seen.add(item.code)
        for code, indicator in known.items():
            if code not in seen:
                msg = f"indicator {code} ({indicator.title}) has no score"
                found.append(Problem(msg, ("indicators",), "missing_indicator"))
        return found

    def summary_problems(self, summaries: Sequence[AreaSummary]) -> list[Problem]:
        """Every area summary that names no area of this catalogue, or an area summarised already."""
        known = {area.code for area in self.areas}
        found: list[Problem] = []
        seen: set[str] = set()
        for index, item in enumerate(summaries):
            if item.code not in known:
                msg = f"{item.code} is not an area of catalogue {self.version} (areas: {', '.join(sorted(known))})"
                found.append(Problem(msg, ("area_summaries", index, "code"), "invalid_area"))
            elif item.code in seen:
                found.append(
                    Problem(
                        f"area {item.code} is summarised more than once",
                        ("area_summaries", index, "code"),
                        "invalid_area",
                    )
                )
            seen.add(item.code)
        return found

    def total(self, scores: Mapping[str, int]) -> int:
        self._require_valid(scores)
        return sum(scores[code] for code in self.codes())

    def maximum(self) -> int:
        return sum(item.max_score for item in self.indicators)

    def percentage(self, scores: Mapping[str, int]) -> float:
        """Share of the maximum reached, from 0 to 100."""
        return 100 * self.total(scores) / self.maximum()

    def area_percentages(self, scores: Mapping[str, int]) -> dict[str, int]:
        """Each area's share of its maximum reached, in whole percent: areas of different sizes compare.
        Counted over the indicators scored (a stored assessment is read as it was); an area with none is left out."""
        reached: Counter[str] = Counter()
        maximum: Counter[str] = Counter()
        for item in self.indicators:
            if item.code in scores:
                reached[item.area] += scores[item.code]
                maximum[item.area] += item.max_score
        return {
            area.code: round(100 * reached[area.code] / maximum[area.code]) for area in self.areas if maximum[area.code]
        }

    def below_threshold(self, scores: Mapping[str, int]) -> list[str]:
        """Codes, in catalogue order, whose score is under the indicator's own threshold."""
        self._require_valid(scores)
        return [
            item.code for item in self.indicators if item.threshold is not None and scores[item.code] < item.threshold
        ]

    def meets_gold(self, scores: Mapping[str, int], min_percentage: float) -> bool:
        """Both Gold conditions: the overall share and every indicator at or above its threshold."""
        if not all(item.threshold is not None for item in self.indicators):
            raise ValueError(f"catalogue {self.version} has no thresholds: Gold rules do not apply")
        if not 0 <= min_percentage <= 100:
            raise ValueError(f"minimum percentage {min_percentage} is outside 0..100")
        # Compare without dividing, so that a score of exactly the minimum is not lost to rounding.
        reaches_share = 100 * self.total(scores) >= min_percentage * self.maximum()
        return reaches_share and not self.below_threshold(scores)

    def _by_code(self) -> dict[str, Indicator]:
        return {item.code: item for item in self.indicators}

    def _require_valid(self, scores: Mapping[str, int]) -> None:
        # A total over partial or impossible scores would look like a real result; refuse it.
        problems = self.problems_with(scores)
        if problems:
            raise InvalidScores(self.version, problems)


def _duplicate_faults(kind: str, codes: Iterable[str]) -> list[str]:
    repeated = sorted(code for code, count in Counter(codes).items() if count > 1)
    return [f"{kind} code {code} appears more than once" for code in repeated]


def _score_problem(item: Indicator, score: object) -> str | None:
    # bool is an int subclass in Python, but True is no answer to a scored question.
    if isinstance(score, bool) or not isinstance(score, int):
        return f"score {score!r} for {item.code} is not a whole number"
    if not 0 <= score <= item.max_score:
        return f"score {score} for {item.code} is outside 0..{item.max_score}"
    return None


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
