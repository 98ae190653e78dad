"""Importing labels awarded before the engine: the CSV read row by row, every bad row named by its row
and column, all or nothing, once per source and code, and the imported label living like any other."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from clusterlabel.activities.label_import import import_label, import_labels
from clusterlabel.activities.open_records import open_records, waiting_webhook_deliveries
from clusterlabel.domain.base import InvalidInput, Level, StepNotAllowed
from clusterlabel.domain.command_base import Envelope
from clusterlabel.domain.commands import CloseRenewalWindow, ExpireLabel
from clusterlabel.domain.label import label_id_for
from clusterlabel.domain.label_import import ImportLabel, read_label_import
from clusterlabel.domain.label_lifecycle import LabelState
from clusterlabel.domain.webhook_commands import RegisterWebhook
from clusterlabel.domain.webhook_delivery import WebhookDelivery
from tests.builders import register, send
from tests.lifecycle import Clock, Lifecycle, event_count

SAMPLE = Path(__file__).parents[2] / "docs" / "label-import-sample.csv"
HEADER = "cluster_name,country,sector,level,label_code,awarded_on,valid_until,catalogue_version,source,website\n"
SOURCE = "ESCA database export 2026-11"


def row(name: str = "Saxon Optics", code: str = "ESCA-B-0001", level: str = "bronze", **cells: str) -> str:
    values = {
        "cluster_name": name,
        "country": "DE",
        "sector": "photonics",
        "level": level,
        "label_code": code,
        "awarded_on": "2025-05-02",
        "valid_until": "2027-05-31",
        "catalogue_version": "",
        "source": SOURCE,
        "website": "https://optics.example.de",
        **cells,
    }
    return ",".join(values[column] for column in HEADER.strip().split(",")) + "\n"


def problems_of(text: str) -> dict[tuple[object, ...], str]:
    with pytest.raises(InvalidInput) as refused:
        read_label_import(text)
    return {problem.loc: problem.msg for problem in refused.value.problems}


# ---- reading the file ----------------------------------------------------------------------------


def test_the_sample_file_reads_as_one_command_per_row_with_quoted_fields_kept_whole() -> None:
    commands = read_label_import(SAMPLE.read_text(encoding="utf-8"))
    assert [command.label_code for command in commands] == ["ESCA-G-2019-0042", "ESCA-B-2023-1187", "ESCA-S-2025-0311"]
    assert commands[2].sector == "health, life sciences"  # a quoted comma is no new column
    assert (commands[0].level, commands[0].country, commands[1].catalogue_version) == (Level.GOLD, "LT", "")


def test_every_bad_cell_is_named_by_its_row_and_column_and_no_row_is_returned() -> None:
    text = HEADER + row() + row(code="ESCA-B-0002", country="XX") + row(code="ESCA-B-0003", awarded_on="02/05/2025")
    text += row(code="ESCA-B-0004", level="platinum", source="") + row(code="ESCA-B-0005", valid_until="2025-01-01")
    problems = problems_of(text)
    assert set(problems) == {
        ("row", 3, "country"),
        ("row", 4, "awarded_on"),
        ("row", 5, "level"),
        ("row", 5, "source"),
        ("row", 6),  # the two dates together: no one column is wrong
    }
    assert "'XX' is not an ISO 3166-1 alpha-2 country code" in problems[("row", 3, "country")]
    assert "'02/05/2025' is not a date written YYYY-MM-DD" in problems[("row", 4, "awarded_on")]
    assert problems[("row", 5, "source")] == "row 5, source: is empty; a value is required"
    assert "valid_until (2025-01-01) must come after awarded_on (2025-05-02)" in problems[("row", 6)]


def test_a_header_missing_a_column_or_naming_an_unknown_one_is_refused_before_any_row() -> None:
    problems = problems_of("cluster_name,country,level,label_code,awarded_on,source,colour\n")
    assert set(problems) == {("row", 1, "valid_until"), ("row", 1, "colour")}
    assert problems_of("") == {("row", 1): "the file is empty: the first row must name the columns"}
    assert problems_of(HEADER) == {("row", 2): "the file has a header but no labels"}


def test_a_code_in_the_engines_own_shape_or_unfit_for_a_url_is_refused() -> None:
    problems = problems_of(HEADER + row(code="ECEI-B-AAAA-BBBB-CCCC") + row(code="ESCA 7/2020"))
    assert "has the shape of the codes this engine issues" in problems[("row", 2, "label_code")]
    assert "is not a label code" in problems[("row", 3, "label_code")]


@pytest.mark.parametrize("code", ["3f2504e0-4f89-11d3-9a0c-0305e82c3301", "3F2504E04F8911D39A0C0305E82C3301"])
def test_a_code_that_reads_as_an_id_is_refused(code: str) -> None:
    """An address or a complaint naming it would be taken for a record's id (a label's or a cluster's)."""
    problems = problems_of(HEADER + row(code=code))
    assert "reads as an id (a UUID)" in problems[("row", 2, "label_code")]


