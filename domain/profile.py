"""What every registrant (a cluster, an expert) declares first: who it is and where."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from clusterlabel.domain.countries import CountryCode
from clusterlabel.domain.text import Text


def language_codes(codes: list[str]) -> list[str]:
    """ISO 639-1 codes, lower case, each once and sorted; a ValueError names the ones that are not."""
    cleaned = sorted({code.strip().lower() for code in codes})
    bad = [code for code in cleaned if len(code) != 2 or not code.isalpha()]
    if bad:
        raise ValueError(f"not ISO 639-1 language codes: {', '.join(bad)}")
    return cleaned


class Profile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    name: Text = Field(min_length=1, max_length=200)
    country: CountryCode


P = TypeVar("P", bound=Profile)


class Registrant(Generic[P]):
    """A record whose profile says who it is and where: its name and country read from the profile,
    which the record's commands replace as a whole."""

    profile: P

    @property
    def name(self) -> str:
        return self.profile.name

    @property
    def country(self) -> str:
        return self.profile.country
