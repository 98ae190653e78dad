"""The lifecycles whose stored events make up the golden set: every event type, through real commands.

Two clusters, six experts, four cases and three labels. Each aggregate the story touches is
named, and its history is stored under that name (tests/golden/events/<name>.json).
"""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from activities.application import CertificationApp
from domain.base import Level
from domain.catalogue import load_catalogue
from domain.certification_case import Outcome
from domain.expert import ROSTER_ID
from tests.builders import T0, cluster_profile, expert_profile, full_scores
from tests.lifecycle import DECIDER, SECRETARIAT, Clock

SYSTEM = "system"
APPEAL_DECIDER = "secretariat:emil"
SECOND_DECIDER = "secretariat:fiona"


def expert_actor(expert_id: UUID) -> str:
    return f"expert:{expert_id}"


class Story:
    """Drives the commands; `names` maps each aggregate's golden name to its id."""

    def __init__(self, app: CertificationApp, clock: Clock) -> None:
        self.app = app
        self.clock = clock
        self.names: dict[str, UUID] = {"expert-roster": ROSTER_ID}

    def tell(self) -> dict[str, UUID]:
        self.register()
        self.refused_appealed_and_awarded()
        self.withdrawn_label()
        self.renewals()
        self.expiry()
        self.notification()
        return self.names

    # ---- registration ------------------------------------------------------------

    def register(self) -> None:
        app, names = self.app, self.names
        names["cluster-baltic"] = app.register_cluster(cluster_profile(), actor=SECRETARIAT, command_key="golden-cluster-baltic")
        app.update_cluster_profile(names["cluster-baltic"], cluster_profile(members=45), actor=SECRETARIAT, command_key="golden-profile-baltic")
        names["cluster-nordic"] = app.register_cluster(
            cluster_profile(name="Nordic Food Cluster", country="SE", sector="food", website="https://food.example.se"),
            actor=SECRETARIAT,
            command_key="golden-cluster-nordic",
        )
        for name in ("anna", "ben", "carla", "dan", "erik", "frida"):
            names[f"expert-{name}"] = app.register_expert(
                expert_profile(name=name.title()), actor=SECRETARIAT, command_key=f"golden-expert-{name}"
            )
        app.declare_affiliation(names["expert-carla"], names["cluster-baltic"], actor=SECRETARIAT, command_key="golden-affiliation")
        app.revoke_expert_certification(names["expert-dan"], "missed training", actor=SECRETARIAT, command_key="golden-revoke")
        app.renew_expert_certification(names["expert-dan"], T0 + timedelta(days=4 * 365), actor=SECRETARIAT, command_key="golden-renew")

    # ---- the first case: every assignment step, a refusal, an appeal, an award ---------------

    def refused_appealed_and_awarded(self) -> None:
        app, names = self.app, self.names
        case_id = app.submit_application(names["cluster-baltic"], Level.BRONZE, actor=SECRETARIAT, command_key="golden-case-1")
        names["case-refused-appealed-awarded"] = case_id
        app.screen(case_id, True, "complete", actor=SECRETARIAT, command_key="golden-1-screen")
        self.propose(case_id, "anna", "1-a")
        app.decline_assignment(case_id, names["expert-anna"], "on leave", actor=expert_actor(names["expert-anna"]), command_key="golden-1-decline")
        self.propose(case_id, "ben", "1-b")
        self.clock.advance(days=15)
        app.time_out_proposal(case_id, names["expert-ben"], actor=SYSTEM, command_key="golden-1-timeout")
        app.escalate(case_id, "no answer from the proposed expert", actor=SYSTEM, command_key="golden-1-escalate")
        self.staff(case_id, "dan", "1-d")
        app.record_agreement(case_id, False, actor=SECRETARIAT, command_key="golden-1-objection")
        self.staff(case_id, "erik", "1-e")
        app.record_agreement(case_id, True, actor=SECRETARIAT, command_key="golden-1-agreement")
        app.schedule_audit(case_id, self.clock.now + timedelta(days=20), actor=SECRETARIAT, command_key="golden-1-schedule")
        self.assess(case_id, "erik", "1")
        app.record_decision(case_id, Outcome.REFUSE, Level.BRONZE, "the evidence is thin", decided_by=DECIDER, actor=SECRETARIAT, command_key="golden-1-refusal")
        app.lodge_appeal(case_id, "the interview notes were overlooked", actor=SECRETARIAT, command_key="golden-1-appeal")
        app.decide_appeal(case_id, True, "the notes support the scores", decided_by=APPEAL_DECIDER, actor=SECRETARIAT, command_key="golden-1-appeal-decision")
        app.record_decision(case_id, Outcome.AWARD, Level.BRONZE, "all criteria met", decided_by=SECOND_DECIDER, actor=SECRETARIAT, command_key="golden-1-award")
        names["label-renewed-superseded"] = app.issue_label(case_id, actor=SYSTEM, command_key="golden-1-label")
        app.close_case(case_id, actor=SYSTEM, command_key="golden-1-close")

    # ---- a second cluster's label, withdrawn ---------------------------------------------

    def withdrawn_label(self) -> None:
        app, names = self.app, self.names
        case_id = app.submit_application(names["cluster-nordic"], Level.BRONZE, actor=SECRETARIAT, command_key="golden-case-nordic")
        names["case-nordic-awarded"] = case_id
        label_id = self.award(case_id, "anna", "nordic")
        names["label-withdrawn"] = label_id
        app.close_case(case_id, actor=SYSTEM, command_key="golden-nordic-close")
        app.withdraw_label(label_id, "misuse of the label", actor=SECRETARIAT, command_key="golden-nordic-withdraw")

    # ---- renewals: one withdrawn, one awarded (the first label superseded) -------------------

    def renewals(self) -> None:
        app, names = self.app, self.names
        label_id = names["label-renewed-superseded"]
        app.send_expiry_reminder(label_id, "P90D", actor=SYSTEM, command_key="golden-reminder")
        app.suspend_label(label_id, "complaint received", actor=SECRETARIAT, command_key="golden-suspend")
        app.restore_label(label_id, actor=SECRETARIAT, command_key="golden-restore")
        withdrawn = app.start_renewal(label_id, actor=SECRETARIAT, command_key="golden-renewal-1")
        names["case-renewal-withdrawn"] = withdrawn
        app.withdraw_case(withdrawn, "the cluster is reorganising", actor=SECRETARIAT, command_key="golden-renewal-1-withdraw")
        app.close_case(withdrawn, actor=SYSTEM, command_key="golden-renewal-1-close")
        renewal = app.start_renewal(label_id, actor=SECRETARIAT, command_key="golden-renewal-2")
        names["case-renewal-awarded"] = renewal
        names["label-expired-lapsed"] = self.award(renewal, "frida", "renewal-2")
        app.close_case(renewal, actor=SYSTEM, command_key="golden-renewal-2-close")

    def expiry(self) -> None:
        app, label_id = self.app, self.names["label-expired-lapsed"]
        label = app.get_label(label_id)
        self.clock.now = label.valid_until + timedelta(days=1)
        app.expire_label(label_id, actor=SYSTEM, command_key="golden-expire")
        self.clock.now = label.renewable_until + timedelta(days=1)
        app.close_renewal_window(label_id, actor=SYSTEM, command_key="golden-window")

    def notification(self) -> None:
        names = self.names
        notification_id = self.app.queue_notification(
            expert_actor(names["expert-anna"]),
            "proposal",
            "A case is proposed to you",
            "Please answer within 14 days.",
            actor=SYSTEM,
            command_key="golden-notice",
            case_id=names["case-refused-appealed-awarded"],
        )
        names["notification-delivered"] = notification_id
        self.app.mark_notification_delivered(notification_id, "email", actor=SYSTEM, command_key="golden-notice-sent")

    # ---- steps ---------------------------------------------------------------------

    def propose(self, case_id: UUID, expert: str, step: str) -> None:
        self.app.propose_expert(case_id, self.names[f"expert-{expert}"], actor=SYSTEM, command_key=f"golden-{step}-propose")

    def staff(self, case_id: UUID, expert: str, step: str) -> None:
        self.propose(case_id, expert, step)
        expert_id = self.names[f"expert-{expert}"]
        self.app.accept_assignment(case_id, expert_id, actor=expert_actor(expert_id), command_key=f"golden-{step}-accept")

    def assess(self, case_id: UUID, expert: str, step: str) -> None:
        expert_id = self.names[f"expert-{expert}"]
        scores = full_scores(load_catalogue(self.app.get_case(case_id).catalogue_version), 0.9)
        evidence = {min(scores): "interview notes"}
        self.app.submit_assessment(
            case_id, expert_id, scores, evidence, "Benchmarked on site.", actor=expert_actor(expert_id), command_key=f"golden-{step}-assessment"
        )

    def award(self, case_id: UUID, expert: str, step: str) -> UUID:
        """Screen, staff, agree, assess and award a case; its label's id."""
        self.app.screen(case_id, True, "complete", actor=SECRETARIAT, command_key=f"golden-{step}-screen")
        self.staff(case_id, expert, step)
        self.app.record_agreement(case_id, True, actor=SECRETARIAT, command_key=f"golden-{step}-agreement")
        self.assess(case_id, expert, step)
        self.app.record_decision(
            case_id, Outcome.AWARD, Level.BRONZE, "all criteria met", decided_by=DECIDER, actor=SECRETARIAT, command_key=f"golden-{step}-award"
        )
        return self.app.issue_label(case_id, actor=SYSTEM, command_key=f"golden-{step}-label")
