"""An assessment's findings, and the report's digest frozen at the decision."""

from __future__ import annotations

from uuid import UUID

import pytest

from clusterlabel.domain.base import InvalidInput, StepNotAllowed
from clusterlabel.domain.catalogue import AreaSummary
from clusterlabel.domain.catalogue_shelf import load_catalogue
from clusterlabel.domain.commands import FreezeReport, SubmitAssessment
from tests.builders import full_scores, indicators, send
from tests.lifecycle import Lifecycle, memory_app

DIGEST = "ab" * 32


@pytest.fixture
def life() -> Lifecycle:
    return Lifecycle(memory_app())


def submit(life: Lifecycle, case_id: UUID, **findings: object) -> None:
    case = life.app.get_case(case_id)
    scored = indicators(full_scores(load_catalogue(case.catalogue_version), 0.9))
    first = scored[0].model_copy(update={"finding": "Members meet monthly.", "recommendation": "Survey them."})
    command = SubmitAssessment(expert_id=case.expert_ids[0], indicators=[first, *scored[1:]], report="r", **findings)
    send(life.app, case_id, command, actor=f"expert:{case.expert_ids[0]}")


def test_the_case_records_what_the_expert_wrote_beside_the_scores(life: Lifecycle) -> None:
    case_id = life.auditing()
    submit(
        life,
        case_id,
        area_summaries=[AreaSummary(code="structure", summary="A clear structure.")],
        strengths="A committed board.",
        success_stories="A test bed.",
    )
    findings = life.app.get_case(case_id).findings
    code = load_catalogue("bronze-2020").indicators[0].code
    assert findings["indicators"] == {code: {"finding": "Members meet monthly.", "recommendation": "Survey them."}}
    assert findings["areas"] == {"structure": "A clear structure."}
    assert (findings["strengths"], findings["areas_for_improvement"], findings["success_stories"]) == (
        "A committed board.",
        "",
        "A test bed.",
    )


def test_a_summary_of_an_unknown_area_is_refused_where_it_stands_and_records_nothing(life: Lifecycle) -> None:
    case_id = life.auditing()
    version = life.app.get_case(case_id).version
    with pytest.raises(InvalidInput) as refused:
        submit(life, case_id, area_summaries=[AreaSummary(code="marketing", summary="Bold.")])
    assert [problem.loc for problem in refused.value.problems] == [("area_summaries", 0, "code")]
    assert "marketing is not an area of catalogue bronze-2020" in str(refused.value)
    assert life.app.get_case(case_id).version == version


def test_the_report_is_frozen_once_per_decision_and_never_before_it(life: Lifecycle) -> None:
    case_id = life.deciding()
    with pytest.raises(StepNotAllowed, match="not decided yet"):
        send(life.app, case_id, FreezeReport(sha256=DIGEST, size=1000), actor="system:report")
    life.decide(case_id)
    send(life.app, case_id, FreezeReport(sha256=DIGEST, size=1000), actor="system:report")
    send(life.app, case_id, FreezeReport(sha256=DIGEST, size=1000), actor="system:report")  # another key, same bytes
    case = life.app.get_case(case_id)
    assert case.frozen_report is not None and case.frozen_report["sha256"] == DIGEST
    assert case.frozen_report["decided_at"] == case.decision["at"]  # type: ignore[index]
    with pytest.raises(StepNotAllowed, match="frozen already"):
        send(life.app, case_id, FreezeReport(sha256="cd" * 32, size=1000), actor="system:report")
    assert life.app.get_case(case_id).version == case.version  # nothing more recorded
