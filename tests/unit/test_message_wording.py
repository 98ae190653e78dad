"""What each kind of message says: in English and in German, as plain text and HTML, with a link to the
page where its reader acts; names escaped in the HTML; every string of the catalogue translated, and
the compiled catalogue the one its .po file gives."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from io import BytesIO
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po
from jinja2 import UndefinedError

from clusterlabel.activities.content.wording import (
    LOCALES,
    MessageContent,
    languages,
    render,
    render_template,
    written_day,
)
from clusterlabel.activities.delivery import Mailroom
from clusterlabel.activities.mail import Address, MaildirTransport, TokenBucket
from clusterlabel.domain import label_notices, notices
from clusterlabel.domain.base import Level
from clusterlabel.domain.case_lifecycle import NO_EXPERT, Outcome, deadline_passed
from clusterlabel.domain.certification_case import CertificationCase
from clusterlabel.domain.cluster import Cluster
from clusterlabel.domain.commands import (
    DecideAppeal,
    DecideLabelAppeal,
    IssueLabel,
    LodgeAppeal,
    LodgeLabelAppeal,
    OpenAppealWindow,
    RecordDecision,
    RestoreLabel,
    StartRenewal,
    SuspendLabel,
    WithdrawLabel,
)
from clusterlabel.domain.invoice import Invoice, invoice_id_for
from clusterlabel.domain.label import Label
from clusterlabel.domain.label_lifecycle import SUSPENSION_LIMIT_REASON, last_valid_day
from clusterlabel.domain.notices import Notice
from clusterlabel.domain.notification import Notification
from clusterlabel.domain.record_commands import UpdateClusterProfile
from tests.builders import cluster_profile, send
from tests.lifecycle import SECRETARIAT, Clock, Lifecycle, memory_app

BASE = "https://labels.example"
GERMAN = LOCALES / "de" / "LC_MESSAGES"


def auditing_case() -> CertificationCase:
    """A case whose audit is scheduled."""
    life = Lifecycle(memory_app())
    case = life.app.get_case(life.auditing())
    case.schedule_audit(datetime(2026, 5, 4, 9, tzinfo=UTC), "secretariat", "schedule", place="the cluster office")
    return case


AUDITING = auditing_case()


def agreeing_case() -> CertificationCase:
    """A case whose expert team is complete: the cluster's agreement is due."""
    life = Lifecycle(memory_app())
    case_id = life.screened()
    life.staff(case_id)
    return life.app.get_case(case_id)


def issued_invoice() -> Invoice:
    """The invoice a Bronze case's agreement issued."""
    life = Lifecycle(memory_app())
    return life.app.load(invoice_id_for(life.auditing()), Invoice)


def paid_invoice() -> Invoice:
    invoice = issued_invoice()
    invoice.record_payment(invoice.issued_at.date(), "BANK-42", invoice.issued_at, SECRETARIAT, "paid")
    return invoice


def refused_case(appealed: bool = False) -> CertificationCase:
    life = Lifecycle(memory_app())
    case_id = life.deciding()
    life.decide(case_id, Outcome.REFUSE)
    if appealed:
        send(life.app, case_id, LodgeAppeal(grounds="the evidence was misread"), actor=SECRETARIAT)
    return life.app.get_case(case_id)


def silver_for_gold() -> CertificationCase:
    """A Gold application awarded Silver, its label issued and its appeal window open."""
    life = Lifecycle(memory_app())
    case_id = life.deciding(Level.GOLD, fraction=1.0)
    life.decide(case_id, Outcome.AWARD, Level.SILVER)
    send(life.app, case_id, IssueLabel(), actor="system")
    send(life.app, case_id, OpenAppealWindow(), actor="system")
    return life.app.get_case(case_id)


def under_review(labelled: Lifecycle) -> Cluster:
    """The labelled cluster, after a profile change that broke a criterion opened a review."""
    shrunk = cluster_profile(members=3)
    send(labelled.app, labelled.cluster_id, UpdateClusterProfile(profile=shrunk), actor=SECRETARIAT)
    return labelled.app.get_cluster(labelled.cluster_id)


def suspended_label(appealed: bool) -> Label:
    """A label the secretariat suspended, whose cluster appealed or not (yet)."""
    life = Lifecycle(memory_app())
    _, label_id = life.labelled()
    send(life.app, label_id, SuspendLabel(reason="a complaint names the cluster"), actor=SECRETARIAT)
    if appealed:
        grounds = LodgeLabelAppeal(grounds="the complaint is about another cluster")
        send(life.app, label_id, grounds, actor=SECRETARIAT)
    return life.app.get_label(label_id)


