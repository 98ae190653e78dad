"""What the exports read: the registry lists an imported label like an issued one, saying where it came
from, and verifies it; the statistics count applications, decisions and labels in force by level,
country, sector and year, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from clusterlabel.activities.application import CertificationApp
from clusterlabel.activities.label_import import import_labels
from clusterlabel.domain.base import Level
from clusterlabel.domain.case_lifecycle import Outcome
from clusterlabel.domain.commands import DecideAppeal, LodgeAppeal, RecordDecision
from clusterlabel.domain.label_import import read_label_import
from clusterlabel.projections.factory import open_read_models
from tests.builders import send
from tests.lifecycle import SECRETARIAT, Clock, Lifecycle
from tests.stores import postgres_schema, sqlite_env

IMPORT = (
    "cluster_name,country,sector,level,label_code,awarded_on,valid_until,source,website\n"
    "Saxon Optics,DE,photonics,gold,ESCA-G-0001,2025-05-02,2027-05-31,ESCA export,https://optics.example.de\n"
    "Lyon Agri,FR,agri-food,bronze,ESCA-B-0002,2023-06-01,2025-06-30,ESCA export,https://agri.example.fr\n"
)


def counts(rows: list[object], *names: str) -> dict[tuple[object, ...], tuple[int, int, int, int]]:
    return {
        tuple(getattr(row, name) for name in names): (
            row.applications,  # type: ignore[attr-defined]
            row.awarded,  # type: ignore[attr-defined]
            row.refused,  # type: ignore[attr-defined]
            row.labels_in_force,  # type: ignore[attr-defined]
        )
        for row in rows
    }


class ExportViewsContract:
    """Subclasses provide the `env` fixture."""

    def test_the_registry_and_the_statistics_count_issued_and_imported_labels(self, env: dict[str, str]) -> None:
        clock = Clock()  # 2026-03-10
        app = CertificationApp(env=env, clock=clock)
        lithuanian, german = Lifecycle(app, country="LT"), Lifecycle(app, country="DE")
        lithuanian.labelled()  # applied, awarded, label in force
        german.decide(german.deciding(), Outcome.REFUSE)  # applied, refused
        german.apply(Level.GOLD)  # applied, open
        imported = {row.label_code: row for row in import_labels(app, read_label_import(IMPORT), "secretariat")}

        with open_read_models(env, app, only=["registry", "statistics"]) as models:
            models.catch_up()
            now = clock()
            entries = {entry.label_code: entry for entry in models.public_registry(now)}
            assert (entries["ESCA-G-0001"].imported_from, entries["ESCA-G-0001"].status) == ("ESCA export", "active")
            assert entries["ESCA-B-0002"].status == "expired"  # past its validity, as any label would be
            assert [entry.imported_from for code, entry in entries.items() if code.startswith("ECEI-")] == [None]
            verified = models.verify_label("esca-g-0001", imported["ESCA-G-0001"].verification_code, now)
            assert (verified.status.value, verified.cluster_name, verified.imported_from) == (
                "valid",
                "Saxon Optics",
                "ESCA export",
            )

            assert counts(models.statistics(now, [])) == {(): (3, 1, 1, 2)}
            assert counts(models.statistics(now, ["level", "country", "year"]), "level", "country", "year") == {
                ("bronze", "DE", 2026): (1, 0, 1, 0),
                ("bronze", "LT", 2026): (1, 1, 0, 1),
                ("gold", "DE", 2025): (0, 0, 0, 1),  # the imported label, awarded in 2025
                ("gold", "DE", 2026): (1, 0, 0, 0),
            }
            assert counts(models.statistics(now, ["sector"]), "sector") == {
                ("maritime",): (3, 1, 1, 1),
                ("photonics",): (0, 0, 0, 1),
            }
            later = now.replace(year=2027, month=7)  # the imported gold label has expired by then
            assert counts(models.statistics(later, ["level"]), "level")[("gold",)] == (1, 0, 0, 0)

    def test_a_refusal_overturned_on_appeal_counts_as_undecided_until_the_case_is_decided_again(
        self, env: dict[str, str]
    ) -> None:
        app = CertificationApp(env=env, clock=Clock())
        life = Lifecycle(app, country="EE")
        case_id = life.deciding()
        life.decide(case_id, Outcome.REFUSE)
        send(app, case_id, LodgeAppeal(grounds="The scores support Bronze."), actor=SECRETARIAT)
        with open_read_models(env, app, only=["statistics"]) as models:
            models.catch_up()
            assert counts(models.statistics(app.clock(), [])) == {(): (1, 0, 1, 0)}
            send(app, case_id, DecideAppeal(upheld=True, rationale="They do."), actor="board:appeals")
            models.catch_up()
            assert counts(models.statistics(app.clock(), [])) == {(): (1, 0, 0, 0)}  # it counted the refusal
            award = RecordDecision(outcome=Outcome.AWARD, rationale="On appeal: Bronze.")
            send(app, case_id, award, actor="secretariat:greta")
            models.catch_up()
            assert counts(models.statistics(app.clock(), [])) == {(): (1, 1, 0, 0)}


class TestExportViewsOnSQLite(ExportViewsContract):
    @pytest.fixture
    def env(self, tmp_path: Path) -> dict[str, str]:
        return sqlite_env(tmp_path)


@pytest.mark.postgres
class TestExportViewsOnPostgreSQL(ExportViewsContract):
    @pytest.fixture
    def env(self) -> Iterator[dict[str, str]]:
        yield from postgres_schema()
