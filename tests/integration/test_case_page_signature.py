"""A Gold team's expert is offered the signature of the team's assessment while a version awaits it, and not
once a release took that version out (the page offered a signature the engine refused, in place of the
form that records the audit held)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest

from clusterlabel.domain.account import Role
from clusterlabel.domain.base import Level
from clusterlabel.domain.catalogue_shelf import load_catalogue
from clusterlabel.domain.commands import RecordAgreement, ReleaseExpert, SubmitAssessment
from clusterlabel.domain.record_commands import OpenAccount
from clusterlabel.interfaces.engine import Engine
from clusterlabel.interfaces.settings import Settings
from clusterlabel.interfaces.web.app import create_app
from tests.builders import full_scores, indicators, send
from tests.integration.test_evidence_api import ORIGIN, Http, account, csrf_of
from tests.lifecycle import SECRETARIAT, Lifecycle

TOKEN = "signature-page-admin-token"


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = Engine(Settings(data_dir=tmp_path, admin_token=TOKEN), with_worker=False, poll_interval=0.05)
    engine.start_projections()
    yield engine
    asyncio.run(engine.stop())


def signed_in_page(engine: Engine, expert_id: UUID) -> Http:
    page = Http(create_app(engine.services))
    token = account(engine, "Tess Teammate", OpenAccount(roles=[Role.EXPERT], expert_id=expert_id))
    login = page.get("/ui/login")
    bearer = token["Authorization"].removeprefix("Bearer ")
    answer = page.post(
        "/ui/login", data={"token": bearer, "csrf_token": csrf_of(login.text)}, headers={"Origin": ORIGIN}
    )
    assert answer.status_code == 303, answer.text
    return page


def test_the_signature_is_offered_while_a_version_awaits_it_and_not_once_a_release_took_it_out(engine: Engine) -> None:
    life = Lifecycle(engine.app)
    case_id = life.auditing(Level.GOLD)
    scorer, teammate = engine.app.get_case(case_id).expert_ids
    scores = indicators(full_scores(load_catalogue(engine.app.get_case(case_id).catalogue_version), 0.9))
    send(
        engine.app,
        case_id,
        SubmitAssessment(expert_id=scorer, indicators=scores, report="v1"),
        actor=f"expert:{scorer}",
    )
    page = signed_in_page(engine, teammate)
    engine.services.fresh()
    assert 'id="signature"' in page.get(f"/ui/cases/{case_id}").text

    send(engine.app, case_id, ReleaseExpert(expert_id=scorer, reason="certification revoked"), actor=SECRETARIAT)
    life.staff(case_id)
    send(engine.app, case_id, RecordAgreement(agreed=True), actor=SECRETARIAT)
    engine.services.fresh()

    shown = page.get(f"/ui/cases/{case_id}").text
    assert engine.app.get_case(case_id).assessment_version == 1  # the version count goes on; no version awaits
    assert 'id="signature"' not in shown
