"""The price list, the quote an agreement records, and the invoice's states: given a case, a command,
then what is recorded (or, for a step out of turn, that nothing is)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from clusterlabel.domain.base import InvalidInput, Level, StepNotAllowed
from clusterlabel.domain.case_lifecycle import CaseKind
from clusterlabel.domain.commands import RecordAgreement, ReleaseExpert, ScheduleAudit, WithdrawCase
from clusterlabel.domain.fee_commands import RecordPayment
from clusterlabel.domain.fees import AuditMode, money, quote
from clusterlabel.domain.invoice import Invoice, InvoiceState, invoice_id_for
from clusterlabel.domain.policy import Policy, default_policy
from tests.builders import T0, send
from tests.lifecycle import SECRETARIAT, Clock, Lifecycle, event_count, memory_app

FEES = default_policy().fees
WAITING = default_policy().with_overrides({"audit_waits_for_payment": True})


@pytest.mark.parametrize(
    ("level", "kind", "mode", "euros", "item"),
    [
        (Level.BRONZE, CaseKind.INITIAL, AuditMode.ON_SITE, 2250, "Bronze label audit on site"),
        (Level.BRONZE, CaseKind.INITIAL, AuditMode.VIDEO, 1650, "Bronze label audit by video"),
        (Level.SILVER, CaseKind.INITIAL, AuditMode.ON_SITE, 3620, "Silver label audit"),
        (Level.GOLD, CaseKind.INITIAL, AuditMode.ON_SITE, 8250, "Gold label audit"),
        (Level.GOLD, CaseKind.RENEWAL, AuditMode.ON_SITE, 6765, "Gold label renewal audit"),
        (Level.BRONZE, CaseKind.RENEWAL, AuditMode.VIDEO, 1650, "Bronze label audit by video"),
    ],
)
def test_the_quote_is_the_price_list_s_for_the_level_kind_and_mode(
    level: Level, kind: CaseKind, mode: AuditMode, euros: int, item: str
) -> None:
    priced = quote(FEES, level, kind, mode)

    assert (priced.amount_cents, priced.currency, priced.item) == (euros * 100, "EUR", item)


def test_an_audit_by_video_is_priced_only_for_bronze() -> None:
    with pytest.raises(InvalidInput, match="silver audit is held on site"):
        quote(FEES, Level.SILVER, CaseKind.INITIAL, AuditMode.VIDEO)


def test_an_amount_prints_with_thousands_and_cents() -> None:
    assert money(676500, "EUR") == "6,765.00 EUR"


def test_a_policy_file_may_change_one_price_and_keep_the_others() -> None:
    policy = Policy.from_toml("[fees]\nsilver = 400000\n")

    assert (policy.fees.silver, policy.fees.gold, policy.fees.vat) == (400000, 825000, "excluded")


@pytest.mark.parametrize(
    ("entry", "named"),
    [("silver = 3620.50", "fees.silver"), ("gold = -1", "fees.gold"), ("currency = 'euro'", "fees.currency")],
)
def test_a_bad_price_list_entry_is_refused_naming_it(entry: str, named: str) -> None:
    with pytest.raises(ValueError, match=named.replace(".", r"\.")):
        Policy.from_toml(f"[fees]\n{entry}\n")


def test_an_agreement_issues_the_case_s_invoice_with_the_quote_in_the_same_save() -> None:
    clock = Clock()
    life = Lifecycle(memory_app(clock=clock))
    case_id = life.screened(Level.BRONZE)
    life.staff(case_id)

    send(life.app, case_id, RecordAgreement(agreed=True, audit_mode=AuditMode.VIDEO), actor=SECRETARIAT)

    invoice = life.app.load(invoice_id_for(case_id), Invoice)
    assert (invoice.amount, invoice.item, invoice.state) == ("1,650.00 EUR", "Bronze label audit by video", "unpaid")
    assert invoice.number == f"INV-{T0.year}-{invoice.id.hex[:8].upper()}"
    assert invoice.due_at == datetime.combine((clock.now + timedelta(days=31)).date(), time(), UTC)  # 30 days on
    assert invoice.cluster_id == life.cluster_id


def test_an_objection_issues_no_invoice_and_a_second_agreement_keeps_the_first() -> None:
    life = Lifecycle(memory_app())
    case_id = life.screened(Level.BRONZE)
    life.staff(case_id)
    send(life.app, case_id, RecordAgreement(agreed=False), actor=SECRETARIAT)
    assert life.app.recorder.select_events(invoice_id_for(case_id)) == []
    life.staff(case_id)
    send(life.app, case_id, RecordAgreement(agreed=True), actor=SECRETARIAT)

    invoice = life.app.load(invoice_id_for(case_id), Invoice)
    assert invoice.version == 1 and invoice.amount == "2,250.00 EUR"


def test_an_agreement_again_after_a_new_team_keeps_the_audit_mode_its_invoice_charges_for() -> None:
    """Agreed by video and invoiced 1,650 EUR, the case's expert is released and a new one staffed: an agreement
    on site (the default) would have the audit held on site for the price of a video one; refused (422)."""
    life = Lifecycle(memory_app())
    case_id = life.screened(Level.BRONZE)
    life.staff(case_id)
    send(life.app, case_id, RecordAgreement(agreed=True, audit_mode=AuditMode.VIDEO), actor=SECRETARIAT)
    (expert_id,) = life.app.get_case(case_id).expert_ids
    send(life.app, case_id, ReleaseExpert(expert_id=expert_id, reason="certification revoked"), actor=SECRETARIAT)
    life.staff(case_id)
    before = event_count(life.app)

    with pytest.raises(InvalidInput, match=r"charges for 'Bronze label audit by video' .*not on_site"):
        send(life.app, case_id, RecordAgreement(agreed=True), actor=SECRETARIAT)
    assert event_count(life.app) == before

    send(life.app, case_id, RecordAgreement(agreed=True, audit_mode=AuditMode.VIDEO), actor=SECRETARIAT)
    assert life.app.get_case(case_id).agreed_audit_mode is AuditMode.VIDEO


def test_a_gold_agreement_by_video_is_refused_and_records_nothing() -> None:
    life = Lifecycle(memory_app())
    case_id = life.screened(Level.GOLD)
    life.staff(case_id)
    before = event_count(life.app)

    with pytest.raises(InvalidInput, match="by video only for bronze"):
        send(life.app, case_id, RecordAgreement(agreed=True, audit_mode=AuditMode.VIDEO), actor=SECRETARIAT)

    assert event_count(life.app) == before


def test_a_payment_marks_the_invoice_paid_with_its_date_and_reference() -> None:
    life = Lifecycle(memory_app())
    case_id = life.auditing()

    send(life.app, invoice_id_for(case_id), RecordPayment(paid_on=T0.date(), reference="BANK-1"), actor=SECRETARIAT)

    invoice = life.app.load(invoice_id_for(case_id), Invoice)
    assert (invoice.state, invoice.paid_on, invoice.reference) == (InvoiceState.PAID, T0.date().isoformat(), "BANK-1")


def test_paying_twice_is_refused_naming_the_first_payment_and_records_nothing() -> None:
    life = Lifecycle(memory_app())
    invoice_id = invoice_id_for(life.auditing())
    send(life.app, invoice_id, RecordPayment(paid_on=T0.date(), reference="BANK-1"), actor=SECRETARIAT)
    before = event_count(life.app)

    with pytest.raises(StepNotAllowed, match=r"was paid on .* \(reference BANK-1\)"):
        send(life.app, invoice_id, RecordPayment(paid_on=T0.date(), reference="BANK-2"), actor=SECRETARIAT)

    assert event_count(life.app) == before


def test_a_retried_payment_records_it_once() -> None:
    life = Lifecycle(memory_app())
    invoice_id = invoice_id_for(life.auditing())
    payment = RecordPayment(paid_on=T0.date(), reference="BANK-1")

    for _ in range(2):
        send(life.app, invoice_id, payment, actor=SECRETARIAT, command_key="pay-once")

    assert life.app.load(invoice_id, Invoice).version == 2


def test_an_invoice_is_payable_through_the_day_its_page_prints_as_due() -> None:
    """Issued at 09:00 on 10 March with 30 days to pay: due on 9 April, overdue from 10 April 00:00 UTC."""
    life = Lifecycle(memory_app())
    invoice = life.app.load(invoice_id_for(life.auditing()), Invoice)

    assert invoice.issued_at.date() == T0.date() and invoice.due_at == datetime(2026, 4, 10, tzinfo=UTC)
    assert not invoice.is_overdue(datetime(2026, 4, 9, 23, 59, tzinfo=UTC))
    assert invoice.is_overdue(datetime(2026, 4, 10, tzinfo=UTC))


def test_a_payment_dated_before_the_invoice_was_issued_is_refused_and_records_nothing() -> None:
    life = Lifecycle(memory_app())
    invoice_id = invoice_id_for(life.auditing())
    before = event_count(life.app)

    typo = RecordPayment(paid_on=T0.date().replace(year=2016), reference="X")  # 2026 mistyped
    with pytest.raises(InvalidInput, match="before the invoice was issued"):
        send(life.app, invoice_id, typo, actor=SECRETARIAT)

    assert event_count(life.app) == before


def test_a_payment_dated_in_the_future_is_refused_and_records_nothing() -> None:
    life = Lifecycle(memory_app())
    invoice_id = invoice_id_for(life.auditing())
    before = event_count(life.app)

    with pytest.raises(InvalidInput, match="in the future"):
        send(
            life.app, invoice_id, RecordPayment(paid_on=T0.date() + timedelta(days=1), reference="X"), actor=SECRETARIAT
        )

    assert event_count(life.app) == before


def test_withdrawing_the_case_cancels_its_unpaid_invoice_and_money_that_came_later_is_not_recorded() -> None:
    clock = Clock()
    life = Lifecycle(memory_app(clock=clock))
    case_id = life.auditing()

    send(life.app, case_id, WithdrawCase(reason="the cluster stepped back"), actor=SECRETARIAT)

    invoice = life.app.load(invoice_id_for(case_id), Invoice)
    assert invoice.state is InvoiceState.CANCELLED
    clock.advance(days=3)
    before = event_count(life.app)
    came_later = RecordPayment(paid_on=T0.date() + timedelta(days=2), reference="late")
    with pytest.raises(StepNotAllowed, match=f"was cancelled on {T0.date()}"):
        send(life.app, invoice.id, came_later, actor=SECRETARIAT)
    assert event_count(life.app) == before


def test_money_that_arrived_before_the_case_was_withdrawn_is_recorded_and_the_invoice_is_paid() -> None:
    clock = Clock()
    life = Lifecycle(memory_app(clock=clock))
    case_id = life.auditing()
    clock.advance(days=2)
    send(life.app, case_id, WithdrawCase(reason="the cluster stepped back"), actor=SECRETARIAT)
    clock.advance(days=5)  # the bank statement comes in after the withdrawal

    send(life.app, invoice_id_for(case_id), RecordPayment(paid_on=T0.date(), reference="BANK-7"), actor=SECRETARIAT)

    invoice = life.app.load(invoice_id_for(case_id), Invoice)
    assert (invoice.state, invoice.paid_on, invoice.reference) == (InvoiceState.PAID, T0.date().isoformat(), "BANK-7")


def test_withdrawing_a_case_already_paid_leaves_the_invoice_paid() -> None:
    life = Lifecycle(memory_app())
    case_id = life.auditing()
    send(life.app, invoice_id_for(case_id), RecordPayment(paid_on=T0.date(), reference="BANK-1"), actor=SECRETARIAT)

    send(life.app, case_id, WithdrawCase(reason="the cluster stepped back"), actor=SECRETARIAT)

    assert life.app.load(invoice_id_for(case_id), Invoice).state is InvoiceState.PAID


def test_when_the_audit_waits_for_payment_an_unpaid_invoice_refuses_scheduling_and_records_nothing() -> None:
    life = Lifecycle(memory_app(policy=WAITING))
    case_id = life.auditing()
    before = event_count(life.app)

    with pytest.raises(StepNotAllowed, match="cannot schedule the audit: the case's invoice is not paid yet"):
        send(
            life.app,
            case_id,
            ScheduleAudit(audit_date=T0 + timedelta(days=10), place="the cluster office"),
            actor=SECRETARIAT,
        )

    assert event_count(life.app) == before


def test_when_the_audit_waits_for_payment_an_unpaid_invoice_refuses_the_assessment() -> None:
    life = Lifecycle(memory_app(policy=WAITING))
    case_id = life.auditing()
    before = event_count(life.app)

    with pytest.raises(
        StepNotAllowed, match="cannot submit the assessment: the case's invoice is not paid yet"
    ) as refused:
        life.assess(case_id)
    invoice = life.app.load(invoice_id_for(case_id), Invoice)
    assert invoice.number not in str(refused.value) and "2,250" not in str(refused.value)  # not the expert's to read

    assert event_count(life.app) == before


def test_once_paid_the_waiting_audit_goes_ahead() -> None:
    clock = Clock()
    life = Lifecycle(memory_app(policy=WAITING, clock=clock))
    case_id = life.auditing()
    send(life.app, invoice_id_for(case_id), RecordPayment(paid_on=T0.date(), reference="BANK-1"), actor=SECRETARIAT)

    send(
        life.app,
        case_id,
        ScheduleAudit(audit_date=T0 + timedelta(days=10), place="the cluster office"),
        actor=SECRETARIAT,
    )
    clock.advance(days=10)  # the audit takes place
    life.assess(case_id)

    assert life.app.get_case(case_id).assessed_at is not None


def test_by_default_the_audit_does_not_wait_for_payment() -> None:
    life = Lifecycle(memory_app())
    case_id = life.auditing()

    send(
        life.app,
        case_id,
        ScheduleAudit(audit_date=T0 + timedelta(days=10), place="the cluster office"),
        actor=SECRETARIAT,
    )

    assert life.app.get_case(case_id).audit_date is not None
    assert life.app.load(invoice_id_for(case_id), Invoice).state is InvoiceState.UNPAID


def test_an_unpaid_invoice_is_overdue_from_its_due_date() -> None:
    life = Lifecycle(memory_app())
    invoice = life.app.load(invoice_id_for(life.auditing()), Invoice)

    assert not invoice.is_overdue(invoice.due_at - timedelta(seconds=1))
    assert invoice.is_overdue(invoice.due_at)
