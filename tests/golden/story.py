"""The lifecycles whose stored events make up the golden set: every event type, through real commands.

Two clusters, six experts, four cases, three labels, two messages of the outbox and a complaint. Each aggregate the story
touches is named, and its history is stored under that name (tests/golden/events/<name>.json);
the other messages the commands queue (offers, the escalation, the expiry reminders) are left out.
"""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from clusterlabel.activities.application import CertificationApp
from clusterlabel.activities.open_records import waiting_webhook_deliveries
from clusterlabel.domain import catalogue_shelf
from clusterlabel.domain.account import Role
from clusterlabel.domain.base import Level
from clusterlabel.domain.case_lifecycle import Outcome
from clusterlabel.domain.catalogue import AreaSummary
from clusterlabel.domain.catalogue_shelf import load_catalogue
from clusterlabel.domain.cluster import EligibilityCriterion
from clusterlabel.domain.commands import (
    AnswerProposal,
    CloseCase,
    CloseRenewalWindow,
    DecideAppeal,
    DecideLabelAppeal,
    Escalate,
    ExpireLabel,
    FreezeReport,
    IssueLabel,
    LodgeAppeal,
    LodgeLabelAppeal,
    ProposeExpert,
    RecordAgreement,
    RecordAuditHeld,
    RecordDecision,
    ReleaseExpert,
    RemindExpiry,
    RestoreLabel,
    ScheduleAudit,
    Screen,
    SignAssessment,
    StartRenewal,
    SubmitApplication,
    SubmitAssessment,
    SuspendLabel,
    TimeOutProposal,
    WithdrawCase,
    WithdrawLabel,
)
from clusterlabel.domain.evidence_commands import AttachEvidence
from clusterlabel.domain.expert import ROSTER_ID
from clusterlabel.domain.fee_commands import RecordPayment
from clusterlabel.domain.fees import AuditMode
from clusterlabel.domain.invoice import invoice_id_for
from clusterlabel.domain.notification import Notification
from clusterlabel.domain.record_commands import (
    CloseEligibilityReview,
    DeactivateAccount,
    DeclareAffiliation,
    EraseAccount,
    GrantRole,
    OpenAccount,
    RecordDeliveryFailure,
    RecordSent,
    RegisterCluster,
    RegisterExpert,
    RenewExpertCertification,
    RetryDelivery,
    RevokeExpertCertification,
    RevokeRole,
    UpdateClusterProfile,
    WaiveEligibilityCriterion,
)
from clusterlabel.domain.webhook import WEBHOOK_DIRECTORY_ID
from clusterlabel.domain.webhook_commands import (
    DeleteWebhook,
    DropWebhookDelivery,
    EnableWebhook,
    RecordWebhookDelivered,
    RecordWebhookFailure,
    RegisterWebhook,
)
from clusterlabel.domain.webhook_delivery import WebhookDelivery
from tests.builders import (
    T0,
    cluster_profile,
    described_areas,
    expert_profile,
    full_scores,
    indicators,
    register,
    send,
    silver_validation,
)
from tests.golden.agreement_story import case_awaiting_agreement
from tests.golden.benchmarked_round_story import round_closed_weeks_after_its_audit
from tests.golden.competence_story import (
    expert_declaring_no_conflict,
    expert_qualified_for_gold,
    expert_with_a_past_consultancy,
)
from tests.golden.complaint_story import complaint_closed
from tests.lifecycle import DECIDER, SECRETARIAT, Clock

