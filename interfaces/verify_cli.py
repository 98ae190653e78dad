"""`clusterlabel verify`: check the event log against its hash chain; exit 1 on tampering.

The chain first catches up (it only adds events it has never seen), then every stored event
is compared with what the chain recorded. Wire `main` into interfaces.cli as the `verify`
subcommand; it is runnable alone as `python -m clusterlabel.interfaces.verify_cli`.

`--head` prints the chain's head as JSON on stdout (everything else goes to stderr), once the log
verifies, so that it can be anchored outside the database; `--against HEAD` (the JSON, or a file
holding it) also checks that the chain still extends a head anchored earlier.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from pydantic import ValidationError

from clusterlabel.interfaces.bootstrap import open_views
from clusterlabel.interfaces.logs import configure_logging
from clusterlabel.interfaces.settings import Settings
from clusterlabel.interfaces.verify_options import add_verify_options
from clusterlabel.projections.chain_head import AnchorCheck, ChainHead
from clusterlabel.projections.event_chain import VerifyReport
from clusterlabel.projections.queries import ChainTampered, ReadModels

EXIT_OK, EXIT_TAMPERED, EXIT_USAGE = 0, 1, 2


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


def anchored_head(text: str) -> ChainHead:
    """The head `--against` names: JSON text, or the path of a file holding it ("-": standard input)."""
    if not text.lstrip().startswith("{"):
        text = sys.stdin.read() if text == "-" else Path(text).read_text(encoding="utf-8")
    return ChainHead.model_validate_json(text)


def verify_command(settings: Settings, head: bool = False, against: str | None = None) -> int:
    try:
        anchored = anchored_head(against) if against is not None else None
    except (OSError, ValidationError) as error:
        print(f"clusterlabel: --against needs a head printed by `clusterlabel verify --head`: {error}", file=sys.stderr)
        return EXIT_USAGE
    with open_views(settings) as models:
        models.catch_up()
        report = models.verify()
        anchor = models.check_anchor(anchored) if anchored is not None else None
        current = models.chain_head(datetime.now(UTC))
    out = sys.stderr if head else sys.stdout  # with --head, stdout holds the JSON alone
    lines = describe(report) + ([describe_anchor(anchor)] if anchor is not None else [])
    print("\n".join(lines), file=out)
    if not report.ok or (anchor is not None and not anchor.ok):
        return EXIT_TAMPERED
    if head:
        if current is None:
            print("clusterlabel: the chain is empty: no head to anchor yet", file=sys.stderr)
            return EXIT_TAMPERED
        print(current.model_dump_json())
    return EXIT_OK


def describe_anchor(anchor: AnchorCheck) -> str:
    return f"anchored head {'OK' if anchor.ok else 'NOT EXTENDED'}: {anchor.detail}"


def refused_over_tampering(models: ReadModels, settings: Settings, accept_tampering: bool, rekey: bool = False) -> bool:
    """Verify the chain before a rebuild replaces it; True (refused, said why) when it finds tampering."""
    configure_logging(settings.log_format, settings.log_level)  # the error logged when rebuilt over tampering
    try:
        report = models.check_before_rebuild(accept_tampering, rekey)
    except ChainTampered as refused:
        print("\n".join(describe(refused.report)), file=sys.stderr)
        print(
            "clusterlabel: refusing to rebuild: the event chain finds the log tampered with, and a rebuilt chain"
            " would vouch for it. Investigate with `clusterlabel verify`; --accept-tampering rebuilds anyway.",
            file=sys.stderr,
        )
        return True
    if report is not None and report.tampering(rekey):
        print("\n".join(describe(report)), file=sys.stderr)
        print(
            f"clusterlabel: WARNING: rebuilding the event chain over {len(report.tampering(rekey))} problem(s)"
            " (--accept-tampering): the new chain vouches for the log as it is now.",
            file=sys.stderr,
        )
    return False


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="clusterlabel verify", description=__doc__)
    add_verify_options(parser)
    args = parser.parse_args(argv)
    return verify_command(Settings(), head=args.head, against=args.against)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