def every_kind() -> dict[str, Notice]:
    """One notice of each kind the engine queues, made by the domain from real records."""
    auditing, labelled = AUDITING, Lifecycle(memory_app())
    _, label_id = labelled.labelled()
    label = labelled.app.get_label(label_id)
    expert_id = auditing.expert_ids[0]
    made = [
        *notices.offer(auditing, expert_id, datetime(2027, 1, 5, 12, tzinfo=UTC)),
        *notices.escalation(auditing, "no eligible expert is left"),
        *notices.deadline_reminders(auditing, "audit", "P7D", datetime(2027, 2, 1, tzinfo=UTC)),
        *notices.experts_to_agree(agreeing_case()),
        *notices.invoice_issued(issued_invoice()),
        *notices.payment_received(paid_invoice()),
        *label_notices.label_issued(label),
        *label_notices.expiry_reminders(label, "P30D"),
        *notices.audit_invitations(auditing, "Baltic Marine Cluster"),
        *notices.audit_cancellations(auditing, "Baltic Marine Cluster"),
        *notices.case_refused(refused_case(), "the strategy is not implemented"),
        *notices.case_benchmarked(refused_case(), "benchmarking only, as applied for"),
        *label_notices.label_restored(label, "the complaint concerned another cluster"),
        *notices.award_appealable(silver_for_gold()),
        *notices.appeal_lodged(refused_case(appealed=True)),
        *notices.appeal_decided(auditing, False, "the evidence was read correctly"),
        *notices.eligibility_review(under_review(labelled)),
        *label_notices.label_decision(suspended_label(appealed=False), datetime(2027, 3, 1, tzinfo=UTC)),
        *label_notices.label_appeal_lodged(suspended_label(appealed=True)),
        *label_notices.label_appeal_decided(
            suspended_label(appealed=True), True, "the complaint concerned another cluster"
        ),
    ]
    return {notice.kind: notice for notice in made}


KINDS = every_kind()
PAGES = {
    "offer": "/ui/assignments",
    "escalation": "/ui/cases/",
    "deadline_reminder": "/ui/cases/",
    "experts_to_agree": "/ui/cases/",
    "invoice_issued": "/ui/cases/",
    "payment_received": "/ui/cases/",
    "label_issued": "/ui/labels/ECEI-",
    "expiry_reminder": "/ui/labels/ECEI-",
    "audit_invitation": "/ui/cases/",
    "audit_cancelled": "/ui/cases/",
    "case_refused": "/ui/cases/",
    "case_benchmarked": "/ui/cases/",
    "label_restored": "/ui/labels/ECEI-",
    "award_appealable": "/ui/cases/",
    "appeal_lodged": "/ui/cases/",
    "appeal_decided": "/ui/cases/",
    "eligibility_review": "/ui/clusters/",
    "label_decision": "/ui/labels/ECEI-",
    "label_appeal_lodged": "/ui/labels/ECEI-",
    "label_appeal_decided": "/ui/labels/ECEI-",
}


class Nobody:
    """No addresses: the test hands the readers to the mailroom itself."""

    def of(self, recipient: str) -> list[Address]:
        return []


NOTICE_FIELDS = ("recipient", "kind", "subject", "body", "case_id", "label_id", "data")


def content(notice: Notice) -> MessageContent:
    return MessageContent(**{name: getattr(notice, name) for name in NOTICE_FIELDS if name != "recipient"})


def test_every_kind_the_engine_queues_has_its_template() -> None:
    assert set(KINDS) == set(PAGES)
    assert all(content(notice).templated for notice in KINDS.values())


@pytest.mark.parametrize("language", ["en", "de"])
def test_every_kind_the_engine_queues_is_worded_by_its_template_with_the_data_it_carries(language: str) -> None:
    for kind, notice in KINDS.items():
        worded = render_template(content(notice), language, BASE)  # StrictUndefined: a missing field raises
        assert worded.subject and worded.text.strip(), kind


@pytest.mark.parametrize("kind, added_later", [("case_refused", "final"), ("label_decision", "appeal_pending")])
def test_a_message_queued_before_its_template_read_a_field_still_reads(kind: str, added_later: str) -> None:
    notice = KINDS[kind]
    older = content(notice).model_copy(update={"data": {k: v for k, v in notice.data.items() if k != added_later}})
    worded = " ".join(render_template(older, "en", BASE).text.split())
    assert "appeal" in worded


