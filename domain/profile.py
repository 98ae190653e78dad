"""What every registrant (a cluster, an expert) declares first: who it is and where."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from clusterlabel.domain.countries import CountryCode
from clusterlabel.domain.text import Text


class Profile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    name: Text = Field(min_length=1, max_length=200)
    country: CountryCode
