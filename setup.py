"""Installs the project's top-level folders under one import name, `clusterlabel`.

The folders stay where the brief puts them (`domain/`, `workflows/`, …); setuptools' package-dir
mapping installs each as `clusterlabel.<folder>`, so nothing the project installs can shadow, or be
shadowed by, another distribution's `domain` or `tools`. The metadata is in pyproject.toml.
"""

from pathlib import Path

from setuptools import find_packages, setup

FOLDERS = ("domain", "activities", "workflows", "projections", "interfaces", "tools")


def _mapped() -> tuple[list[str], dict[str, str]]:
    packages: list[str] = []
    package_dir: dict[str, str] = {}
    for folder in FOLDERS:
        if not Path(folder, "__init__.py").is_file():
            continue  # the production image is built without tools/
        package_dir[f"clusterlabel.{folder}"] = folder
        subpackages = find_packages(folder)
        packages += [f"clusterlabel.{folder}", *(f"clusterlabel.{folder}.{sub}" for sub in subpackages)]
    return packages, package_dir


packages, package_dir = _mapped()
setup(packages=packages, package_dir=package_dir)
