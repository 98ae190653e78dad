import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
# Tests import the project's top-level packages from the checkout.
sys.path.insert(0, str(ROOT))

# The modules that take minutes (each starts real servers and drives them), slowest first. `make test`
# hands whole modules to two workers in the order collected: started first, they run beside the many
# short modules instead of alone at the end, where one of them would hold the run for minutes.
LONGEST_FIRST = (
    "tests/e2e/test_schema.py",
    "tests/e2e/test_scale_out.py",
    "tests/workflows/test_fault_injection.py",
    "tests/e2e/test_cli.py",
    "tests/integration/test_bench.py",
    "tests/workflows/test_crash_recovery.py",
    "tests/e2e/test_mail.py",
    "tests/workflows/test_database_outage.py",
    "tests/e2e/test_accounts_cli.py",
)
assert all((ROOT / module).is_file() for module in LONGEST_FIRST), "a module of LONGEST_FIRST was renamed"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        module = item.nodeid.split("::", 1)[0]
        return LONGEST_FIRST.index(module) if module in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)  # stable: the rest keep their order
