"""A saved draft of the assessment form keeps every field the form reads back, a Silver validation's too."""

from __future__ import annotations

import re
from pathlib import Path

from clusterlabel.interfaces.web.assessment_drafts import draft_fields

FORM = Path(__file__).resolve().parents[2] / "interfaces" / "templates" / "assessment.html"


def test_every_field_the_form_reads_back_from_a_draft_is_kept_by_the_draft() -> None:
    read_back = set(re.findall(r"values\.get\('([a-z_]+:?)'", FORM.read_text()))
    assert {"area:", "requirement_finding:", "recommendations"} <= read_back  # the Silver validation's
    form = {(name + "X-01" if name.endswith(":") else name): "typed" for name in read_back}
    assert draft_fields(form) == form
