"""`clusterlabel verify`: check the event log against its hash chain; exit 1 on tampering.

The chain first catches up (it only adds events it has never seen), then every stored event
is compared with what the chain recorded. Wire `main` into interfaces.cli as the `verify`
subcommand; it is runnable alone as `python -m clusterlabel.interfaces.verify_cli`.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from clusterlabel.interfaces.bootstrap import open_views
from clusterlabel.interfaces.settings import Settings
from clusterlabel.projections.tamper import VerifyReport

EXIT_OK, EXIT_TAMPERED = 0, 1


def run_verify(settings: Settings) -> VerifyReport:
    with open_views(settings) as models:
        models.catch_up()
        return models.verify()


def describe(report: VerifyReport) -> list[str]:
    lines = [f"{p.problem.value:>12}  seq {p.seq}  {p.aggregate_id} v{p.version}: {p.detail}" for p in report.problems]
    verdict = "OK" if report.ok else f"TAMPERED: {len(report.problems)} problem(s)"
    lines.append(
        f"{verdict}; {report.checked} events checked, {report.unchained} not yet chained; log head {report.log_head}"
    )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    report = run_verify(Settings())
    print("\n".join(describe(report)))
    return EXIT_OK if report.ok else EXIT_TAMPERED


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
