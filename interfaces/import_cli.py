"""`clusterlabel import-labels FILE.csv`: record labels awarded before the engine existed.

The file's format is in domain/label_import.py (and the README); the import itself in
activities/label_import.py. Exit 0 when every row is imported or was imported before, 2 when the file
is refused (each problem on stderr, by row and column; nothing recorded), 3 when it cannot be read.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from clusterlabel.activities.label_import import ImportedRow, import_labels
from clusterlabel.domain.base import InvalidInput
from clusterlabel.domain.label_import import read_label_import
from clusterlabel.interfaces.bootstrap import build_app
from clusterlabel.interfaces.logs import configure_logging
from clusterlabel.interfaces.settings import Settings
from clusterlabel.interfaces.web.auth import MACHINE_ADMIN_ACTOR

EXIT_OK, EXIT_REFUSED, EXIT_UNREADABLE = 0, 2, 3


def add_parser(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = commands.add_parser(
        "import-labels", parents=[common], help="import labels awarded before the engine, from a CSV file"
    )
    parser.add_argument("file", type=Path, help="CSV, UTF-8, with a header row (see docs/label-import-sample.csv)")
    parser.add_argument("--check", action="store_true", help="check every row and record nothing")
    parser.set_defaults(run=run_import)


def run_import(settings: Settings, args: argparse.Namespace) -> int:
    configure_logging(settings.log_format, "WARNING")
    try:
        text = args.file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        print(f"clusterlabel: cannot read {args.file}: {error}", file=sys.stderr)
        return EXIT_UNREADABLE
    app = build_app(settings)
    try:
        rows = import_labels(app, read_label_import(text), MACHINE_ADMIN_ACTOR, check_only=args.check)
    except InvalidInput as refusal:
        print(f"clusterlabel: {args.file} was not imported, nothing was recorded:", file=sys.stderr)
        for problem in refusal.problems:
            print(f"  {problem.msg}", file=sys.stderr)
        return EXIT_REFUSED
    finally:
        app.close()
    print("\n".join(describe(rows) if not args.check else [f"{args.file}: every row can be imported"]))
    return EXIT_OK


def describe(rows: list[ImportedRow]) -> list[str]:
    lines = [
        f"row {row.row}  {row.label_code}  {'imported' if row.imported else 'already imported'}  "
        f"verification code {row.verification_code}  {row.cluster_name}"
        for row in rows
    ]
    imported = sum(row.imported for row in rows)
    lines.append(
        f"{imported} labels imported, {len(rows) - imported} imported before; their workflows start at the "
        "next reconciliation (`clusterlabel reconcile` starts them now)"
    )
    return lines