def test_a_message_its_template_no_longer_fits_reads_as_it_was_stored_rather_than_failing() -> None:
    notice = KINDS["case_refused"]
    unfit = content(notice).model_copy(update={"data": {k: v for k, v in notice.data.items() if k != "stage"}})
    with pytest.raises(UndefinedError):
        render_template(unfit, "de", BASE)

    worded = render(unfit, "de", BASE)

    assert worded.subject == notice.subject and " ".join(notice.body.split()) in " ".join(worded.text.split())


@pytest.mark.parametrize("kind", sorted(PAGES))
def test_each_kind_reads_in_english_and_german_with_a_link_to_where_the_reader_acts(kind: str) -> None:
    english, german = (render(content(KINDS[kind]), language, BASE) for language in ("en", "de"))

    assert english.link is not None and english.link.startswith(BASE + PAGES[kind])
    for worded in (english, german):
        assert worded.link == english.link
        assert worded.subject and "\n" not in worded.subject
        assert worded.link in worded.text and f'href="{worded.link}"' in worded.html
        assert f'<html lang="{worded.language}">' in worded.html
    assert (german.subject, german.text) != (english.subject, english.text)
    assert german.language == "de" and "ECEI-Cluster-Labels" in german.text


def test_a_german_reader_reads_german_sentences_and_dates() -> None:
    german = render(content(KINDS["offer"]), "de", BASE)

    assert german.subject == "Ihnen wird ein Benchmarking-Auftrag angeboten"
    assert "Bitte nehmen Sie den Auftrag bis zum 5. Januar 2027" in " ".join(german.text.split())
    assert "Auf das Angebot antworten" in german.html


def test_an_escalation_says_why_in_the_readers_language_where_it_knows_the_reason() -> None:
    """A deadline passed and no expert for the team's next seat are worded in German; a reason the
    template does not know (a domain refusal) is quoted as the workflow gave it."""
    overdue = notices.escalation(AUDITING, deadline_passed("audit", datetime(2027, 3, 1, 9, tzinfo=UTC)))[0]
    no_expert = notices.escalation(AUDITING, f"{NO_EXPERT}; register or re-certify an expert")[0]
    other = notices.escalation(AUDITING, "closing the case was refused 5 times: not yet")[0]

    def german(notice: Notice) -> str:
        return " ".join(render(content(notice), "de", BASE).text.split())

    assert "Die Frist für „Audit“ ist am 1. März 2027" in german(overdue) and "deadline" not in german(overdue)
    assert "kein geeigneter Experte" in german(no_expert) and "eligible" not in german(no_expert)
    assert "Grund: closing the case was refused 5 times: not yet" in german(other)
    english = " ".join(render(content(overdue), "en", BASE).text.split())
    assert "Why: the deadline for the audit passed on March 1, 2027" in english


def test_a_cancellation_says_why_the_audit_does_not_take_place() -> None:
    withdrawn = KINDS["audit_cancelled"]
    team_changed = notices.audit_cancellations(AUDITING, "Baltic Marine Cluster", because=notices.TEAM_CHANGED)[0]

    assert "was withdrawn" in render(content(withdrawn), "en", BASE).text
    assert "Expertenteam" in render(content(team_changed), "de", BASE).text


def test_a_refusal_taken_again_after_an_upheld_appeal_says_it_is_final_not_until_when_to_appeal() -> None:
    life = Lifecycle(memory_app())
    case_id = life.deciding()
    life.decide(case_id, Outcome.REFUSE)
    send(life.app, case_id, LodgeAppeal(grounds="the scores were misread"), actor=SECRETARIAT)
    send(life.app, case_id, DecideAppeal(upheld=True, rationale="they were"), actor="board:appeals")
    again = RecordDecision(outcome=Outcome.REFUSE, rationale="still short")
    send(life.app, case_id, again, actor="secretariat:second")
    (final,) = notices.case_refused(life.app.get_case(case_id), "still short")
    (first,) = notices.case_refused(refused_case(), "short")
    english, german = render(content(final), "en", BASE).text, render(content(final), "de", BASE).text
    assert "it is final and cannot be appealed again" in " ".join(english.split()) and "may appeal" not in english
    assert "ein weiterer Einspruch ist nicht möglich" in " ".join(german.split())
    assert "you may appeal until" in " ".join(render(content(first), "en", BASE).text.split())


