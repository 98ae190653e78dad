"""Downloads for programme owners: the public registry as CSV (its JSON is GET /registry) and the
secretariat's case statistics as JSON and CSV, both read from the views (projections/registry.py,
projections/statistics.py), never by replaying the log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from clusterlabel.domain.base import Level
from clusterlabel.domain.label_lifecycle import LabelState
from clusterlabel.interfaces.web.auth import Staff
from clusterlabel.interfaces.web.common import ERRORS, PUBLIC_READ, public_router
from clusterlabel.interfaces.web.downloads import CSV_ANSWER, csv_download
from clusterlabel.interfaces.web.errors import invalid
from clusterlabel.interfaces.web.ratelimit import PublicRead
from clusterlabel.interfaces.web.registry import CountryFilter, aged
from clusterlabel.interfaces.web.schemas import RegistryEntryOut, StatisticsOut
from clusterlabel.interfaces.web.services import Services, Svc
from clusterlabel.projections.statistics import COUNTS, DIMENSIONS, StatisticsRow

router = APIRouter(tags=["statistics"], responses=ERRORS)
public = public_router()
EVERY_LABEL = 1_000_000
EVERY_DIMENSION = ",".join(DIMENSIONS)
REGISTRY_COLUMNS = tuple(RegistryEntryOut.model_fields)
_DIMENSION = "(" + "|".join(DIMENSIONS) + ")"
By = Annotated[
    str,
    Query(
        max_length=40,
        # Declared, not enforced by FastAPI: counted() answers with the clearer message.
        json_schema_extra={"pattern": f"^({_DIMENSION}(,{_DIMENSION})*)?$"},
        description=f"the dimensions to count by, comma-separated: any of {', '.join(DIMENSIONS)}; empty for totals",
        examples=["level,country"],
    ),
]


@public.get(
    "/registry.csv",
    response_class=Response,
    summary="The public registry of labels as a CSV file",
    responses={**PUBLIC_READ, 200: {**PUBLIC_READ[200], **CSV_ANSWER[200]}},
)
def registry_csv(
    svc: Svc,
    _: PublicRead,
    country: CountryFilter = None,
    level: Level | None = None,
    status: LabelState | None = None,
) -> Response:
    now = svc.now()
    entries = svc.models.public_registry(
        now,
        country=country,
        level=level.value if level else None,
        status=status.value if status else None,
        limit=EVERY_LABEL,
    )
    rows = [[getattr(entry, column) for column in REGISTRY_COLUMNS] for entry in entries]
    answer = csv_download(f"registry-{now:%Y-%m-%d}.csv", REGISTRY_COLUMNS, rows)
    aged(answer, svc)
    return answer


@router.get("/statistics", summary="Applications, decisions and labels in force, counted")
def statistics(svc: Svc, who: Staff, by: By = EVERY_DIMENSION) -> StatisticsOut:
    dimensions, rows = counted(svc, by)
    return StatisticsOut(by=dimensions, as_of=svc.now(), rows=[row.model_dump() for row in rows])


@router.get(
    "/statistics.csv",
    response_class=Response,
    summary="The statistics as a CSV file: one column per dimension, then the counts",
    responses=CSV_ANSWER,
)
def statistics_csv(svc: Svc, who: Staff, by: By = EVERY_DIMENSION) -> Response:
    return statistics_download(svc, by)


def statistics_download(svc: Services, by: str) -> Response:
    dimensions, rows = counted(svc, by)
    header = [*dimensions, *COUNTS]
    return csv_download(
        f"statistics-{svc.now():%Y-%m-%d}.csv", header, [[getattr(row, name) for name in header] for row in rows]
    )


def counted(svc: Services, by: str) -> tuple[list[str], list[StatisticsRow]]:
    """The dimensions `by` names (comma-separated; 422 naming any other) and the counts grouped by them."""
    parts = by.split(",") if by else []
    unknown = [repr(part) for part in parts if part not in DIMENSIONS]
    if unknown:
        raise invalid(f"cannot count by {', '.join(unknown)}: choose from {', '.join(DIMENSIONS)}", ("query", "by"))
    dimensions = list(dict.fromkeys(parts))
    svc.fresh()
    return dimensions, svc.models.statistics(svc.now(), dimensions)