def test_a_code_twice_or_two_labels_for_one_cluster_and_level_in_one_file_are_refused() -> None:
    text = HEADER + row() + row(name="SAXON  optics", code="ESCA-B-0002") + row(name="Other", code="ESCA-B-0001")
    problems = problems_of(text)
    assert problems[("row", 3, "level")].startswith("row 3, level: SAXON  optics (DE) has a bronze label on row 2")
    assert problems[("row", 4, "label_code")] == "row 4, label_code: ESCA-B-0001 is already on row 2"


# ---- importing -------------------------------------------------------------------------------------


def imported(life: Lifecycle, text: str) -> list[ImportLabel]:
    commands = read_label_import(text)
    import_labels(life.app, commands, "secretariat")
    return commands


def test_an_imported_label_says_where_it_came_from_and_its_new_cluster_holds_it(life: Lifecycle) -> None:
    imported(life, HEADER + row())
    label = life.app.find_label("esca-b-0001")
    assert (label.imported_from, label.case_id, label.expert_ids) == (SOURCE, None, [])
    assert (label.valid_from, label.valid_until) == (datetime(2025, 5, 2, tzinfo=UTC), datetime(2027, 6, 1, tzinfo=UTC))
    cluster = life.app.get_cluster(label.cluster_id)
    assert (cluster.name, cluster.profile.sector, cluster.current_labels) == (
        "Saxon Optics",
        "photonics",
        {Level.BRONZE: label.id},
    )
    assert cluster.unmet_criteria(life.app.policy)  # what the file does not say is not assumed
    assert label.id in open_records(life.app).label_ids  # the reconciler starts its workflow


def test_importing_the_same_file_again_records_nothing(life: Lifecycle) -> None:
    text = HEADER + row() + row(code="ESCA-S-0001", level="silver")
    imported(life, text)
    recorded = event_count(life.app)
    again = import_labels(life.app, read_label_import(text), "secretariat")
    assert [entry.imported for entry in again] == [False, False]
    assert event_count(life.app) == recorded


def test_one_row_the_store_refuses_refuses_the_whole_file(life: Lifecycle) -> None:
    life.labelled()  # the Lifecycle's cluster, Baltic Marine Cluster (LT), holds a bronze label
    recorded = event_count(life.app)
    text = HEADER + row() + row(name="baltic marine cluster", code="ESCA-B-0002", country="LT")
    text += row(name="Unknown Cluster", code="ESCA-B-0003", website="")
    with pytest.raises(InvalidInput) as refused:
        import_labels(life.app, read_label_import(text), "secretariat")
    problems = {problem.loc: problem.msg for problem in refused.value.problems}
    assert problems[("row", 3, "level")].startswith(
        "row 3, level: Baltic Marine Cluster (LT) already holds the bronze label ECEI-B-"
    )
    assert "give its website to register it" in problems[("row", 4, "website")]
    assert event_count(life.app) == recorded  # row 2 was fine, and is not imported either


