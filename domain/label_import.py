"""Labels awarded before the engine existed, read from a CSV file (ESCA's database export).

Every row becomes one `ImportLabel` command. The whole file is checked before anything is recorded: a
file with any bad row is refused with every problem found, each named by its row and its column, so that
a secretariat user can fix the file in one go. A row is numbered by the line it starts on, as a
spreadsheet shows it (the header is row 1): blank lines count, and a quoted cell running over several
lines makes the next row's number jump.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import UUID

from pydantic import Field, ValidationError, field_validator, model_validator

from clusterlabel.domain.base import InvalidInput, Level, Problem
from clusterlabel.domain.command_base import Command, command_key
from clusterlabel.domain.countries import CountryCode
from clusterlabel.domain.label import Label
from clusterlabel.domain.label_lifecycle import renewal_window_end
from clusterlabel.domain.policy import Policy
from clusterlabel.domain.text import Text

REQUIRED_COLUMNS = ("cluster_name", "country", "level", "label_code", "awarded_on", "valid_until", "source")
OPTIONAL_COLUMNS = ("sector", "catalogue_version", "website")
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
MAX_ROWS = 20_000  # ESCA's database holds about 1,300; a file far larger is not what this reads

# The codes the engine issues (domain/label.py: label_code_for): an imported code in that shape could
# one day collide with one the engine issues, and a reader could not tell which is which.
ENGINE_CODE = re.compile(r"^ECEI-[BSG]-", re.IGNORECASE)
# Any label's printed code, the engine's or an imported one: it must fit in a URL's path segment as it is.
PRINTED_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,59}$")


class ImportLabel(Command):
    """Record a label awarded outside the engine, saying where it came from (`source`)."""

    subject = "label"
    cluster_name: Text = Field(min_length=1, max_length=200)
    country: CountryCode
    sector: Text = Field(default="", max_length=200)
    level: Level
    label_code: Text = Field(min_length=1, max_length=60, description="the code as it was awarded")
    awarded_on: date
    valid_until: date = Field(description="the last day the label is valid")
    catalogue_version: Text = Field(default="", max_length=40)
    source: Text = Field(min_length=1, max_length=200, description='e.g. "ESCA database export 2026-11"')
    website: Text = Field(default="", max_length=500)
    # Not a column: the registered cluster the row names, found by name and country before the import
    # (None: the import registers it).
    cluster_id: UUID | None = None
    # Not a column either: the row's number in the file (the line it starts on), so that a problem the store
    # finds later names the row the secretariat sees (0: not read from a file).
    row: int = Field(default=0, ge=0)

    @field_validator("label_code")
    @classmethod
    def _not_the_engines(cls, code: str) -> str:
        if ENGINE_CODE.match(code):
            raise ValueError(
                f"{code!r} has the shape of the codes this engine issues (ECEI-B-…); keep the code awarded"
            )
        if not PRINTED_CODE.match(code):
            raise ValueError(f"{code!r} is not a label code: a letter or digit, then letters, digits, . _ - only")
        if _reads_as_uuid(code):
            raise ValueError(
                f"{code!r} reads as an id (a UUID): every address and complaint would take it for a record's id"
            )
        return code.upper()

    @field_validator("website")
    @classmethod
    def _web_address(cls, url: str) -> str:
        if url and (not url.startswith(("https://", "http://")) or "." not in url):
            raise ValueError(f"{url!r} is not a web address starting with https://")
        return url

    @model_validator(mode="after")
    def _valid_after_award(self) -> ImportLabel:
        if self.valid_until <= self.awarded_on:
            raise ValueError(f"valid_until ({self.valid_until}) must come after awarded_on ({self.awarded_on})")
        return self

    @property
    def key(self) -> str:
        """One import of one label: its source and its code, so that the same file read twice records it once."""
        return command_key("import", self.source, self.label_code)

    @property
    def valid_from(self) -> datetime:
        return datetime.combine(self.awarded_on, time(), UTC)

    @property
    def valid_through(self) -> datetime:
        """The instant the label stops being valid: the end of its last day (as engine labels end at midnight)."""
        return datetime.combine(self.valid_until + timedelta(days=1), time(), UTC)

    @property
    def cluster_key(self) -> str:
        """The key of the cluster's registration by an import: one cluster per name and country."""
        name, country = self.cluster_match
        return command_key("import-cluster", country, name)

    @property
    def cluster_match(self) -> tuple[str, str]:
        """How a row names its cluster: the name in any case and spacing, and the country."""
        return " ".join(self.cluster_name.casefold().split()), self.country


