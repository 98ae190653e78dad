"""Each golden history replays to the state its commands left: the fields that matter still land."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from clusterlabel.domain.account import Role
from clusterlabel.domain.affiliation import Affiliation
from clusterlabel.domain.base import Level
from clusterlabel.domain.case_lifecycle import CaseKind, CaseState
from clusterlabel.domain.cluster import EligibilityCriterion
from clusterlabel.domain.label_lifecycle import LabelState
from clusterlabel.domain.notification import DeliveryStatus
from tests.builders import T0
from tests.golden.records import HISTORIES, golden_id, replay_all
from tests.golden.story import APPEAL_DECIDER, SECOND_DECIDER, SYSTEM, expert_actor
from tests.lifecycle import DECIDER, SECRETARIAT, memory_app


@pytest.fixture(scope="module")
def replayed() -> dict[str, Any]:
    return replay_all()


def test_the_appealed_case_replays_awarded_after_its_upheld_appeal(replayed: dict[str, Any]) -> None:
    case = replayed["case-refused-appealed-awarded"]

    assert (case.state, case.kind, case.level, case.recommended_level) == (
        CaseState.AWARDED,
        CaseKind.INITIAL,
        Level.BRONZE,
        Level.BRONZE,
    )
    assert case.first_decided_by == DECIDER
    assert case.decision["decided_by"] == SECOND_DECIDER
    assert case.appeal["upheld"] is True and case.appeal["decided_by"] == APPEAL_DECIDER
    assert case.expert_ids == [golden_id("expert-erik")]
    assert case.excluded_expert_ids == {golden_id(f"expert-{name}") for name in ("anna", "ben", "dan")}
    assert case.label_id == golden_id("label-renewed-superseded")
    assert len(case.scores) == 36 and case.audit_date is not None
    assert case.has_applied("golden-1-award") and case.attention == []


def test_an_audit_scheduled_before_visits_were_recorded_replays_without_mode_place_or_holding(
    replayed: dict[str, Any],
) -> None:
    case = replayed["case-refused-appealed-awarded"]

    assert case.agreed_audit_mode is None and case.audit_held_on is None
    assert case.visit == {"mode": None, "place": "", "duration": None}
    # Assessed before its scheduled date, as a case could be then: its validity counts from the assessment.
    assert case.assessed_at < case.audit_date and case.audit_month_of == case.assessed_at


def test_the_visit_by_video_replays_with_the_agreed_mode_and_its_holding(replayed: dict[str, Any]) -> None:
    case = replayed["case-audit-held"]

    assert case.agreed_audit_mode == "video" and case.state is CaseState.DECIDING
    assert case.visit == {"mode": "video", "place": "", "duration": "PT3H"}
    assert case.audit_held_on is not None and case.audit_held_on < case.audit_date
    assert case.audit_month_of == case.audit_held_on


def test_the_renewal_cases_replay_withdrawn_and_awarded(replayed: dict[str, Any]) -> None:
    withdrawn, awarded = replayed["case-renewal-withdrawn"], replayed["case-renewal-awarded"]

    assert (withdrawn.state, withdrawn.kind) == (CaseState.WITHDRAWN, CaseKind.RENEWAL)
    assert withdrawn.previous_label_id == awarded.previous_label_id == golden_id("label-renewed-superseded")
    assert awarded.state is CaseState.AWARDED
    assert awarded.previous_expert_ids == {golden_id("expert-erik")}  # rotation: the first round's expert
    assert awarded.expert_ids == [golden_id("expert-frida")]


def test_the_labels_replay_superseded_lapsed_and_withdrawn(replayed: dict[str, Any]) -> None:
    superseded, lapsed, withdrawn = (
        replayed[f"label-{name}"] for name in ("renewed-superseded", "expired-lapsed", "withdrawn")
    )

    assert superseded.state is LabelState.SUPERSEDED
    assert superseded.superseded_by == golden_id("label-expired-lapsed")
    assert superseded.reminders_sent == ["P90D"] and superseded.reason is None  # restored before its renewal
    assert (lapsed.state, lapsed.supersedes) == (LabelState.LAPSED, golden_id("label-renewed-superseded"))
    assert lapsed.label_code.startswith("ECEI-B-") and len(lapsed.verification_code) == 10
    assert (withdrawn.state, withdrawn.reason) == (LabelState.WITHDRAWN, "misuse of the label")


def test_the_clusters_replay_their_rounds_and_no_label_in_force(replayed: dict[str, Any]) -> None:
    baltic, nordic = replayed["cluster-baltic"], replayed["cluster-nordic"]

    assert baltic.profile.members == 45  # the updated profile
    assert [r["case_id"] for r in baltic.rounds] == [
        golden_id("case-refused-appealed-awarded"),
        golden_id("case-renewal-awarded"),
    ]
    assert baltic.open_cases == {} and baltic.current_labels == {}  # the renewed label lapsed
    assert nordic.country == "SE" and nordic.current_labels == {}  # its label was withdrawn


def test_a_round_closed_before_its_benchmarking_was_kept_replays_dated_by_its_assessment(
    replayed: dict[str, Any],
) -> None:
    wood = replayed["cluster-silver"]
    bronze = wood.last_round(Level.BRONZE)

    assert bronze["case_id"] == golden_id("case-silver-first-bronze")
    assert bronze["benchmarked_at"] == bronze["assessed_at"] == replayed["case-silver-first-bronze"].assessed_at


def test_a_round_closed_weeks_after_its_audit_replays_dated_by_the_audit(replayed: dict[str, Any]) -> None:
    case, (sava_round,) = replayed["case-benchmarked-after-its-audit"], replayed["cluster-sava"].rounds

    assert case.state is CaseState.BENCHMARKED and case.audit_held_on < case.assessed_at
    assert (sava_round["benchmarked_at"], sava_round["assessed_at"]) == (case.audit_held_on, case.assessed_at)


def test_the_experts_and_the_roster_replay_their_certification_and_affiliations(replayed: dict[str, Any]) -> None:
    dan, carla = replayed["expert-dan"], replayed["expert-carla"]
    experts = [golden_id(f"expert-{name}") for name in ("anna", "ben", "carla", "dan", "erik", "frida")]

    assert dan.lapsed_at is None and dan.certified_until == T0 + timedelta(days=4 * 365)  # lapsed, then renewed
    assert carla.affiliations == {golden_id("cluster-baltic")}
    assert replayed["expert-roster"].expert_ids == experts


def test_an_experts_name_stored_plainly_replays_and_one_sealed_under_a_key_left_behind_reads_erased_person(
    replayed: dict[str, Any],
) -> None:
    """A name sealed (activities/personal_data.py) under a key of the store the record was written to, which
    is not here: unreadable, as after an erasure; the rest of the record replays as written."""
    sealed, anna = replayed["expert-sealed"], replayed["expert-anna"]

    assert b"Liv" not in HISTORIES["expert-sealed"].records[0].state
    assert (sealed.name, sealed.country, sealed.certified_until) == (
        "erased person",
        "NO",
        T0 + timedelta(days=3 * 365),
    )
    assert anna.name == "Anna"


def test_an_expert_certified_once_replays_qualified_for_every_level_and_one_trained_for_gold_as_such(
    replayed: dict[str, Any],
) -> None:
    dan, ilse = replayed["expert-dan"], replayed["expert-ilse"]
    renewed = T0 + timedelta(days=4 * 365)
    assert {level: held.until for level, held in dan.qualifications.items()} == dict.fromkeys(Level, renewed)
    assert set(ilse.qualifications) == {Level.BRONZE, Level.GOLD} and not ilse.is_qualified_at(Level.SILVER, T0)
    assert [training["training"] for training in ilse.trainings] == ["Gold team assessor course"]


def test_an_affiliation_declared_before_dates_replays_undated_and_a_dated_one_with_its_period(
    replayed: dict[str, Any],
) -> None:
    carla, jonas = replayed["expert-carla"], replayed["expert-jonas"]
    assert carla.affiliation_periods == {golden_id("cluster-baltic"): [Affiliation(None, None)]}
    ended = T0 - timedelta(days=2 * 365)
    assert jonas.affiliation_periods == {golden_id("cluster-nordic"): [Affiliation(ended - timedelta(days=365), ended)]}


def test_an_expert_who_declared_no_conflict_replays_with_the_declaration_on_the_case(replayed: dict[str, Any]) -> None:
    karin, case = replayed["expert-karin"], replayed["case-conflict-declared"]
    assert list(karin.conflict_declarations) == [case.id]
    assert karin.conflict_declarations[case.id][0] == case.cluster_id and case.expert_ids == [karin.id]


def test_a_team_completed_before_the_agreement_had_a_deadline_replays_waiting_for_the_cluster_with_none(
    replayed: dict[str, Any],
) -> None:
    before, since = replayed["case-conflict-declared"], replayed["case-agreement-requested"]

    assert before.state is since.state is CaseState.ASSIGNING and before.team_complete and since.team_complete
    assert "agreement" not in before.deadlines and before.current_deadline() is None
    assert since.current_deadline() == ("agreement", since.deadlines["agreement"])


def test_the_accounts_replay_their_roles_and_the_erased_one_deactivated_and_erased(replayed: dict[str, Any]) -> None:
    staff, erased = replayed["account-staff"], replayed["account-erased"]

    assert (staff.roles, staff.active, staff.erased) == ({Role.OFFICER, Role.APPEALS}, False, False)
    assert (erased.active, erased.erased) == (False, True)


def test_a_message_marked_delivered_before_delivery_had_its_workflow_replays_sent(replayed: dict[str, Any]) -> None:
    notification = replayed["notification-delivered"]

    assert notification.status is DeliveryStatus.SENT
    assert notification.recipient == expert_actor(golden_id("expert-anna"))
    assert notification.case_id == golden_id("case-refused-appealed-awarded") and notification.label_id is None


def test_a_message_sent_replays_sent_with_its_tries(replayed: dict[str, Any]) -> None:
    notification = replayed["notification-sent"]

    assert (notification.status, notification.attempts, notification.round) == (DeliveryStatus.SENT, 2, 1)
    assert notification.recipient == expert_actor(golden_id("expert-ben"))


def test_a_message_that_failed_and_was_queued_again_replays_sent_in_its_second_round(
    replayed: dict[str, Any],
) -> None:
    notification = replayed["notification-failed-retried"]

    assert (notification.status, notification.attempts, notification.round) == (DeliveryStatus.SENT, 11, 2)
    assert notification.recipient == "secretariat" and notification.kind == "escalation"


def test_the_golden_events_keep_the_actor_of_each_step() -> None:
    mapper = memory_app().mapper
    actors = {
        record.topic.rpartition(".")[2]: mapper.to_domain_event(record).actor
        for record in HISTORIES["case-refused-appealed-awarded"].records
    }

    assert actors["Submitted"] == actors["DecisionRecorded"] == actors["AppealDecided"] == SECRETARIAT
    assert actors["ExpertDeclined"] == expert_actor(golden_id("expert-anna"))
    assert actors["AssessmentSubmitted"] == actors["ReportSubmitted"] == expert_actor(golden_id("expert-erik"))
    assert actors["ExpertResponseTimedOut"] == actors["LabelIssued"] == SYSTEM


def test_the_gold_case_replays_in_decision_once_both_experts_signed_the_second_version(
    replayed: dict[str, Any],
) -> None:
    case = replayed["case-gold-signed-twice"]

    assert (case.state, case.level, case.assessment_version) == (CaseState.DECIDING, Level.GOLD, 2)
    assert case.signed_by == [golden_id("expert-hans"), golden_id("expert-gintare")]


def test_the_case_of_a_cluster_ineligible_at_its_decision_replays_benchmarked(replayed: dict[str, Any]) -> None:
    case = replayed["case-benchmarked-ineligible"]

    assert case.state is CaseState.BENCHMARKED and case.label_id is None
    assert case.decision["outcome"] == "benchmark" and "0.2 FTE" in case.lapsed_criteria[0]


def test_the_rejected_case_replays_screened_again_after_its_upheld_appeal(replayed: dict[str, Any]) -> None:
    case = replayed["case-rejected-appealed"]

    assert (case.state, case.kind) == (CaseState.ASSIGNING, CaseKind.BENCHMARKING)
    assert case.rejected_by == SECRETARIAT and case.appeal is None
    assert case.past_appeals[0]["upheld"] is True and case.past_appeals[0]["against"] == "rejected"


def test_the_alpine_cluster_replays_with_its_staff_criterion_waived(replayed: dict[str, Any]) -> None:
    cluster = replayed["cluster-alpine"]

    assert list(cluster.waivers) == [EligibilityCriterion.STAFF_FTE]
    assert cluster.waivers[EligibilityCriterion.STAFF_FTE]["reason"] == "a national programme"


def test_a_silver_case_replays_its_areas_on_esca_form_its_bronze_scores_and_its_validation(
    replayed: dict[str, Any],
) -> None:
    case = replayed["case-silver-validated"]

    assert (case.level, case.catalogue_version, case.recommended_level) == (Level.SILVER, "bronze-2020", Level.SILVER)
    assert len(case.scores) == 36 and [item["area"] for item in case.improvement_descriptions] == case.improvement_areas
    assert case.silver_validation is not None and case.silver_validation["holds"]
    assert (case.silver_validation["baseline_version"], case.silver_validation["criteria_version"]) == (
        "baseline-2020",
        "gold-2020",
    )
    assert case.decision["level"] is Level.SILVER and case.label_id == golden_id("label-silver")


def test_a_silver_case_stored_on_the_gold_catalogue_replays_as_before(replayed: dict[str, Any]) -> None:
    case = replayed["case-silver-gold-catalogue"]

    assert (case.level, case.catalogue_version, case.recommended_level) == (Level.SILVER, "gold-2020", Level.SILVER)
    assert len(case.scores) == 31 and case.improvement_descriptions == [] and case.silver_validation is None
    assert case.decision["level"] is Level.SILVER and case.label_id == golden_id("label-silver-gold-catalogue")
