"""The catalogues a secretariat publishes without a code change: the `*.toml` files of a folder
(CLUSTERLABEL_CATALOGUE_DIR), each written as the shipped ones in domain/catalogues/ are and saying
from which day new applications use it (`published`), and the Baseline revisions in its `baseline/`
subfolder, written as domain/catalogues/baseline/ ones are. Every process reads the folder at start-up
and publishes it whole or not at all (domain/shelf.py): one faulty or conflicting file of either kind
refuses them all, naming every problem, and the process does not start."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

from clusterlabel.domain.baseline import BASELINES
from clusterlabel.domain.catalogue_shelf import CATALOGUES
from clusterlabel.domain.shelf import CataloguesRefused, Shelf, Versioned

BASELINE_SUBFOLDER = "baseline"

T = TypeVar("T", bound=Versioned)


def publish_folder(folder: Path) -> list[str]:
    """Publish the catalogues and baselines of `folder`; their versions, sorted. CataloguesRefused otherwise."""
    if not folder.is_dir():
        raise CataloguesRefused([f"{folder} is not a folder"])
    problems: list[str] = []
    catalogues = _read(folder, folder, CATALOGUES, problems)
    baselines = _read(folder, folder / BASELINE_SUBFOLDER, BASELINES, problems)
    problems += CATALOGUES.conflicts(catalogues) + BASELINES.conflicts(baselines)
    if problems:
        raise CataloguesRefused(problems)
    CATALOGUES.publish(catalogues)
    BASELINES.publish(baselines)
    published: list[Versioned] = [*catalogues.values(), *baselines.values()]
    return sorted(item.version for item in published)


def _read(folder: Path, where: Path, shelf: Shelf[T], problems: list[str]) -> dict[str, T]:
    """The files of `where` that `shelf` can parse, by their path in `folder`; a problem noted for each other."""
    found: dict[str, T] = {}
    for path in sorted(where.glob("*.toml")):
        source = path.relative_to(folder).as_posix()
        try:
            found[source] = shelf.parse(path.read_text(encoding="utf-8"), source)
        except (OSError, UnicodeDecodeError, ValueError) as error:
            problems.append(str(error))
    return found
