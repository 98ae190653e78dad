"""Catalogue revisions as a secretariat would publish them, for the tests of publishing: the shipped
Bronze catalogue under another version, day and title, and the shelf put back as shipped afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from clusterlabel.domain import catalogue_shelf
from clusterlabel.domain.baseline import BASELINES
from clusterlabel.domain.catalogue_shelf import CATALOGUES

SHIPPED_BRONZE = Path(catalogue_shelf.__file__).parent / "catalogues" / "bronze-2020.toml"


def bronze_revision(version: str, published: date, title: str | None = None) -> str:
    """The shipped Bronze catalogue's TOML as a revision: another version and day (and title)."""
    text = SHIPPED_BRONZE.read_text(encoding="utf-8")
    text = text.replace('version = "bronze-2020"', f'version = "{version}"', 1)
    text = text.replace("published = 2020-01-01", f"published = {published.isoformat()}", 1)
    if title is not None:
        text = text.replace('title = "Bronze benchmarking indicators, revision 2020"', f'title = "{title}"', 1)
    return text


@contextmanager
def shipped_catalogues_only() -> Iterator[None]:
    """Whatever a test publishes is forgotten after it: the shelves hold the shipped catalogues and baselines again."""
    catalogues, baselines = CATALOGUES.published(), BASELINES.published()
    try:
        yield
    finally:
        CATALOGUES.forget_published(catalogues)
        BASELINES.forget_published(baselines)


SHIPPED_BASELINE = Path(catalogue_shelf.__file__).parent / "catalogues" / "baseline" / "baseline-2020.toml"

# A requirement the shipped Baseline does not have, which a revision adds.
ADDED_REQUIREMENT = """
[[requirements]]
code = "BL-20"
title = "Partner survey"
text = "The cluster management surveys its members' satisfaction at least every two years."
"""


def baseline_revision(version: str, published: date, title: str = "Baseline, a revision") -> str:
    """The shipped Baseline's TOML as a revision: another version, day and title, and requirement BL-20 added."""
    text = SHIPPED_BASELINE.read_text(encoding="utf-8")
    text = text.replace('version = "baseline-2020"', f'version = "{version}"', 1)
    text = text.replace("published = 2020-01-01", f"published = {published.isoformat()}", 1)
    text = text.replace(
        'title = "Cluster Excellence Baseline minimum requirements, revision 2020"', f'title = "{title}"', 1
    )
    return text + ADDED_REQUIREMENT