def test_a_restoration_says_why_when_the_secretariat_said_and_one_queued_before_it_could_still_reads() -> None:
    restored = KINDS["label_restored"]
    english, german = (render(content(restored), language, BASE).text for language in ("en", "de"))
    assert "Why: the complaint concerned another cluster" in english
    assert "Grund: the complaint concerned another cluster" in german

    unexplained = content(restored).model_copy(update={"data": {**restored.data, "reason": ""}})
    queued_before = content(restored).model_copy(
        update={"data": {key: value for key, value in restored.data.items() if key != "reason"}}
    )
    for silent in (unexplained, queued_before):
        worded = render(silent, "en", BASE).text
        assert "lifted the suspension" in worded and "Why:" not in worded


def test_a_label_restored_after_its_renewal_window_is_told_it_has_lapsed_not_that_it_may_be_renewed() -> None:
    clock = Clock()
    life = Lifecycle(memory_app(clock=clock))
    _, label_id = life.labelled()
    send(life.app, label_id, SuspendLabel(reason="a complaint names the cluster"), actor=SECRETARIAT)
    clock.now = life.app.get_label(label_id).renewable_until + timedelta(days=20)
    send(life.app, label_id, RestoreLabel(rationale="the complaint concerned another cluster"), actor=SECRETARIAT)
    label = life.app.get_label(label_id)
    (told,) = label_notices.label_restored(label, "the complaint concerned another cluster")
    english, german = (" ".join(render(content(told), language, BASE).text.split()) for language in ("en", "de"))

    closed = written_day(last_valid_day(label.renewable_until), "en")
    assert told.data["state"] == "lapsed" and "it has lapsed, its renewal window having closed on" in told.body
    assert f"Its renewal window closed on {closed}: the label has lapsed and can no longer be renewed" in english
    assert "may be renewed" not in english and "kann nicht mehr erneuert werden" in german


def test_a_label_restored_while_its_renewal_runs_is_told_the_renewal_decides_not_that_it_may_be_renewed() -> None:
    clock = Clock()
    life = Lifecycle(memory_app(clock=clock))
    _, label_id = life.labelled()
    renewal = send(life.app, label_id, StartRenewal(), actor=SECRETARIAT).renewal_case_id
    send(life.app, label_id, SuspendLabel(reason="a complaint names the cluster"), actor=SECRETARIAT)
    clock.now = life.app.get_label(label_id).renewable_until + timedelta(days=20)
    send(life.app, label_id, RestoreLabel(rationale="the complaint concerned another cluster"), actor=SECRETARIAT)
    (told,) = label_notices.label_restored(life.app.get_label(label_id), "the complaint concerned another cluster")
    english, german = (" ".join(render(content(told), language, BASE).text.split()) for language in ("en", "de"))

    assert told.data["state"] == "expired" and told.data["renewal_case_id"] == str(renewal)
    assert "and its renewal is under way" in told.body
    assert "its renewal is under way: the label reads as expired until the renewal is decided" in english
    assert "may be renewed" not in english and "Erneuerung läuft" in german


def appeal_upheld_past(end: str, renewing: bool = False) -> Notice:
    """The cluster's message on an appeal against its label's suspension, upheld 20 days after the label's
    `end` ("valid_until" or "renewable_until"); `renewing`: its renewal started before the suspension."""
    clock = Clock()
    life = Lifecycle(memory_app(clock=clock))
    _, label_id = life.labelled()
    if renewing:
        send(life.app, label_id, StartRenewal(), actor=SECRETARIAT)
    send(life.app, label_id, SuspendLabel(reason="a complaint names the cluster"), actor=SECRETARIAT)
    send(life.app, label_id, LodgeLabelAppeal(grounds="the complaint is about another cluster"), actor=SECRETARIAT)
    clock.now = getattr(life.app.get_label(label_id), end) + timedelta(days=20)
    upheld = DecideLabelAppeal(upheld=True, rationale="the complaint concerned another cluster")
    send(life.app, label_id, upheld, actor="board:appeals")
    (told,) = label_notices.label_appeal_decided(life.app.get_label(label_id), True, upheld.rationale)
    return told


def test_an_appeal_upheld_after_the_renewal_window_tells_the_label_has_lapsed_not_that_it_is_in_force() -> None:
    told = appeal_upheld_past("renewable_until")
    english = " ".join(render(content(told), "en", BASE).text.split())

    assert told.data["state"] == "lapsed" and "in force again" not in english
    assert "the label has lapsed and can no longer be renewed; the cluster may apply anew" in english


