"""The bench's history store, topped up in batches through the recorder (tools/bench/bulk.py): every
case written so is a whole awarded case the application and the views read like one run command by
command, with its own ids, label code and invoice number."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from clusterlabel.activities.application import CertificationApp
from clusterlabel.domain.base import Level
from clusterlabel.domain.invoice import invoice_id_for
from clusterlabel.domain.label_code import label_code_for, label_id_for
from clusterlabel.projections.factory import open_read_models
from clusterlabel.tools.bench.bulk import bulk_fill
from clusterlabel.tools.bench.store import run_lifecycles
from tests.stores import postgres_schema, sqlite_env


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def env(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    if request.param == "sqlite":
        yield sqlite_env(tmp_path)
    else:
        yield from postgres_schema()


def test_the_store_is_topped_up_to_its_size_with_cases_read_as_awarded_with_their_own_labels(
    env: dict[str, str], tmp_path: Path
) -> None:
    first = run_lifecycles(CertificationApp(env=env), 2)

    case_ids = bulk_fill(env, first, 40, batch=7)

    assert case_ids[:2] == first and len(set(case_ids)) == 40
    app = CertificationApp(env=env)
    codes, numbers = set(), set()
    for case_id in case_ids[2:]:
        case = app.repository.get(case_id)
        assert case.state == "awarded"
        label = app.repository.get(case.label_id)
        assert label.label_code == label_code_for(case_id, Level.BRONZE)
        assert label.id == label_id_for(label.label_code)
        assert label.case_id == case_id
        codes.add(label.verification_code)
        numbers.add(app.repository.get(invoice_id_for(case_id)).number)
    assert len(codes) == len(numbers) == 38
    with open_read_models(env, app, views_dir=tmp_path / "views") as models:
        models.catch_up()
        assert models.dashboard(app.clock())["states"]["awarded"] == 40
        assert models.runner.parked() == []
