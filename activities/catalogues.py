"""The catalogues a secretariat publishes without a code change: the `*.toml` files of a folder
(CLUSTERLABEL_CATALOGUE_DIR), each written as the shipped ones in domain/catalogues/ are and saying
from which day new applications use it (`published`). Every process reads the folder at start-up and
publishes it whole or not at all (domain/catalogue.py `publish`): one faulty file refuses them all,
naming every problem, and the process does not start."""

from __future__ import annotations

from pathlib import Path

from clusterlabel.domain.catalogue import Catalogue, CataloguesRefused, parse_catalogue, publish


def publish_folder(folder: Path) -> list[str]:
    """Publish the catalogues of `folder`; their versions, sorted. CataloguesRefused otherwise."""
    if not folder.is_dir():
        raise CataloguesRefused([f"{folder} is not a folder"])
    catalogues: dict[str, Catalogue] = {}
    problems: list[str] = []
    for path in sorted(folder.glob("*.toml")):
        try:
            catalogues[path.name] = parse_catalogue(path.read_text(encoding="utf-8"), path.name)
        except (OSError, UnicodeDecodeError, ValueError) as error:
            problems.append(str(error))
    if problems:
        raise CataloguesRefused(problems)
    publish(catalogues)
    return sorted(catalogue.version for catalogue in catalogues.values())