SYSTEM = "system"
DELIVERY = "system:delivery"
WEBHOOKS = "system:webhooks"
BEN_ACCOUNT = "account:5f0c7a2e-3c1b-4d7e-9a55-0b6e2f1d8c41"  # Ben's account, as a sent message names him
APPEAL_DECIDER = "secretariat:emil"
SECOND_DECIDER = "secretariat:fiona"
SECOND_OFFICER = "secretariat:olga"


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
        self.released_expert()
        self.webhooks()
        self.renewals()
        self.expiry()
        self.webhook_outcomes()
        self.notification()
        self.accounts()
        label = self.app.get_label(self.names["label-renewed-superseded"])
        self.names["complaint-closed"] = complaint_closed(self.app, label.cluster_id, label.id, label.label_code)
        self.team_signatures_benchmarking_and_screening_appeal()
        self.report_frozen()
        self.evidence_attached()
        self.audit_held()
        self.invoices()
        self.eligibility_review()
        self.label_appeals()
        self.names["expert-ilse"] = expert_qualified_for_gold(self.app)
        self.names["expert-jonas"] = expert_with_a_past_consultancy(self.app, self.names["cluster-nordic"])
        declared = expert_declaring_no_conflict(self.app)
        self.names["expert-karin"], self.names["case-conflict-declared"], self.names["cluster-fjord"] = declared
        self.silver_validated()
        self.sealed_name()
        awaiting = case_awaiting_agreement(self.app, self.names["expert-karin"])
        self.names["case-agreement-requested"], self.names["cluster-meadow"] = awaiting
        sava = round_closed_weeks_after_its_audit(self.app, self.clock, self.names["expert-hans"])
        self.names["cluster-sava"], self.names["case-benchmarked-after-its-audit"] = sava
        self.names["invoice-benchmarked-after-its-audit"] = invoice_id_for(sava[1])
        return self.names

    def sealed_name(self) -> None:
        """An expert registered once names were sealed (activities/personal_data.py): the record holds the
        name sealed under a key that stayed with the store it was written to, so it reads "erased person"."""
        profile = expert_profile(name="Liv Sealed", country="NO")
        expert = RegisterExpert(profile=profile)
        self.names["expert-sealed"] = register(self.app, expert, actor=SECRETARIAT, command_key="golden-expert-sealed")

    # ---- Silver as ESCA runs it: a Bronze label, then a second Bronze benchmarking with its validation --------

    def silver_validated(self) -> None:
        """Nineteen months after its Bronze round the cluster applies for Silver, its three areas on ESCA's form;
        the expert benchmarks it again on the Bronze indicators and validates the areas and the baseline on site."""
        app, names = self.app, self.names
        wood = cluster_profile(name="Alpine Wood Cluster", country="AT", website="https://wood.example.at")
        cluster_id = names["cluster-silver"] = register(
            app, RegisterCluster(profile=wood), actor=SECRETARIAT, command_key="golden-cluster-wood"
        )
        bronze = names["case-silver-first-bronze"] = self.apply(cluster_id, "golden-case-wood-bronze")
        names["label-silver-first-bronze"] = self.award(bronze, "gintare", "wood")
        send(app, bronze, CloseCase(), actor=SYSTEM, command_key="golden-wood-close")
        old_style = self.bronze_round_for_the_old_silver()
        self.clock.advance(days=580)
        self.silver_on_the_gold_catalogue(old_style)
        areas = sorted(load_catalogue("gold-2020").codes()[:3])
        application = SubmitApplication(
            cluster_id=cluster_id, level=Level.SILVER, improvement_areas=described_areas(areas)
        )
        case_id = send(app, cluster_id, application, actor=SECRETARIAT, command_key="golden-case-wood-silver").id
        names["case-silver-validated"] = case_id
        send(app, case_id, Screen(accepted=True, reason="complete"), actor=SECRETARIAT, command_key="golden-w-screen")
        self.staff(case_id, "hans", "w")
        send(app, case_id, RecordAgreement(agreed=True), actor=SECRETARIAT, command_key="golden-w-agreement")
        hans = names["expert-hans"]
        assessment = SubmitAssessment(
            expert_id=hans,
            indicators=indicators(full_scores("bronze-2020", 0.7)),
            report="Benchmarked again; the three areas validated on site.",
            validation=silver_validation(areas),
        )
        send(app, case_id, assessment, actor=expert_actor(hans), command_key="golden-w-assessment")
        award = RecordDecision(outcome=Outcome.AWARD, level=Level.SILVER, rationale="areas and baseline validated")
        send(app, case_id, award, actor=DECIDER, command_key="golden-w-award")
        names["label-silver"] = self.issue_label(case_id, "w")
        for name, case in (("silver-first-bronze", bronze), ("silver-validated", case_id)):
            names[f"invoice-{name}"] = invoice_id_for(case)

    def bronze_round_for_the_old_silver(self) -> UUID:
        """A second cluster's Bronze round, for a Silver case as it was stored before the on-site validation."""
        app, names = self.app, self.names
        moor = cluster_profile(name="Moorland Energy Cluster", country="IE", website="https://moor.example.ie")
        cluster_id = names["cluster-silver-gold-catalogue"] = register(
            app, RegisterCluster(profile=moor), actor=SECRETARIAT, command_key="golden-cluster-moor"
        )
        bronze = names["case-silver-gold-catalogue-bronze"] = self.apply(cluster_id, "golden-case-moor-bronze")
        names["label-silver-gold-catalogue-bronze"] = self.award(bronze, "gintare", "moor")
        send(app, bronze, CloseCase(), actor=SYSTEM, command_key="golden-moor-close")
        names["invoice-silver-gold-catalogue-bronze"] = invoice_id_for(bronze)
        return cluster_id

    def silver_on_the_gold_catalogue(self, cluster_id: UUID) -> None:
        """A Silver case as stored before Silver was validated on site: applied for on the Gold catalogue, with
        its areas as codes, scored on the 31 Gold indicators and awarded Silver (no validation recorded)."""
        app, names = self.app, self.names
        areas = sorted(load_catalogue("gold-2020").codes()[:3])
        before = dict(catalogue_shelf.CATALOGUE_LEVEL_FOR)
        catalogue_shelf.CATALOGUE_LEVEL_FOR["silver"] = "gold"  # what a new Silver application used then
        try:
            application = SubmitApplication(cluster_id=cluster_id, level=Level.SILVER, improvement_areas=areas)
            case_id = send(app, cluster_id, application, actor=SECRETARIAT, command_key="golden-case-moor-silver").id
        finally:
            catalogue_shelf.CATALOGUE_LEVEL_FOR.update(before)
        names["case-silver-gold-catalogue"] = case_id
        send(app, case_id, Screen(accepted=True, reason="complete"), actor=SECRETARIAT, command_key="golden-m-screen")
        self.staff(case_id, "hans", "m")
        send(app, case_id, RecordAgreement(agreed=True), actor=SECRETARIAT, command_key="golden-m-agreement")
        hans = names["expert-hans"]
        gold = SubmitAssessment(expert_id=hans, indicators=indicators(full_scores("gold-2020", 0.5)), report="Audited.")
        send(app, case_id, gold, actor=expert_actor(hans), command_key="golden-m-assessment")
        award = RecordDecision(outcome=Outcome.AWARD, level=Level.SILVER, rationale="areas above their thresholds")
        send(app, case_id, award, actor=DECIDER, command_key="golden-m-award")
        names["label-silver-gold-catalogue"] = self.issue_label(case_id, "m")
        names["invoice-silver-gold-catalogue"] = invoice_id_for(case_id)

    # ---- a labelled cluster that stops meeting a criterion: its review, opened and closed ---------

    def eligibility_review(self) -> None:
        app, names = self.app, self.names
        lagoon = cluster_profile(name="Venice Lagoon Cluster", country="IT", website="https://lagoon.example.it")
        names["cluster-reviewed"] = register(
            app, RegisterCluster(profile=lagoon), actor=SECRETARIAT, command_key="golden-cluster-lagoon"
        )
        case_id = names["case-reviewed-cluster"] = self.apply(names["cluster-reviewed"], "golden-case-lagoon")
        names["label-under-review"] = self.award(case_id, "hans", "lagoon")
        names["invoice-reviewed-cluster"] = invoice_id_for(case_id)
        send(app, case_id, CloseCase(), actor=SYSTEM, command_key="golden-lagoon-close")
        thinned = UpdateClusterProfile(profile=lagoon.model_copy(update={"staff_fte": 0.2}))
        send(app, names["cluster-reviewed"], thinned, actor=SECRETARIAT, command_key="golden-lagoon-profile")
        closing = CloseEligibilityReview(outcome="labels_stand", reason="a new manager starts next month")
        send(app, names["cluster-reviewed"], closing, actor=SECOND_OFFICER, command_key="golden-lagoon-review")

    # ---- invoices: each agreed case's, one of them paid -----------------------------------

    def invoices(self) -> None:
        """Name the invoice each agreement issued, pay the first case's, and withdraw a case before its payment."""
        self.withdrawn_before_payment()
        cases = [(name, case_id) for name, case_id in self.names.items() if name.startswith("case-")]
        for name, case_id in cases:
            if self.app.recorder.select_events(invoice_id_for(case_id), limit=1):
                self.names[f"invoice-{name.removeprefix('case-')}"] = invoice_id_for(case_id)
        paid = invoice_id_for(self.names["case-refused-appealed-awarded"])
        payment = RecordPayment(paid_on=self.clock.now.date(), reference="SEPA-2025-0042")
        send(self.app, paid, payment, actor=SECRETARIAT, command_key="golden-invoice-paid")

    # ---- registration ------------------------------------------------------------

    def register(self) -> None:
        app, names = self.app, self.names
        baltic = RegisterCluster(profile=cluster_profile())
        names["cluster-baltic"] = register(app, baltic, actor=SECRETARIAT, command_key="golden-cluster-baltic")
        send(
            app,
            names["cluster-baltic"],
            UpdateClusterProfile(profile=cluster_profile(members=45)),
            actor=SECRETARIAT,
            command_key="golden-profile-baltic",
        )
        nordic = cluster_profile(
            name="Nordic Food Cluster", country="SE", sector="food", website="https://food.example.se"
        )
        names["cluster-nordic"] = register(
            app, RegisterCluster(profile=nordic), actor=SECRETARIAT, command_key="golden-cluster-nordic"
        )
        for name in ("anna", "ben", "carla", "dan", "erik", "frida"):
            expert = RegisterExpert(profile=expert_profile(name=name.title()))
            names[f"expert-{name}"] = register(app, expert, actor=SECRETARIAT, command_key=f"golden-expert-{name}")
        affiliation = DeclareAffiliation(cluster_id=names["cluster-baltic"])
        send(app, names["expert-carla"], affiliation, actor=SECRETARIAT, command_key="golden-affiliation")
        revoked = RevokeExpertCertification(reason="missed training")
        send(app, names["expert-dan"], revoked, actor=SECRETARIAT, command_key="golden-revoke")
        renewed = RenewExpertCertification(until=T0 + timedelta(days=4 * 365))
        send(app, names["expert-dan"], renewed, actor=SECRETARIAT, command_key="golden-renew")

    # ---- the first case: every assignment step, a refusal, an appeal, an award ---------------

    def refused_appealed_and_awarded(self) -> None:
        app, names = self.app, self.names
        case_id = names["case-refused-appealed-awarded"] = self.apply(names["cluster-baltic"], "golden-case-1")
        send(app, case_id, Screen(accepted=True, reason="complete"), actor=SECRETARIAT, command_key="golden-1-screen")
        self.propose(case_id, "anna", "1-a")
        anna = names["expert-anna"]
        send(
            app,
            case_id,
            AnswerProposal(expert_id=anna, accept=False, reason="on leave"),
            actor=expert_actor(anna),
            command_key="golden-1-decline",
        )
        self.propose(case_id, "ben", "1-b")
        self.clock.advance(days=15)
        send(app, case_id, TimeOutProposal(expert_id=names["expert-ben"]), actor=SYSTEM, command_key="golden-1-timeout")
        send(
            app,
            case_id,
            Escalate(reason="no answer from the proposed expert"),
            actor=SYSTEM,
            command_key="golden-1-escalate",
        )
        self.staff(case_id, "dan", "1-d")
        send(app, case_id, RecordAgreement(agreed=False), actor=SECRETARIAT, command_key="golden-1-objection")
        self.staff(case_id, "erik", "1-e")
        send(app, case_id, RecordAgreement(agreed=True), actor=SECRETARIAT, command_key="golden-1-agreement")
        send(
            app,
            case_id,
            ScheduleAudit(audit_date=self.clock.now + timedelta(days=20), place="the cluster office"),
            actor=SECRETARIAT,
            command_key="golden-1-schedule",
        )
        self.clock.advance(days=21)  # the audit took place on its date: an assessment may follow
        self.assess(case_id, "erik", "1")
        refusal = RecordDecision(outcome=Outcome.REFUSE, level=Level.BRONZE, rationale="the evidence is thin")
        send(app, case_id, refusal, actor=DECIDER, command_key="golden-1-refusal")
        send(
            app,
            case_id,
            LodgeAppeal(grounds="the interview notes were overlooked"),
            actor=SECRETARIAT,
            command_key="golden-1-appeal",
        )
        appeal = DecideAppeal(upheld=True, rationale="the notes support the scores")
        send(app, case_id, appeal, actor=APPEAL_DECIDER, command_key="golden-1-appeal-decision")
        award = RecordDecision(outcome=Outcome.AWARD, level=Level.BRONZE, rationale="all criteria met")
        send(app, case_id, award, actor=SECOND_DECIDER, command_key="golden-1-award")
        names["label-renewed-superseded"] = self.issue_label(case_id, "1")
        send(app, case_id, CloseCase(), actor=SYSTEM, command_key="golden-1-close")

    # ---- a second cluster's label, withdrawn ---------------------------------------------

    def withdrawn_label(self) -> None:
        app, names = self.app, self.names
        case_id = names["case-nordic-awarded"] = self.apply(names["cluster-nordic"], "golden-case-nordic")
        label_id = self.award(case_id, "anna", "nordic")
        names["label-withdrawn"] = label_id
        send(app, case_id, CloseCase(), actor=SYSTEM, command_key="golden-nordic-close")
        send(
            app,
            label_id,
            WithdrawLabel(reason="misuse of the label"),
            actor=SECRETARIAT,
            command_key="golden-nordic-withdraw",
        )

    def released_expert(self) -> None:
        """A second round of the Nordic cluster whose expert leaves the team (certification revoked)."""
        app, names = self.app, self.names
        case_id = names["case-expert-released"] = self.apply(names["cluster-nordic"], "golden-case-released")
        send(app, case_id, Screen(accepted=True, reason="complete"), actor=SECRETARIAT, command_key="golden-rel-screen")
        self.staff(case_id, "ben", "rel")
        send(app, case_id, RecordAgreement(agreed=True), actor=SECRETARIAT, command_key="golden-rel-agreement")
        released = ReleaseExpert(expert_id=names["expert-ben"], reason="certification revoked")
        send(app, case_id, released, actor=SECRETARIAT, command_key="golden-rel-release")

    # ---- renewals: one withdrawn, one awarded (the first label superseded) -------------------

    def renewals(self) -> None:
        app, names = self.app, self.names
        label_id = names["label-renewed-superseded"]
        send(app, label_id, RemindExpiry(offset="P90D"), actor=SYSTEM, command_key="golden-reminder")
        send(app, label_id, SuspendLabel(reason="complaint received"), actor=SECRETARIAT, command_key="golden-suspend")
        send(app, label_id, RestoreLabel(), actor=SECRETARIAT, command_key="golden-restore")
        withdrawn = names["case-renewal-withdrawn"] = self.start_renewal(label_id, "golden-renewal-1")
        send(
            app,
            withdrawn,
            WithdrawCase(reason="the cluster is reorganising"),
            actor=SECRETARIAT,
            command_key="golden-renewal-1-withdraw",
        )
        send(app, withdrawn, CloseCase(), actor=SYSTEM, command_key="golden-renewal-1-close")
        renewal = names["case-renewal-awarded"] = self.start_renewal(label_id, "golden-renewal-2")
        names["label-expired-lapsed"] = self.award(renewal, "frida", "renewal-2")
        send(app, renewal, CloseCase(), actor=SYSTEM, command_key="golden-renewal-2-close")

    def expiry(self) -> None:
        app, label_id = self.app, self.names["label-expired-lapsed"]
        label = app.get_label(label_id)
        self.clock.now = label.valid_until + timedelta(days=1)
        send(app, label_id, ExpireLabel(), actor=SYSTEM, command_key="golden-expire")
        self.clock.now = label.renewable_until + timedelta(days=1)
        send(app, label_id, CloseRenewalWindow(), actor=SYSTEM, command_key="golden-window")

    def webhooks(self) -> None:
        """Two partners' webhooks, before the renewals change the first label and the expiry the second:
        one told of suspensions, restorations, expiries and lapses, one of expiries (deleted before its turn)."""
        app, names = self.app, self.names
        kinds = ["label.suspended", "label.restored", "label.expired", "label.lapsed"]
        told = RegisterWebhook(url="https://partner.example.org/hooks", events=kinds)
        names["webhook-failed-disabled-enabled"] = register(app, told, actor=SECRETARIAT, command_key="golden-webhook")
        deleted = RegisterWebhook(url="https://other.example.org/hooks", events=["label.expired"])
        names["webhook-deleted"] = register(app, deleted, actor=SECRETARIAT, command_key="golden-webhook-deleted")
        names["webhook-directory"] = WEBHOOK_DIRECTORY_ID

    def webhook_outcomes(self) -> None:
        """The first webhook's suspension fails, its restoration goes through, its expiry and lapse fail:
        two in a row disable it (the policy of the story says so), and it is enabled again. The second is
        deleted and its delivery dropped."""
        app, names = self.app, self.names
        app.policy = app.policy.with_overrides({"webhook_disable_after": 2})
        hook, other = names["webhook-failed-disabled-enabled"], names["webhook-deleted"]
        failure = RecordWebhookFailure(reason="HTTP 500: Internal Server Error", attempts=8)
        for kind, outcome in (
            ("label.suspended", failure),
            ("label.restored", RecordWebhookDelivered(status_code=204, attempts=2)),
            ("label.expired", failure),
            ("label.lapsed", failure),
        ):
            delivery = self.queued_delivery(hook, kind)
            names[f"webhook-delivery-{kind.removeprefix('label.')}"] = delivery
            send(app, delivery, outcome, actor=WEBHOOKS, command_key=f"golden-{kind}-outcome")
        send(app, hook, EnableWebhook(), actor=SECRETARIAT, command_key="golden-webhook-enable")
        send(app, other, DeleteWebhook(), actor=SECRETARIAT, command_key="golden-webhook-delete")
        dropped = names["webhook-delivery-dropped"] = self.queued_delivery(other, "label.expired")
        send(
            app,
            dropped,
            DropWebhookDelivery(reason="the webhook was deleted"),
            actor=WEBHOOKS,
            command_key="golden-drop",
        )

    def queued_delivery(self, webhook_id: UUID, kind: str) -> UUID:
        for delivery_id in waiting_webhook_deliveries(self.app):
            delivery = self.app.load(delivery_id, WebhookDelivery)
            if (delivery.webhook_id, delivery.kind) == (webhook_id, kind):
                return delivery_id
        raise AssertionError(f"no {kind} delivery queued for webhook {webhook_id}")

    def notification(self) -> None:
        """Messages the first case's steps queued (activities/outbox.py): the offer to Ben sent; the escalation
        failed, queued again by an officer, and then sent; the audit's invitation to the cluster queued. (Anna's offer was marked delivered before
        delivery had its workflow: notification-delivered.json, which the story no longer writes.)"""
        app, names = self.app, self.names
        offer = Notification.create_id(f"golden-1-b-propose/notify/{expert_actor(names['expert-ben'])}")
        names["notification-sent"] = offer
        send(app, offer, self.sent(offer, BEN_ACCOUNT, 2), actor=DELIVERY, command_key="golden-notice-sent")
        escalation = Notification.create_id("golden-1-escalate/notify/secretariat")
        names["notification-failed-retried"] = escalation
        failure = RecordDeliveryFailure(reason="421 4.3.2 Service not available, closing channel", attempts=10)
        send(app, escalation, failure, actor=DELIVERY, command_key="golden-notice-failed")
        send(app, escalation, RetryDelivery(), actor=SECRETARIAT, command_key="golden-notice-retry")
        resent = self.sent(escalation, "secretariat", 1)
        send(app, escalation, resent, actor=DELIVERY, command_key="golden-notice-resent")
        # Queued at version 2, with the data its template words it with: the audit's invitation to the cluster.
        names["notification-invitation"] = Notification.create_id(
            f"golden-1-schedule/notify/cluster:{names['cluster-baltic']}"
        )

    @staticmethod
    def sent(message_id: UUID, recipient: str, attempts: int) -> RecordSent:
        return RecordSent(
            channel="email",
            recipients=[recipient],
            message_id=f"<{message_id}@clusterlabel>",
            reply="250 2.0.0 Ok: queued as 4F2B1C",
            attempts=attempts,
        )

    def accounts(self) -> None:
        """A secretariat member's account through every change, an expert's account, and an account whose
        person's data was erased."""
        app, names = self.app, self.names
        staff = OpenAccount(roles=[Role.OFFICER, Role.DECIDER])
        names["account-staff"] = register(app, staff, actor=SECRETARIAT, command_key="golden-account-staff")
        for command, key in (
            (GrantRole(role=Role.APPEALS), "golden-grant"),
            (RevokeRole(role=Role.DECIDER), "golden-revoke-role"),
            (DeactivateAccount(reason="left the secretariat"), "golden-deactivate"),
        ):
            send(app, names["account-staff"], command, actor=SECRETARIAT, command_key=key)
        expert = OpenAccount(roles=[Role.EXPERT], expert_id=names["expert-erik"])
        names["account-expert"] = register(app, expert, actor=SECRETARIAT, command_key="golden-account-erik")
        erased = OpenAccount(roles=[Role.APPEALS])
        names["account-erased"] = register(app, erased, actor=SECRETARIAT, command_key="golden-account-erased")
        send(app, names["account-erased"], EraseAccount(), actor=SECRETARIAT, command_key="golden-erase")

    # ---- a Gold team's two signatures, a benchmarking for want of eligibility, a screening appeal -------

    def team_signatures_benchmarking_and_screening_appeal(self) -> None:
        app, names = self.app, self.names
        for name, country in (("gintare", "LT"), ("hans", "DE")):
            profile = expert_profile(name=name.title(), country=country, certified_until=T0 + timedelta(days=20 * 365))
            names[f"expert-{name}"] = register(
                app, RegisterExpert(profile=profile), actor=SECRETARIAT, command_key=f"golden-expert-{name}"
            )
        self.gold_signed_twice()
        alpine = cluster_profile(name="Alpine Wood Cluster", country="AT", website="https://wood.example.at")
        names["cluster-alpine"] = register(
            app, RegisterCluster(profile=alpine), actor=SECRETARIAT, command_key="golden-cluster-alpine"
        )
        self.benchmarked_for_want_of_eligibility()
        self.rejected_and_appealed()

    def gold_signed_twice(self) -> None:
        """Gintare submits, Hans disagrees with a version of his own, Gintare signs it: to decision."""
        app, names = self.app, self.names
        gold = SubmitApplication(cluster_id=names["cluster-baltic"], level=Level.GOLD)
        case_id = send(app, names["cluster-baltic"], gold, actor=SECRETARIAT, command_key="golden-case-gold").id
        names["case-gold-signed-twice"] = case_id
        send(app, case_id, Screen(accepted=True, reason="complete"), actor=SECRETARIAT, command_key="golden-g-screen")
        self.staff(case_id, "gintare", "g-national")
        self.staff(case_id, "hans", "g-foreign")
        send(app, case_id, RecordAgreement(agreed=True), actor=SECRETARIAT, command_key="golden-g-agreement")
        self.assess(case_id, "gintare", "g-1")
        self.assess(case_id, "hans", "g-2")
        gintare = names["expert-gintare"]
        signature = SignAssessment(expert_id=gintare, version=2)
        send(app, case_id, signature, actor=expert_actor(gintare), command_key="golden-g-signature")

    def benchmarked_for_want_of_eligibility(self) -> None:
        """The Alpine cluster's staff fell below the minimum before the decision: the report, no label."""
        app, names = self.app, self.names
        case_id = names["case-benchmarked-ineligible"] = self.apply(names["cluster-alpine"], "golden-case-alpine")
        send(app, case_id, Screen(accepted=True, reason="complete"), actor=SECRETARIAT, command_key="golden-a-screen")
        self.staff(case_id, "hans", "a")
        send(app, case_id, RecordAgreement(agreed=True), actor=SECRETARIAT, command_key="golden-a-agreement")
        self.assess(case_id, "hans", "a")
        shrunk = UpdateClusterProfile(
            profile=cluster_profile(
                name="Alpine Wood Cluster", country="AT", website="https://wood.example.at", staff_fte=0.2
            )
        )
        send(app, names["cluster-alpine"], shrunk, actor=SECRETARIAT, command_key="golden-profile-alpine")
        award = RecordDecision(outcome=Outcome.AWARD, rationale="all criteria met")
        send(app, case_id, award, actor=DECIDER, command_key="golden-a-award")
        send(app, case_id, CloseCase(), actor=SYSTEM, command_key="golden-a-close")

    def rejected_and_appealed(self) -> None:
        """A benchmarking-only application rejected at screening, appealed, upheld, and screened again."""
        app, names = self.app, self.names
        alpine = names["cluster-alpine"]
        command = SubmitApplication(cluster_id=alpine, level=Level.BRONZE, benchmarking_only=True)
        case_id = send(app, alpine, command, actor=SECRETARIAT, command_key="golden-case-rejected").id
        names["case-rejected-appealed"] = case_id
        rejection = Screen(accepted=False, reason="the questionnaire is missing")
        send(app, case_id, rejection, actor=SECRETARIAT, command_key="golden-r-screen")
        appeal = LodgeAppeal(grounds="the questionnaire was sent by post")
        send(app, case_id, appeal, actor=SECRETARIAT, command_key="golden-r-appeal")
        upheld = DecideAppeal(upheld=True, rationale="the questionnaire arrived in time")
        send(app, case_id, upheld, actor=APPEAL_DECIDER, command_key="golden-r-appeal-decision")
        again = Screen(accepted=True, reason="complete")
        send(app, case_id, again, actor=SECOND_OFFICER, command_key="golden-r-screen-again")
        waiver = WaiveEligibilityCriterion(criterion=EligibilityCriterion.STAFF_FTE, reason="a national programme")
        send(app, alpine, waiver, actor=SECOND_OFFICER, command_key="golden-alpine-waiver")

    # ---- a benchmarking report frozen at the decision, with the assessment's findings -----------------

    def report_frozen(self) -> None:
        app, names = self.app, self.names
        delta = cluster_profile(name="Danube Delta Cluster", country="RO", website="https://delta.example.ro")
        names["cluster-danube"] = register(
            app, RegisterCluster(profile=delta), actor=SECRETARIAT, command_key="golden-cluster-danube"
        )
        case_id = names["case-report-frozen"] = self.apply(names["cluster-danube"], "golden-case-danube")
        send(app, case_id, Screen(accepted=True, reason="complete"), actor=SECRETARIAT, command_key="golden-d-screen")
        self.staff(case_id, "hans", "d")
        send(app, case_id, RecordAgreement(agreed=True), actor=SECRETARIAT, command_key="golden-d-agreement")
        catalogue = load_catalogue(app.get_case(case_id).catalogue_version)
        first, *rest = indicators(full_scores(catalogue, 0.9), {})
        found = first.model_copy(update={"finding": "Member survey done yearly.", "recommendation": "Publish it."})
        assessment = SubmitAssessment(
            expert_id=names["expert-hans"],
            indicators=[found, *rest],
            report="Benchmarked by video.",
            area_summaries=[AreaSummary(code=catalogue.areas[0].code, summary="A clear structure.")],
            strengths="A committed board.",
            areas_for_improvement="Private funding.",
            success_stories="A shared test bed for river transport.",
        )
        expert = expert_actor(names["expert-hans"])
        send(app, case_id, assessment, actor=expert, command_key="golden-d-assessment")
        award = RecordDecision(outcome=Outcome.AWARD, rationale="all criteria met")
        send(app, case_id, award, actor=DECIDER, command_key="golden-d-award")
        frozen = FreezeReport(sha256="5e" * 32, size=48_213)
        send(app, case_id, frozen, actor=SYSTEM, command_key="golden-d-report-frozen")

    def evidence_attached(self) -> None:
        """A cluster of its own applies and sends its annual report; the same file sent twice is one event."""
        app, names = self.app, self.names
        danube = RegisterCluster(profile=cluster_profile(name="Danube Water Cluster", country="HU"))
        cluster_id = names["cluster-danube-water"] = register(
            app, danube, actor=SECRETARIAT, command_key="golden-danube"
        )
        case_id = names["case-evidence-attached"] = self.apply(cluster_id, "golden-case-evidence")
        report = AttachEvidence(
            file_name="Annual report 2025.pdf", size=48_213, sha256="5" * 64, media_type="application/pdf"
        )
        for attempt in ("golden-e-report", "golden-e-report-again"):
            send(app, case_id, report, actor=SECRETARIAT, command_key=attempt)

    def audit_held(self) -> None:
        """A Bronze audit by video: agreed so, scheduled (mode from the agreement, no place, three hours),
        recorded as held by the expert a day before its date, then assessed."""
        app, names = self.app, self.names
        tisza = RegisterCluster(profile=cluster_profile(name="Tisza Valley Cluster", country="HU"))
        cluster_id = names["cluster-tisza"] = register(app, tisza, actor=SECRETARIAT, command_key="golden-tisza")
        case_id = names["case-audit-held"] = self.apply(cluster_id, "golden-case-visit")
        screening = Screen(accepted=True, reason="complete")
        send(app, case_id, screening, actor=SECRETARIAT, command_key="golden-v-screen")
        self.staff(case_id, "hans", "v")
        agreement = RecordAgreement(agreed=True, audit_mode=AuditMode.VIDEO)
        send(app, case_id, agreement, actor=SECRETARIAT, command_key="golden-v-agreement")
        visit = ScheduleAudit(audit_date=self.clock.now + timedelta(days=10), duration="PT3H")
        send(app, case_id, visit, actor=SECRETARIAT, command_key="golden-v-schedule")
        self.clock.advance(days=9)
        hans = names["expert-hans"]
        held = RecordAuditHeld(expert_id=hans, held_on=self.clock.now)
        send(app, case_id, held, actor=expert_actor(hans), command_key="golden-v-held")
        self.assess(case_id, "hans", "v")

    def label_appeals(self) -> None:
        """A label suspended, appealed and restored by the panel; then withdrawn, appealed and dismissed."""
        app, names = self.app, self.names
        drava = RegisterCluster(profile=cluster_profile(name="Drava Wood Cluster", country="HR"))
        cluster_id = names["cluster-drava"] = register(app, drava, actor=SECRETARIAT, command_key="golden-drava")
        case_id = names["case-drava-awarded"] = self.apply(cluster_id, "golden-case-drava")
        label_id = names["label-appealed"] = self.award(case_id, "hans", "drava")
        send(app, case_id, CloseCase(), actor=SYSTEM, command_key="golden-drava-close")
        names["invoice-drava-awarded"] = invoice_id_for(case_id)
        steps = [
            (SuspendLabel(reason="a complaint names the cluster"), SECRETARIAT, "suspend"),
            (LodgeLabelAppeal(grounds="the complaint concerns another cluster"), SECRETARIAT, "appeal-1"),
            (DecideLabelAppeal(upheld=True, rationale="the complaint was misdirected"), APPEAL_DECIDER, "decide-1"),
            (WithdrawLabel(reason="the cluster no longer has a management"), SECOND_OFFICER, "withdraw"),
            (LodgeLabelAppeal(grounds="a new manager starts next month"), SECRETARIAT, "appeal-2"),
            (DecideLabelAppeal(upheld=False, rationale="no management at the time"), APPEAL_DECIDER, "decide-2"),
        ]
        for command, actor, step in steps:
            self.clock.advance(days=1)
            send(app, label_id, command, actor=actor, command_key=f"golden-drava-{step}")
        for delivery_id in waiting_webhook_deliveries(app):  # partners told of the label's changes
            delivery = app.load(delivery_id, WebhookDelivery)
            if delivery.label_id == label_id:
                names[f"webhook-delivery-drava-{delivery.kind.removeprefix('label.')}"] = delivery_id

    # ---- steps ---------------------------------------------------------------------

    def apply(self, cluster_id: UUID, command_key: str) -> UUID:
        """A bronze application of the cluster; the new case's id."""
        return send(
            self.app,
            cluster_id,
            SubmitApplication(cluster_id=cluster_id, level=Level.BRONZE),
            actor=SECRETARIAT,
            command_key=command_key,
        ).id

    def propose(self, case_id: UUID, expert: str, step: str) -> None:
        send(
            self.app,
            case_id,
            ProposeExpert(expert_id=self.names[f"expert-{expert}"]),
            actor=SYSTEM,
            command_key=f"golden-{step}-propose",
        )

    def staff(self, case_id: UUID, expert: str, step: str) -> None:
        self.propose(case_id, expert, step)
        expert_id = self.names[f"expert-{expert}"]
        send(
            self.app,
            case_id,
            AnswerProposal(expert_id=expert_id, accept=True),
            actor=expert_actor(expert_id),
            command_key=f"golden-{step}-accept",
        )

    def assess(self, case_id: UUID, expert: str, step: str) -> None:
        expert_id = self.names[f"expert-{expert}"]
        scores = full_scores(load_catalogue(self.app.get_case(case_id).catalogue_version), 0.9)
        evidence = {min(scores): "interview notes"}
        assessment = SubmitAssessment(
            expert_id=expert_id, indicators=indicators(scores, evidence), report="Benchmarked on site."
        )
        send(self.app, case_id, assessment, actor=expert_actor(expert_id), command_key=f"golden-{step}-assessment")

    def issue_label(self, case_id: UUID, step: str) -> UUID:
        case = send(self.app, case_id, IssueLabel(), actor=SYSTEM, command_key=f"golden-{step}-label")
        assert case.label_id is not None
        return case.label_id

    def start_renewal(self, label_id: UUID, command_key: str) -> UUID:
        label = send(self.app, label_id, StartRenewal(), actor=SECRETARIAT, command_key=command_key)
        assert label.renewal_case_id is not None
        return label.renewal_case_id

    def award(self, case_id: UUID, expert: str, step: str) -> UUID:
        """Screen, staff, agree, assess and award a case; its label's id."""
        send(
            self.app,
            case_id,
            Screen(accepted=True, reason="complete"),
            actor=SECRETARIAT,
            command_key=f"golden-{step}-screen",
        )
        self.staff(case_id, expert, step)
        send(self.app, case_id, RecordAgreement(agreed=True), actor=SECRETARIAT, command_key=f"golden-{step}-agreement")
        self.assess(case_id, expert, step)
        award = RecordDecision(outcome=Outcome.AWARD, level=Level.BRONZE, rationale="all criteria met")
        send(self.app, case_id, award, actor=DECIDER, command_key=f"golden-{step}-award")
        return self.issue_label(case_id, step)

    def withdrawn_before_payment(self) -> None:
        """A benchmarking round of the Baltic cluster, agreed and then withdrawn: its invoice is cancelled."""
        app, baltic = self.app, self.names["cluster-baltic"]
        command = SubmitApplication(cluster_id=baltic, level=Level.BRONZE, benchmarking_only=True)
        case_id = send(app, baltic, command, actor=SECRETARIAT, command_key="golden-case-unpaid").id
        self.names["case-withdrawn-unpaid"] = case_id
        send(app, case_id, Screen(accepted=True, reason="complete"), actor=SECRETARIAT, command_key="golden-u-screen")
        self.staff(case_id, "dan", "u")
        send(app, case_id, RecordAgreement(agreed=True), actor=SECRETARIAT, command_key="golden-u-agreement")
        withdrawal = WithdrawCase(reason="the cluster postponed its round")
        send(app, case_id, withdrawal, actor=SECRETARIAT, command_key="golden-u-withdrawal")
