"""domain/ stays pure: the standard library, pydantic and eventsourcing.domain only.

(And eventsourcing.utils, for the in-memory alias that keeps the topics of events stored under the
old module name resolving: see domain/__init__.py.)"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

DOMAIN = Path(__file__).resolve().parents[2] / "domain"
ALLOWED_THIRD_PARTY = {"pydantic", "eventsourcing.domain", "eventsourcing.utils"}


def _imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module)
    return modules


def _allowed(module: str) -> bool:
    top = module.split(".")[0]
    return (
        top in sys.stdlib_module_names
        or module.startswith("clusterlabel.domain")
        or top == "__future__"
        or any(module == allowed or module.startswith(allowed + ".") for allowed in ALLOWED_THIRD_PARTY)
    )


def test_domain_imports_only_the_standard_library_pydantic_and_eventsourcing_domain() -> None:
    offenders = {
        f"{path.name}: {module}"
        for path in DOMAIN.rglob("*.py")
        for module in _imported_modules(path)
        if not _allowed(module)
    }
    assert offenders == set()


def test_the_purity_check_would_catch_an_infrastructure_import(tmp_path: Path) -> None:
    impure = tmp_path / "impure.py"
    impure.write_text("from eventsourcing.application import Application\nimport temporalio\n")
    assert {m for m in _imported_modules(impure) if not _allowed(m)} == {"eventsourcing.application", "temporalio"}
