"""A CSV download as a spreadsheet and RFC 4180 read it: a header row, CRLF line ends, quoting only where
a field needs it, UTF-8, an attachment's file name, and no cell a spreadsheet would run as a formula."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from clusterlabel.interfaces.web.downloads import csv_download


def test_fields_with_commas_quotes_and_line_breaks_come_back_whole() -> None:
    names = ["Cluster, Inc.", 'The "Best" Cluster', "two\nlines", "Zürich Ärzte"]
    answer = csv_download("registry-2026-11-30.csv", ["name", "since"], [[name, None] for name in names])
    body = answer.body.decode("utf-8")
    assert body.startswith("name,since\r\n") and body.endswith("\r\n")
    assert '"Cluster, Inc.",\r\n"The ""Best"" Cluster",\r\n' in body  # quoted only where needed
    assert [row["name"] for row in csv.DictReader(io.StringIO(body, newline=""))] == names
    assert answer.headers["content-disposition"] == 'attachment; filename="registry-2026-11-30.csv"'
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"


def test_a_cell_a_spreadsheet_would_run_as_a_formula_is_written_as_text() -> None:
    rows = [['=HYPERLINK("http://x")', 3, datetime(2026, 3, 31, tzinfo=UTC)], ["@SUM(A1)", 0, None]]
    read = list(csv.reader(io.StringIO(csv_download("x.csv", ["name", "n", "at"], rows).body.decode(), newline="")))
    assert read[1] == ['\'=HYPERLINK("http://x")', "3", "2026-03-31T00:00:00+00:00"]
    assert read[2] == ["'@SUM(A1)", "0", ""]  # numbers stay numbers