def _reads_as_uuid(code: str) -> bool:
    try:
        UUID(code)
    except ValueError:
        return False
    return True


def read_label_import(text: str) -> list[ImportLabel]:
    """Every row of the file as a command, or InvalidInput naming every bad row and column."""
    rows = _rows_by_line(text.removeprefix("\ufeff"))
    header_row, header = next(rows, (1, None))
    header_problems = _header_problems(header_row, header)
    if header_problems or header is None:
        raise refused_file(header_problems)
    commands: list[ImportLabel] = []
    problems: list[Problem] = []
    for count, (row_number, cells) in enumerate(rows, start=1):
        if count > MAX_ROWS:
            problems.append(Problem(f"more than {MAX_ROWS} rows: split the file", ("row", row_number)))
            break
        command, row_problems = _read_row(row_number, header, cells)
        problems += row_problems
        if command is not None:
            commands.append(command)
    if not problems and not commands:
        problems.append(Problem("the file has a header but no labels", ("row", header_row + 1)))
    problems += duplicate_problems(commands)
    if problems:
        raise refused_file(problems)
    return commands


def _rows_by_line(text: str) -> Iterator[tuple[int, list[str]]]:
    """Each row that is not blank, with the line it starts on. The reader's `line_num` counts the lines read so
    far, so the line after it is where the next row starts; it may end lines later (a quoted line break)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    while True:
        starts_on = reader.line_num + 1
        cells = next(reader, None)
        if cells is None:
            return
        if cells:  # a blank line reads as no cells: no row, but it is counted
            yield starts_on, cells


def _header_problems(row: int, header: Sequence[str] | None) -> list[Problem]:
    if not header:
        return [Problem("the file is empty: the first row must name the columns", ("row", row))]
    names = [name.strip() for name in header]
    problems = [
        Problem(f"column {name!r} is missing from the header", ("row", row, name))
        for name in REQUIRED_COLUMNS
        if name not in names
    ]
    problems += [
        Problem(f"unknown column {name!r}; the columns are {', '.join(COLUMNS)}", ("row", row, name))
        for name in names
        if name not in COLUMNS
    ]
    return problems


def _read_row(row_number: int, header: Sequence[str], cells: list[str]) -> tuple[ImportLabel | None, list[Problem]]:
    if len(cells) > len(header):
        return None, [Problem("the row has more cells than the header has columns", ("row", row_number))]
    padded = cells + [""] * (len(header) - len(cells))  # cells missing at the end are empty ones
    values = {name.strip(): value.strip() for name, value in zip(header, padded, strict=True)}
    given = {name: value for name, value in values.items() if value or name in REQUIRED_COLUMNS}
    try:
        return ImportLabel.model_validate({**given, "row": row_number}), []
    except ValidationError as error:
        return None, [_problem(row_number, detail) for detail in error.errors()]


def _problem(row_number: int, detail: Any) -> Problem:
    column = str(detail["loc"][0]) if detail["loc"] else ""
    message = detail["msg"].removeprefix("Value error, ")
    if detail["input"] == "" and column in REQUIRED_COLUMNS:
        message = "is empty; a value is required"
    elif column in ("awarded_on", "valid_until") and detail["type"].startswith("date"):
        message = f"{detail['input']!r} is not a date written YYYY-MM-DD ({message})"
    where = ("row", row_number, column) if column else ("row", row_number)
    return Problem(f"row {row_number}, {column or 'the row'}: {message}", where)


def duplicate_problems(commands: list[ImportLabel]) -> list[Problem]:
    """A code twice in one file, or two labels for one cluster at one level (at most one is in force)."""
    problems: list[Problem] = []
    codes: dict[str, int] = {}
    holders: dict[tuple[tuple[str, str], Level], int] = {}
    for command in commands:
        row_number = command.row
        first = codes.setdefault(command.label_code, row_number)
        if first != row_number:
            problems.append(
                Problem(
                    f"row {row_number}, label_code: {command.label_code} is already on row {first}",
                    ("row", row_number, "label_code"),
                )
            )
        holder = holders.setdefault((command.cluster_match, command.level), row_number)
        if holder != row_number:
            problems.append(
                Problem(
                    f"row {row_number}, level: {command.cluster_name} ({command.country}) has a {command.level} "
                    f"label on row {holder} already; import only the latest label per cluster and level",
                    ("row", row_number, "level"),
                )
            )
    return problems


# The longest a label awarded before the engine can have run: ESCA has renewed "by three years from the
# previous validity period" (DOMAIN.md), which a renewal decided up to a year before the old expiry puts
# four years past its award. A later end is a mistyped year, for the secretariat to check in its records.
LONGEST_IMPORTED_VALIDITY_YEARS = 4


def award_problems(command: ImportLabel, now: datetime) -> list[Problem]:
    """A row's dates against the import's instant: a label is imported once awarded, never ahead of its
    award (it would read as valid from a day still to come), and valid no longer than any label has run."""
    problems: list[Problem] = []
    today = now.astimezone(UTC).date()
    if command.awarded_on > today:
        message = f"{command.awarded_on} is later than today ({today}): import a label once it is awarded"
        problems.append(_dated_problem(command.row, "awarded_on", message))
    longest = longest_valid_until(command.awarded_on)
    if command.valid_until > longest:
        message = (
            f"{command.valid_until} is more than {LONGEST_IMPORTED_VALIDITY_YEARS} years after the award on "
            f"{command.awarded_on} (no label runs longer): {longest} at the latest"
        )
        problems.append(_dated_problem(command.row, "valid_until", message))
    return problems


def longest_valid_until(awarded_on: date) -> date:
    try:
        return awarded_on.replace(year=awarded_on.year + LONGEST_IMPORTED_VALIDITY_YEARS)
    except ValueError:  # 29 February, in a year that has none
        return awarded_on.replace(year=awarded_on.year + LONGEST_IMPORTED_VALIDITY_YEARS, day=28)


def _dated_problem(row: int, column: str, message: str) -> Problem:
    """Named by its row when read from a file (`row` 0: a command sent on its own names its field alone)."""
    if row == 0:
        return Problem(f"{column}: {message}", (column,))
    return Problem(f"row {row}, {column}: {message}", ("row", row, column))


def refused_file(problems: list[Problem]) -> InvalidInput:
    """The one refusal of a file, naming the first few problems (the problems list has them all)."""
    return InvalidInput(
        f"the file was not imported: {len(problems)} problem(s); " + "; ".join(p.msg for p in problems[:5]),
        problems,
    )


def imported_label(*, command: ImportLabel, cluster: Any, verification_code: str, policy: Policy, actor: str) -> Label:
    """A label awarded before the engine existed, as the import file states it: no case, no experts,
    and the source it came from. It follows the same lifecycle as any other from here on."""
    return Label(
        label_code=command.label_code,
        verification_code=verification_code,
        cluster_id=cluster.id,
        cluster_name=cluster.name,
        country=cluster.country,
        case_id=None,
        level=command.level.value,
        catalogue_version=command.catalogue_version,
        expert_ids=[],
        decided_at=command.valid_from,
        valid_from=command.valid_from,
        valid_until=command.valid_through,
        renewable_until=renewal_window_end(policy.renewal_window, command.valid_through),
        supersedes=None,
        actor=actor,
        command_key=command.key,
        imported_from=command.source,
    )
