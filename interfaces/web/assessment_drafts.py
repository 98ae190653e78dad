"""An expert's draft of an assessment: the assessment form's fields as last saved, one draft per expert
and case, beside the event store (side_tables.py).

Beside the log, not in it: a draft is work in progress, no fact of the certification; only the submitted
assessment is recorded (CertificationCase.AssessmentSubmitted), once. A draft is kept as typed, checked
only for its size and its fields' names: the submission checks everything, as the API does.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from uuid import UUID

from clusterlabel.domain.command_base import LONG_TEXT
from clusterlabel.interfaces.settings import Settings
from clusterlabel.interfaces.web import side_tables
from clusterlabel.interfaces.web.errors import ApiError
from clusterlabel.interfaces.web.side_tables import SideStore, instant_text, open_side_table

COLUMNS = (
    "case_id TEXT NOT NULL, expert_id TEXT NOT NULL, fields TEXT NOT NULL, saved_at TEXT NOT NULL, "
    "PRIMARY KEY (case_id, expert_id)"
)
# The assessment form's fields (templates/assessment.html): one of each per indicator or area
# (`score:B-STR-01`), a Silver validation's per area and baseline requirement, and the whole's.
PER_ITEM = (
    "score:",
    "evidence:",
    "finding:",
    "recommendation:",
    "summary:",
    "area:",
    "area_finding:",
    "requirement:",
    "requirement_finding:",
)
WHOLE = ("report", "strengths", "areas_for_improvement", "success_stories", "recommendations")
MOST_FIELDS = 1_000
# The form's second button: save, do not submit.
DRAFT_ACTION = ("action", "draft")


def open_assessment_drafts(settings: Settings) -> AssessmentDrafts:
    """The experts' drafts of their assessments, beside the event store (only the submission is a fact)."""
    return AssessmentDrafts(open_side_table(settings, "assessment_drafts", COLUMNS))


def draft_fields(form: Mapping[str, Any]) -> dict[str, str]:
    """The form's own fields that hold text; refused (422) when there are too many or one is too long."""
    fields = {
        name: value
        for name, value in form.items()
        if isinstance(value, str) and value.strip() and (name in WHOLE or name.startswith(PER_ITEM))
    }
    too_long = sorted(name for name, value in fields.items() if len(value) > LONG_TEXT)
    if too_long or len(fields) > MOST_FIELDS:
        detail = f"the draft is too large: {', '.join(too_long) or 'too many fields'}; nothing was saved"
        raise ApiError(422, detail)
    return fields


class AssessmentDrafts(SideStore):
    def save(self, case_id: UUID, expert_id: UUID, fields: dict[str, str]) -> None:
        """Keep the fields as the expert's draft of the case's assessment, replacing an earlier draft."""
        self._table.count(
            "INSERT INTO {} (case_id, expert_id, fields, saved_at) VALUES ({p}, {p}, {p}, {p}) "
            "ON CONFLICT (case_id, expert_id) DO UPDATE SET fields = excluded.fields, saved_at = excluded.saved_at",
            (str(case_id), str(expert_id), json.dumps(fields, sort_keys=True), instant_text(side_tables.wall_clock())),
        )

    def load(self, case_id: UUID, expert_id: UUID) -> dict[str, str]:
        """The expert's draft of the case's assessment; empty when there is none."""
        row = self._table.one(
            "SELECT fields FROM {} WHERE case_id = {p} AND expert_id = {p}", (str(case_id), str(expert_id))
        )
        return dict(json.loads(row[0])) if row else {}

    def discard(self, case_id: UUID, expert_id: UUID) -> None:
        """The assessment is submitted: its draft is done with."""
        self._table.count("DELETE FROM {} WHERE case_id = {p} AND expert_id = {p}", (str(case_id), str(expert_id)))
