"""The options of `clusterlabel verify`, apart from interfaces/verify_cli.py (which runs them) so that
the CLI's parser gets them without loading what the command needs."""

from __future__ import annotations

import argparse


def add_verify_options(parser: argparse.ArgumentParser) -> None:
    """`--head` and `--against`."""
    parser.add_argument(
        "--head", action="store_true", help="print the chain's head as JSON (to anchor elsewhere) once the log verifies"
    )
    parser.add_argument(
        "--against",
        metavar="HEAD",
        help="a head printed earlier by --head (its JSON, a file holding it, or - for stdin):"
        " check that the chain still extends it",
    )
