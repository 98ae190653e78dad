"""The public registry: every label with its cluster, level, validity and status, and verification.

A verification answer always names one status and since when: valid, expired, suspended,
withdrawn, superseded, lapsed, or unknown. "unknown" covers both a label id that never
existed and a wrong verification code, so that the answer does not help guess codes.
"""

from __future__ import annotations

import hmac
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from pydantic import BaseModel

from clusterlabel.domain.label_lifecycle import IN_FORCE, LAPSE_WHEN_THE_WINDOW_CLOSES, VALIDITY_RUNNING, LabelState
from clusterlabel.projections.labels import LabelRowsView, status_at
from clusterlabel.projections.view_store import Conditions, Row, stamp, unstamp, unstamped


class VerificationStatus(StrEnum):
    VALID = "valid"
    EXPIRED = "expired"
    SUSPENDED = "suspended"
    WITHDRAWN = "withdrawn"
    SUPERSEDED = "superseded"
    LAPSED = "lapsed"
    UNKNOWN = "unknown"


class RegistryEntry(BaseModel):
    label_id: UUID
    label_code: str
    cluster_id: UUID
    cluster_name: str
    country: str
    level: str
    catalogue_version: str
    valid_from: datetime
    valid_until: datetime
    renewable_until: datetime | None  # None once the label can no longer be renewed: no list prints a date
    status: str  # active, expired, suspended, withdrawn, superseded, lapsed
    since: datetime
    supersedes: UUID | None
    superseded_by: UUID | None
    imported_from: str | None = None  # the source of a label awarded before the engine (an import)


class Verification(BaseModel):
    label_code: str
    status: VerificationStatus
    since: datetime | None = None
    valid_until: datetime | None = None
    cluster_name: str | None = None
    level: str | None = None
    superseded_by_code: str | None = None
    imported_from: str | None = None


class RegistryView(LabelRowsView):
    name = "registry"
    cost = 1.4
    view_tables = ("registry_labels",)
    more_ddl = (
        "CREATE UNIQUE INDEX IF NOT EXISTS registry_by_code ON {registry_labels} (label_code)",
        "CREATE INDEX IF NOT EXISTS registry_by_country ON {registry_labels} (country, level)",
    )

    def entries(
        self,
        now: datetime,
        *,
        country: str | None = None,
        level: str | None = None,
        status: str | None = None,
        cluster_id: UUID | None = None,
        text: str | None = None,
        limit: int = 1000,
        offset: int = 0,
    ) -> list[RegistryEntry]:
        """`text` finds a label by the start of its code or by a part of its cluster's name, in any case."""
        where = Conditions()
        where.search(text, start_of="LOWER(label_code)", part_of="LOWER(cluster_name)")
        for column, value in (("country", country), ("level", level), ("cluster_id", cluster_id)):
            if value is not None:
                where.add(f"{column} = ?", str(value).upper() if column == "country" else str(value))
        if status is not None:
            # The status as of now, as label_status_at() computes it, so that the database filters and pages.
            where.add(f"{_STATUS_NOW} = ?", stamp(now), stamp(now), status)
        rows = self.fetch(
            "SELECT * FROM {registry_labels} WHERE "
            + where.sql()
            + " ORDER BY cluster_name, label_code LIMIT ? OFFSET ?",
            [*where.params, limit, offset],
        )
        return [_entry(row, now) for row in rows]

    def label(self, label_id: UUID, now: datetime) -> RegistryEntry | None:
        rows = self.fetch("SELECT * FROM {registry_labels} WHERE label_id = ?", (str(label_id),))
        return _entry(rows[0], now) if rows else None

    def verify(self, label_code: str, verification_code: str, now: datetime) -> Verification:
        """What the public sees when checking a certificate's label id and code."""
        code = label_code.strip().upper()
        rows = self.fetch("SELECT * FROM {registry_labels} WHERE label_code = ?", (code,))
        given = verification_code.strip().upper().encode()
        if not rows or not hmac.compare_digest(str(rows[0]["verification_code"]).encode(), given):
            return Verification(label_code=code, status=VerificationStatus.UNKNOWN)
        row = rows[0]
        status, since = status_at(row, now)
        answer = VerificationStatus.VALID if status is LabelState.ACTIVE else VerificationStatus(status.value)
        return Verification(
            label_code=code,
            status=answer,
            since=since,
            valid_until=unstamp(row["valid_until"]),
            cluster_name=row["cluster_name"],
            level=row["level"],
            superseded_by_code=self._code_of(row["superseded_by"]),
            imported_from=row["imported_from"],
        )

    def _code_of(self, label_id: str | None) -> str | None:
        if label_id is None:
            return None
        rows = self.fetch("SELECT label_code FROM {registry_labels} WHERE label_id = ?", (label_id,))
        return rows[0]["label_code"] if rows else None


# domain.label.label_status_at() in SQL, from the domain's own sets (stamps sort as time does): an active or
# expired label with no renewal running is lapsed from the later of its window's close and the end of what
# last held it off (RenewalWindow.lapsed_since), and past its validity one whose validity still runs is
# expired (one expired or lapsed already stays so: only its "since" differs, which Python computes). A
# registry test and the views-follow-the-domain test keep the two in step.
_LAPSING = ", ".join(f"'{state.value}'" for state in sorted(LAPSE_WHEN_THE_WINDOW_CLOSES))
_VALIDITY_RUNNING = ", ".join(f"'{state.value}'" for state in sorted(VALIDITY_RUNNING))
_LAPSED_SINCE = "(CASE WHEN held_until > renewable_until THEN held_until ELSE renewable_until END)"
_STATUS_NOW = (
    f"(CASE WHEN state IN ({_LAPSING}) AND renewal_case_id IS NULL AND {_LAPSED_SINCE} <= ? "
    f"THEN '{LabelState.LAPSED.value}' "
    f"WHEN state IN ({_VALIDITY_RUNNING}) AND valid_until <= ? THEN '{LabelState.EXPIRED.value}' ELSE state END)"
)


def _entry(row: Row, now: datetime) -> RegistryEntry:
    status, since = status_at(row, now)
    fields = unstamped(row, "valid_from", "valid_until", "renewable_until")
    if status not in IN_FORCE:  # withdrawn, superseded, lapsed: a date would read as a chance to renew
        fields["renewable_until"] = None
    return RegistryEntry.model_validate({**fields, "status": status.value, "since": since})