def test_a_row_naming_a_registered_cluster_gives_it_the_label(life: Lifecycle) -> None:
    imported(
        life, HEADER + row(name=" BALTIC marine Cluster", code="ESCA-G-0001", level="gold", country="LT", website="")
    )
    assert life.app.get_cluster(life.cluster_id).current_labels[Level.GOLD] == life.app.find_label("ESCA-G-0001").id


def test_a_code_imported_from_another_source_is_refused(life: Lifecycle) -> None:
    imported(life, HEADER + row())
    with pytest.raises(InvalidInput, match="ESCA-B-0001 is already a label imported from 'ESCA database export"):
        imported(life, HEADER + row(source="Another export"))


def test_an_imported_label_expires_and_lapses_like_any_other(life: Lifecycle, clock: Clock) -> None:
    imported(life, HEADER + row(awarded_on="2025-01-10", valid_until="2027-01-31"))
    label = life.app.find_label("ESCA-B-0001")
    with pytest.raises(StepNotAllowed, match="is valid until 2027-02-01"):
        send(life.app, label.id, ExpireLabel(), actor="system")
    clock.now = label.valid_until
    assert send(life.app, label.id, ExpireLabel(), actor="system").state is LabelState.EXPIRED
    clock.now = label.renewable_until + timedelta(seconds=1)
    assert send(life.app, label.id, CloseRenewalWindow(), actor="system").state is LabelState.LAPSED
    assert life.app.get_cluster(label.cluster_id).current_labels == {}  # the cluster may apply anew


def test_a_label_whose_last_day_is_28_february_of_a_leap_year_is_renewable_through_28_february(
    life: Lifecycle,
) -> None:
    """A year after the last day, 28 February 2028, is 28 February 2029; the validity ends at 29 February
    00:00, and a year after that would have been clamped to 28 February 00:00, a day short."""
    imported(life, HEADER + row(awarded_on="2026-03-01", valid_until="2028-02-28"))
    label = life.app.find_label("ESCA-B-0001")
    assert label.valid_until == datetime(2028, 2, 29, tzinfo=UTC)
    assert label.renewable_until == datetime(2029, 3, 1, tzinfo=UTC)
    assert label.may_start_renewal(datetime(2029, 2, 28, 23, 59, tzinfo=UTC))


# ---- dates against the import's instant and the policy ---------------------------------------------


def refusal(life: Lifecycle, text: str) -> dict[tuple[object, ...], str]:
    recorded = event_count(life.app)
    with pytest.raises(InvalidInput) as refused:
        imported(life, text)
    assert event_count(life.app) == recorded
    return {problem.loc: problem.msg for problem in refused.value.problems}


def test_a_label_awarded_after_the_import_is_refused_by_row_and_column(life: Lifecycle, clock: Clock) -> None:
    """Imported, a label awarded in 2030 would read valid today, "since 2030-01-01"."""
    text = HEADER + row(awarded_on="2026-03-10", valid_until="2028-03-31")  # awarded today: fine
    text += row(name="Future Cluster", code="ESCA-B-0002", awarded_on="2030-01-01", valid_until="2031-12-31")
    assert clock().date().isoformat() == "2026-03-10"
    assert refusal(life, text) == {
        ("row", 3, "awarded_on"): (
            "row 3, awarded_on: 2030-01-01 is later than today (2026-03-10): import a label once it is awarded"
        )
    }


def test_a_label_valid_longer_than_any_label_runs_is_refused_naming_the_latest_end(life: Lifecycle) -> None:
    """Four years from the award at most (ESCA's three-year renewals counted from the old expiry fit in): a
    later end is a mistyped year."""
    problems = refusal(life, HEADER + row(awarded_on="2025-05-02", valid_until="2029-05-03"))
    assert problems == {
        ("row", 2, "valid_until"): "row 2, valid_until: 2029-05-03 is more than 4 years after the award on "
        "2025-05-02 (no label runs longer): 2029-05-02 at the latest"
    }
    imported(life, HEADER + row(awarded_on="2025-05-02", valid_until="2029-05-02"))