def test_an_appeal_upheld_while_the_renewal_runs_says_the_renewal_decides_even_past_the_window() -> None:
    told = appeal_upheld_past("renewable_until", renewing=True)
    english, german = (" ".join(render(content(told), language, BASE).text.split()) for language in ("en", "de"))

    assert told.data["state"] == "expired" and "renewal_case_id" in told.data
    assert "its renewal is under way: the label reads as expired until the renewal is decided" in english
    assert "may be renewed" not in english and "lapsed" not in english and "Erneuerung läuft" in german


def test_an_appeal_upheld_after_the_validity_says_the_label_may_be_renewed_and_one_queued_before_still_reads() -> None:
    told = appeal_upheld_past("valid_until")
    english = " ".join(render(content(told), "en", BASE).text.split())
    assert (
        told.data["state"] == "expired" and "it may be renewed from its page while its renewal window runs" in english
    )

    # Queued before the message said which state the label is in: it reads as it did then.
    queued_before = content(told).model_copy(update={"data": {k: v for k, v in told.data.items() if k != "state"}})
    assert "is in force again" in " ".join(render(queued_before, "en", BASE).text.split())


def test_an_upheld_appeal_whose_label_gave_way_to_a_newer_one_says_so_not_that_it_is_in_force() -> None:
    upheld = KINDS["label_appeal_decided"]
    data = {**upheld.data, "upheld": "yes", "state": "superseded"}
    superseded = content(upheld).model_copy(update={"data": data})
    english, german = (" ".join(render(superseded, language, BASE).text.split()) for language in ("en", "de"))

    assert "Meanwhile a later label of the cluster took its place" in english
    assert "in force again" not in english and "späteres Label" in german


def test_a_dismissed_appeal_against_a_suspension_is_not_called_final_one_against_a_withdrawal_is() -> None:
    dismissed = KINDS["label_appeal_decided"]

    def worded(state: str, language: str = "en") -> str:
        data = {**dismissed.data, "upheld": "no", "against": "suspended", "state": state}
        return " ".join(render(content(dismissed).model_copy(update={"data": data}), language, BASE).text.split())

    assert "the suspension of the label" in worded("suspended") and "final" not in worded("suspended")
    assert "Aussetzung" in worded("suspended", "de") and "endgültig" not in worded("suspended", "de")
    # Carried over to the withdrawal at the suspension's limit, the appeal's dismissal leaves the withdrawal final.
    assert "stands and is final" in worded("withdrawn")


def test_a_benchmarking_decided_for_unmet_criteria_gives_why_and_the_criteria_each_its_own_paragraph() -> None:
    benchmarked = KINDS["case_benchmarked"]
    data = {**benchmarked.data, "reason": "no longer eligible", "unmet": "the cluster has no website in English"}
    worded = render(content(benchmarked).model_copy(update={"data": data}), "en", BASE)

    paragraphs = [line for line in worded.text.splitlines() if line.strip()]
    assert "Why: no longer eligible" in paragraphs
    assert "Eligibility criteria not met: the cluster has no website in English" in paragraphs


def test_an_invoice_reads_its_amount_vat_and_last_day_to_pay_as_the_readers_language_writes_them() -> None:
    invoice = KINDS["invoice_issued"]
    english, german = (render(content(invoice), language, BASE).text for language in ("en", "de"))

    number = invoice.data["number"]
    due = written_day(last_valid_day(datetime.fromisoformat(invoice.data["due_at"])), "en")
    assert f"Invoice {number}: Bronze label audit on site, €2,250.00. The amount excludes VAT." in _one_line(english)
    assert f"Please pay it by {due}, quoting {number}" in _one_line(english)
    assert f"Rechnung {number}: Audit für das Bronze-Label vor Ort, 2.250,00 €." in _one_line(german)
    assert "ohne Mehrwertsteuer" in german and f"{number} als Verwendungszweck" in _one_line(german)


def test_a_receipt_names_the_day_the_money_arrived_as_the_readers_language_writes_it() -> None:
    receipt = KINDS["payment_received"]
    english, german = (" ".join(render(content(receipt), language, BASE).text.split()) for language in ("en", "de"))

    day = date.fromisoformat(receipt.data["paid_on"])
    assert f"Your payment of €2,250.00 for invoice {receipt.data['number']}" in english
    assert f"arrived on {written_day(day, 'en')}. Thank you." in english
    assert f"ist am {written_day(day, 'de')} eingegangen" in german


