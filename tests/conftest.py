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
TAIL_LINES = 8  # of a failed test's output, repeated at the end of the run

assert all((ROOT / module).is_file() for module in LONGEST_FIRST), "a module of LONGEST_FIRST was renamed"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        module = item.nodeid.split("::", 1)[0]
        return LONGEST_FIRST.index(module) if module in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)  # stable: the rest keep their order


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The last lines a failed test printed, again at the very end of the run: a log cut to its head and
    tail (as CI's is) still shows why it failed (e.g. test_scale_out's failed updates)."""
    for report in terminalreporter.stats.get("failed", []):
        printed = "".join(content for name, content in getattr(report, "sections", []) if "stdout" in name)
        if printed:
            terminalreporter.write_sep("-", f"{report.nodeid}: the last lines it printed")
            terminalreporter.write_line("\n".join(printed.splitlines()[-TAIL_LINES:]))
