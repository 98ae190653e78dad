"""Versioned indicator catalogues: the questionnaires that label assessments are scored against.

The indicator set is policy that gets revised (it was in 2019-2020), so catalogues are TOML data and
every assessment records the version it used; which versions there are, and which one a new application
uses, is domain/catalogue_shelf.py's. Bronze benchmarking uses a Bronze catalogue; Silver audits and
Gold assessments use a Gold catalogue, whose indicators carry thresholds. This module does no I/O.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from clusterlabel.domain.base import Problem
from clusterlabel.domain.text import Prose, Text

CATALOGUE_LEVELS = ("bronze", "gold")


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