def _one_line(text: str) -> str:
    return " ".join(text.split())


def test_a_language_without_a_translation_reads_english() -> None:
    assert "fr" not in languages()

    assert render(content(KINDS["label_issued"]), "fr", BASE) == render(content(KINDS["label_issued"]), "en", BASE)


def test_names_are_escaped_in_the_html_and_left_as_they_are_in_the_plain_text() -> None:
    auditing = Lifecycle(memory_app())
    case = auditing.app.get_case(auditing.auditing())
    case.schedule_audit(datetime(2026, 5, 4, 9, tzinfo=UTC), "secretariat", "schedule", place="the cluster office")
    (_, to_cluster) = notices.audit_invitations(case, 'Bits & <Bytes> "Cluster"')

    worded = render(content(to_cluster), "en", BASE)

    assert 'Bits & <Bytes> "Cluster"' in worded.subject and 'Bits & <Bytes> "Cluster"' in worded.text
    assert "Bits &amp; &lt;Bytes&gt; &#34;Cluster&#34;" in worded.html and "<Bytes>" not in worded.html


def test_the_plain_text_keeps_its_lines_short_and_never_breaks_a_link() -> None:
    worded = render(content(KINDS["expiry_reminder"]), "de", BASE)

    assert all(len(line) <= 76 or line == worded.link for line in worded.text.splitlines())
    assert worded.link in worded.text.splitlines()


def test_every_string_of_the_messages_has_a_german_translation() -> None:
    method_map = [("**.py", "python"), ("templates/**", "jinja2")]
    extracted = {
        message[2] if isinstance(message[2], str) else message[2][0]
        for message in extract_from_dir(
            str(LOCALES.parent), method_map, keywords={"_": None, "gettext": None, "N_": None}
        )
    }
    with (GERMAN / "messages.po").open("rb") as po:
        catalogue = read_po(po)
    translated = {message.id for message in catalogue if message.id and message.string and not message.fuzzy}

    assert extracted and extracted <= translated, f"untranslated: {sorted(extracted - translated)}"


def test_the_committed_compiled_catalogue_is_the_one_its_po_file_gives() -> None:
    with (GERMAN / "messages.po").open("rb") as po:
        compiled = BytesIO()
        write_mo(compiled, read_po(po))
    compiled.seek(0)
    with (GERMAN / "messages.mo").open("rb") as mo:
        committed = read_mo(mo)

    expected = read_mo(compiled)
    assert {m.id: m.string for m in committed if m.id} == {m.id: m.string for m in expected if m.id}, (
        "run `make messages` and commit messages.mo"
    )


def test_a_message_goes_out_once_per_language_its_readers_read_each_under_its_own_message_id() -> None:
    message = Notification(
        **{name: getattr(KINDS["label_issued"], name) for name in NOTICE_FIELDS}, actor="system", command_key="k"
    )
    readers = [
        Address("clara@c.example", "account:c"),
        Address("dieter@c.example", "account:d", "de"),
        Address("f@c.example", "account:f", "fr"),
    ]
    mailroom = Mailroom(Nobody(), MaildirTransport(Path("unused")), "s@esca.example", TokenBucket(1, 1), BASE)

    letters = mailroom.letters(message, readers, datetime(2027, 1, 1, tzinfo=UTC))

    assert [(letter.worded.language, [r.who for r in to]) for letter, to in letters] == [
        ("de", ["account:d"]),
        ("en", ["account:c", "account:f"]),
    ]
    assert [letter.message_id for letter, _ in letters] == [
        f"<{message.id}.de@clusterlabel>",
        f"<{message.id}@clusterlabel>",
    ]


def test_the_automatic_withdrawal_at_the_suspension_limit_gives_its_reason_in_the_readers_language() -> None:
    life = Lifecycle(memory_app())
    _, label_id = life.labelled()
    send(life.app, label_id, SuspendLabel(reason="a complaint names the cluster"), actor=SECRETARIAT)
    send(life.app, label_id, WithdrawLabel(reason=SUSPENSION_LIMIT_REASON), actor="system")
    (told,) = label_notices.label_decision(life.app.get_label(label_id), datetime(2027, 1, 1, tzinfo=UTC))

    german = " ".join(render(content(told), "de", BASE).text.split())

    assert told.data["at_suspension_limit"] == "yes"
    assert "Grund: Es war länger ausgesetzt" in german and SUSPENSION_LIMIT_REASON not in german