def test_an_import_command_sent_alone_is_refused_ahead_of_its_award(life: Lifecycle, clock: Clock) -> None:
    read = read_label_import(HEADER + row(awarded_on="2027-01-04", valid_until="2028-12-31"))[0]
    command = read.model_copy(update={"row": 0})  # not from a file: no row to name
    envelope = Envelope(actor="secretariat", key=command.key, at=clock())
    with pytest.raises(InvalidInput, match=r"problem\(s\); awarded_on: 2027-01-04 is later than today"):
        import_label(life.app, label_id_for(command.label_code), command, envelope)


# ---- partners are told ------------------------------------------------------------------------------


def test_an_imported_label_is_announced_to_partners_once_even_when_the_import_is_retried(
    life: Lifecycle, clock: Clock
) -> None:
    register(life.app, RegisterWebhook(url="https://partner.example.org/hook", events=["label.issued"]), actor="admin")
    text = HEADER + row() + row(code="ESCA-S-0001", level="silver")
    imported(life, text)
    queued = [life.app.load(each, WebhookDelivery) for each in waiting_webhook_deliveries(life.app)]
    assert sorted((delivery.kind, delivery.label_code) for delivery in queued) == [
        ("label.issued", "ESCA-B-0001"),
        ("label.issued", "ESCA-S-0001"),
    ]
    first = imported(life, text)[0]
    import_label(
        life.app, label_id_for(first.label_code), first, Envelope(actor="secretariat", key=first.key, at=clock())
    )
    assert len(waiting_webhook_deliveries(life.app)) == 2  # the file again, or its first command run again


def test_an_imported_label_already_past_its_validity_is_announced_with_the_status_verification_gives(
    life: Lifecycle, clock: Clock
) -> None:
    """Verification and the badge read it as expired at once; a partner mirroring the status must not show it
    as valid until its expiry timer fires."""
    register(life.app, RegisterWebhook(url="https://partner.example.org/hook", events=["label.issued"]), actor="admin")
    ended = (clock().date() - timedelta(days=10)).isoformat()
    imported(life, HEADER + row(awarded_on="2024-06-03", valid_until=ended) + row("Nordic Optics", code="ESCA-B-0002"))
    queued = [life.app.load(each, WebhookDelivery) for each in waiting_webhook_deliveries(life.app)]
    assert sorted((delivery.label_code, delivery.label_status) for delivery in queued) == [
        ("ESCA-B-0001", "expired"),
        ("ESCA-B-0002", "active"),
    ]


# ---- rows numbered as a spreadsheet shows them ------------------------------------------------------


def test_a_row_is_named_by_the_line_it_starts_on_after_a_blank_line_or_a_cell_over_two_lines() -> None:
    text = HEADER + row() + "\n" + row(code="ESCA-B-0002", sector='"photonics\nlasers"', name="Two")
    text += row(code="ESCA-B-0003", country="XX", name="Three")
    problems = problems_of(text)
    assert set(problems) == {("row", 4, "sector"), ("row", 6, "country")}
    assert problems[("row", 6, "country")].startswith("row 6, country:")


def test_the_store_names_a_row_by_the_line_it_starts_on_too(life: Lifecycle) -> None:
    imported(life, HEADER + row())
    text = HEADER + "\n" + row(name="Other", code="ESCA-G-0001", level="gold") + "\n\n" + row(source="Other export")
    problems = refusal(life, text)
    assert set(problems) == {("row", 6, "label_code")}
    assert problems[("row", 6, "label_code")].startswith("row 6, label_code: ESCA-B-0001 is already a label")
    (done,) = import_labels(
        life.app, read_label_import(HEADER + "\n" + row(name="Third", code="ESCA-B-0009")), "secretariat"
    )
    assert done.row == 3
