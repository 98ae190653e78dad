"""The ways out, against a real SMTP server (aiosmtpd): one transaction to every address under the
message's Message-ID, a refused recipient named while the others receive it, AUTH and STARTTLS when the
URL asks, an unreachable server said plainly; without a server, a Maildir; and the pace of one process."""

from __future__ import annotations

import dataclasses
import mailbox
import shutil
import ssl
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from clusterlabel.activities.content.wording import MessageContent, render
from clusterlabel.activities.delivery import DeliveryActivities, Mailroom
from clusterlabel.activities.mail import (
    Accepted,
    Address,
    Letter,
    MaildirTransport,
    MailError,
    SmtpServer,
    SmtpTransport,
    TokenBucket,
    compose,
    message_id,
    plain_reply,
)
from clusterlabel.activities.models import DeliveryOutcome, SendMessage
from clusterlabel.domain.notification import Notification
from clusterlabel.workflows.delivery import SEND_TIMEOUT
from tests.lifecycle import memory_app
from tests.mailserver import MailServer, free_port

# A password over plain text is what the test of AUTH without TLS means to send, on the loopback interface.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
SENDER = "ECEI Secretariat <secretariat@esca.example>"
ANNA = Address("anna@cluster.example", "account:anna")
BERT = Address("bert@cluster.example", "account:bert")


def message(body: str = "Your label is ECEI-B-AAAA-BBBB-CCCC.") -> Notification:
    return Notification("cluster:c", "label_issued", "Your label", body, None, None, "system", f"key-{uuid4()}")


def deliver(way: SmtpTransport | MaildirTransport, notification: Notification, *to: Address) -> Accepted:
    letter = Letter(
        message_id(notification.id), render(MessageContent.of(notification), "en", "http://clusterlabel.test")
    )
    mail = compose(letter, to, SENDER, datetime(2026, 12, 1, tzinfo=UTC))
    return way.send(mail, SENDER, [address.email for address in to])


def transport(url: str, **options: object) -> SmtpTransport:
    return SmtpTransport(SmtpServer.from_url(url), **options)  # type: ignore[arg-type]


def test_a_message_goes_to_every_address_in_one_transaction_under_its_message_id() -> None:
    notification = message()
    with MailServer() as server:
        accepted = deliver(transport(server.url()), notification, ANNA, BERT)
        (received,) = server.received

    assert accepted.reply.startswith("250") and accepted.refused == {}
    assert received.to == [ANNA.email, BERT.email] and received.sender == "secretariat@esca.example"
    assert received.message_id == message_id(notification.id) == f"<{notification.id}@clusterlabel>"
    assert "ECEI-B-AAAA-BBBB-CCCC" in received.body and received.mail["Auto-Submitted"] == "auto-generated"


def test_a_recipient_the_server_refuses_is_named_while_the_others_receive_it_and_all_refused_is_a_failure() -> None:
    with MailServer() as server:
        server.handler.refused.add(BERT.email)
        accepted = deliver(transport(server.url()), message(), ANNA, BERT)
        with pytest.raises(MailError, match="every recipient was refused"):
            deliver(transport(server.url()), message(), BERT)
        received = server.received

    assert list(accepted.refused) == [BERT.email] and accepted.refused[BERT.email].startswith("550")
    assert [message.to for message in received] == [[ANNA.email]]


def test_a_server_that_asks_for_a_password_gets_the_one_in_the_url_and_a_wrong_one_is_refused() -> None:
    with MailServer(login=("mailer", "s3cret/pass")) as server:
        good = f"smtp://mailer:s3cret%2Fpass@127.0.0.1:{server.port}"
        deliver(transport(good), message(), ANNA)
        with pytest.raises(MailError, match="535"):
            deliver(transport(f"smtp://mailer:wrong@127.0.0.1:{server.port}"), message(), ANNA)
        assert len(server.received) == 1
    assert "s3cret" not in repr(SmtpServer.from_url(good))


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl to make a certificate")
def test_starttls_when_the_url_asks_for_it_and_a_server_that_requires_it_refuses_plain_text(tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    self_signed = "req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1"
    subprocess.run(
        ["openssl", *self_signed.split(), "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True
    )
    served = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    served.load_cert_chain(cert, key)
    trusting = lambda: ssl.create_default_context(cafile=str(cert))  # noqa: E731
    with MailServer(tls=served, login=("mailer", "pw")) as server:
        secure = f"smtp://mailer:pw@127.0.0.1:{server.port}?starttls=true"
        deliver(transport(secure, tls=trusting), message(), ANNA)
        with pytest.raises(MailError):
            deliver(transport(f"smtp://mailer:pw@127.0.0.1:{server.port}"), message(), ANNA)
        assert len(server.received) == 1


def test_an_unreachable_server_is_a_mail_error_that_says_why() -> None:
    with pytest.raises(MailError, match="ConnectionRefusedError"):
        deliver(transport(f"smtp://127.0.0.1:{free_port()}"), message(), ANNA)


def test_without_a_server_each_message_is_a_file_in_the_maildir(tmp_path: Path) -> None:
    notification = message()
    maildir = MaildirTransport(tmp_path / "maildir")

    accepted = deliver(maildir, notification, ANNA)

    (stored,) = mailbox.Maildir(tmp_path / "maildir").values()
    assert stored["Message-ID"] == message_id(notification.id)
    assert accepted.reply.startswith(f"written to {tmp_path / 'maildir' / 'new'}")


def test_the_pace_lets_a_burst_through_then_holds_each_send_to_the_rate() -> None:
    bucket = TokenBucket(5, 1.0)
    started = time.monotonic()
    burst = [bucket.take() for _ in range(5)]
    assert max(burst) == 0.0

    for _ in range(3):
        bucket.take()

    assert time.monotonic() - started >= 0.5  # three more at five a second: about 0.6 s


def test_a_reply_kept_in_the_log_names_accounts_never_addresses_and_holds_no_control_characters() -> None:
    reply = "550 5.1.1 <Anna@Cluster.example>: mailbox unavailable\r\n\x1b[31mbye"

    assert plain_reply(reply, [ANNA]) == "550 5.1.1 <account:anna>: mailbox unavailable \n [31mbye"


@dataclass(frozen=True)
class Readers:
    """The address book of one recipient: its readers, each in the language they chose."""

    addresses: list[Address]

    def of(self, recipient: str) -> list[Address]:
        return self.addresses


def test_the_readers_of_one_language_all_refused_leave_the_others_message_sent_once() -> None:
    """Anna reads German and is reached; Bert reads English and the server refuses his address. Anna gets her
    e-mail once and the message is sent, naming Bert refused; were both refused, the try fails."""
    app = memory_app()
    queued = message()
    app.save(queued)
    anna, bert = Address(ANNA.email, ANNA.who, "de"), BERT
    with MailServer() as server:
        server.handler.refused.add(BERT.email)
        mailroom = Mailroom(Readers([anna, bert]), transport(server.url()), SENDER, TokenBucket(10, 1), "http://t.test")
        outcome = DeliveryActivities(app, mailroom).send_message(SendMessage(notification_id=queued.id))
        with pytest.raises(ApplicationError, match="every recipient was refused"):
            alone = Mailroom(Readers([bert]), mailroom.transport, SENDER, mailroom.pace, mailroom.public_url)
            DeliveryActivities(app, alone).send_message(SendMessage(notification_id=queued.id))
        received = server.received

    assert (outcome.status, outcome.recipients) == ("sent", [anna.who])
    assert outcome.reply is not None and f"refused {bert.who}" in outcome.reply
    assert [mail.to for mail in received] == [[anna.email]]


def test_readers_refused_for_now_fail_the_try_so_that_a_later_one_reaches_them_but_not_the_last() -> None:
    """A 4xx refusal (greylisting) is no answer for good: the try fails and is tried again. Bert, the only
    reader of his language, still refused on the last try: the message is recorded sent to Anna, who has
    it, naming Bert refused (recorded failed, an officer's "send again" would mail Anna twice)."""
    anna = Address(ANNA.email, ANNA.who, "de")
    with bert_greylisted() as sends:
        with pytest.raises(ApplicationError, match="450"):
            sends.run(1, anna, BERT, most=2)
        outcome = sends.run(2, anna, BERT, most=2)
        received = sends.server.received

    assert (outcome.status, outcome.recipients) == ("sent", [anna.who])
    assert outcome.reply is not None and f"refused {BERT.who}: " in outcome.reply and "450" in outcome.reply
    assert [mail.to for mail in received] == [[anna.email]]


@pytest.mark.parametrize("bert_first", [False, True], ids=["anna-first", "bert-first"])
def test_a_single_try_that_reaches_one_language_and_not_the_other_records_the_message_sent(bert_first: bool) -> None:
    """The only try: Anna's German e-mail goes out, Bert's English one is refused for now. Whichever goes
    first, the message is sent to Anna, naming Bert refused (recorded failed, 'send again' mailed Anna twice)."""
    anna = Address(ANNA.email, ANNA.who, "de")
    with bert_greylisted() as sends:
        readers = [BERT, anna] if bert_first else [anna, BERT]
        outcome = sends.run(1, *readers, most=1)
        received = sends.server.received

    assert (outcome.status, outcome.recipients) == ("sent", [anna.who])
    assert outcome.reply is not None and f"refused {BERT.who}: " in outcome.reply
    assert [mail.to for mail in received] == [[anna.email]]


def test_a_reader_who_changed_language_between_tries_is_not_mailed_again() -> None:
    """Anna read English and had the e-mail when Bert's server asked to try again; she reads German now.
    The next try mails Bert, and Anna not a second time in German."""
    with bert_greylisted() as sends:
        with pytest.raises(ApplicationError, match="asked to try again"):
            sends.run(1, ANNA, BERT, most=3)
        sends.server.handler.greylisted.clear()
        outcome = sends.run(2, Address(ANNA.email, ANNA.who, "de"), BERT, most=3)
        received = sends.server.received

    assert [mail.to for mail in received] == [[ANNA.email], [BERT.email]]
    assert outcome.status == "sent" and sorted(outcome.recipients) == sorted([ANNA.who, BERT.who])


@dataclass
class Sends:
    """One message queued, sent by tries of the activity as the workflow runs them, to a real server."""

    app: Any
    queued: Notification
    server: MailServer
    beats: list[Any]  # every try's heartbeats, the next try reading the last

    def run(self, number: int, *readers: Address, most: int = 0) -> DeliveryOutcome:
        """Try `number` (of `most`; 0: no limit) to `readers`, as the address book now has them."""
        send = DeliveryActivities(self.app, mailroom_of(self.server, *readers)).send_message
        return a_try(number, self.beats, most).run(send, SendMessage(notification_id=self.queued.id))


@contextmanager
def bert_greylisted() -> Iterator[Sends]:
    """A message to send, and a server that asks to be tried again for Bert (4xx) until it is cleared."""
    app = memory_app()
    with MailServer() as server:
        server.handler.greylisted.add(BERT.email)
        yield Sends(app, queued_in(app), server, [])


def queued_in(app: Any) -> Notification:
    queued = message()
    app.save(queued)
    return queued


def a_try(number: int = 1, after: list[Any] | None = None, most: int = 0) -> ActivityEnvironment:
    """Try `number` of a send as the workflow runs it (`most` tries at the most; 0: no limit), reading the
    last heartbeat of the tries `after` (a list each try's heartbeats are added to)."""
    attempt = ActivityEnvironment()
    attempt.info = dataclasses.replace(
        attempt.info,
        attempt=number,
        start_to_close_timeout=SEND_TIMEOUT,
        heartbeat_details=after[-1:] if after else [],
        retry_policy=RetryPolicy(maximum_attempts=most) if most else None,
    )
    if after is not None:
        attempt.on_heartbeat = lambda *details: after.append(details[0])
    return attempt


def mailroom_of(server: MailServer, *readers: Address) -> Mailroom:
    return Mailroom(Readers(list(readers)), transport(server.url()), SENDER, TokenBucket(10, 1), "http://t.test")


def test_a_try_that_failed_on_one_language_sends_only_the_other_language_again() -> None:
    """Anna (German) is reached and Bert (English) greylisted: the try fails. The retry, a real activity
    attempt reading the first one's heartbeat, sends Bert's e-mail and not Anna's a second time."""
    anna = Address(ANNA.email, ANNA.who, "de")
    with bert_greylisted() as sends:
        with pytest.raises(ApplicationError, match="450"):
            sends.run(1, anna, BERT)
        sends.server.handler.greylisted.clear()
        outcome = sends.run(2, anna, BERT)
        received = sends.server.received

    assert sorted(mail.to[0] for mail in received) == sorted([anna.email, BERT.email])  # each once
    assert outcome.status == "sent" and sorted(outcome.recipients) == sorted([anna.who, BERT.who])
    assert len(outcome.message_id.split()) == 2  # both languages' Message-IDs, as one try would give


def test_a_reader_whose_server_asks_to_try_again_gets_the_mail_from_a_later_try_and_the_others_once() -> None:
    """Anna and Bert read English, one e-mail; Bert's mailbox is full for now (4xx). Before, the message was
    recorded sent and Bert never got it. Now the try fails after Anna's e-mail, the next one sends to Bert
    alone, under the same Message-ID."""
    with bert_greylisted() as sends:
        with pytest.raises(ApplicationError, match="asked to try again: 450"):
            sends.run(1, ANNA, BERT, most=3)
        with pytest.raises(ApplicationError, match="refused: 450"):  # Bert's alone, still full
            sends.run(2, ANNA, BERT, most=3)
        sends.server.handler.greylisted.clear()
        outcome = sends.run(3, ANNA, BERT, most=3)
        received = sends.server.received

    assert [mail.to for mail in received] == [[ANNA.email], [BERT.email]]
    assert {mail.message_id for mail in received} == {message_id(sends.queued.id)}
    assert outcome.status == "sent" and outcome.recipients == [ANNA.who, BERT.who]


def test_a_reader_still_refused_for_now_on_the_last_try_is_named_and_the_message_recorded_sent() -> None:
    """Anna has the message from the first try: the last try, refused again for Bert, records it sent to
    her and Bert refused, not failed (an officer's "send again" would mail Anna twice)."""
    with bert_greylisted() as sends:
        with pytest.raises(ApplicationError, match="asked to try again: 450"):
            sends.run(1, ANNA, BERT, most=2)
        outcome = sends.run(2, ANNA, BERT, most=2)
        received = sends.server.received

    assert (outcome.status, outcome.recipients) == ("sent", [ANNA.who])
    assert outcome.reply is not None and f"refused {BERT.who}: " in outcome.reply and "450" in outcome.reply
    assert [mail.to for mail in received] == [[ANNA.email]]


def test_a_reader_who_joined_between_tries_gets_the_mail_and_no_try_keeps_an_address() -> None:
    """Bert's server asks to try again; meanwhile Clara becomes a contact. The next try reaches both, not
    Anna again; the tries' heartbeats name the readers as the log does, never by their addresses."""
    clara = Address("clara@cluster.example", "account:clara")
    with bert_greylisted() as sends:
        with pytest.raises(ApplicationError, match="asked to try again"):
            sends.run(1, ANNA, BERT, most=3)
        sends.server.handler.greylisted.clear()
        outcome = sends.run(2, ANNA, BERT, clara, most=3)
        received = sends.server.received

    assert [mail.to for mail in received] == [[ANNA.email], [BERT.email, clara.email]]
    assert outcome.recipients == [ANNA.who, BERT.who, clara.who]
    assert not any(address.email in str(sends.beats) for address in (ANNA, BERT, clara))


def test_a_try_told_by_an_older_worker_which_readers_were_refused_mails_only_those() -> None:
    """A worker of the version before kept `[reply, refused]` by address: its retry under this version
    mails Bert, whom the server asked to try again, and not Anna, whom that try reached."""
    app = memory_app()
    queued = queued_in(app)
    told = [{message_id(queued.id): ["250 2.0.0 Ok", {BERT.email: "450 4.2.0 greylisted"}]}]
    with MailServer() as server:
        send = DeliveryActivities(app, mailroom_of(server, ANNA, BERT)).send_message
        outcome = a_try(2, told, most=3).run(send, SendMessage(notification_id=queued.id))
        received = server.received

    assert [mail.to for mail in received] == [[BERT.email]]
    assert outcome.status == "sent" and outcome.recipients == [ANNA.who, BERT.who]


def test_the_pace_gives_no_token_it_cannot_give_in_time_and_keeps_it_for_the_next_send() -> None:
    bucket = TokenBucket(1, 0.5)
    assert bucket.take() == 0.0

    assert bucket.take(within=0.1) is None  # the next token is 0.5 s away
    waited = bucket.take(within=1.0)

    assert waited is not None and waited < 0.5  # the try that gave up took no token from this one


def test_a_try_whose_time_is_up_before_the_pace_lets_it_send_sends_nothing_and_fails_to_be_tried_again() -> None:
    """A try waits for the pace only while it could still send before Temporal times it out: a try timed out
    is tried again, and its thread, had it sent after its wait, would have sent the message twice. A try
    whose time is up sends nothing even with a token to hand."""
    app = memory_app()
    queued = message()
    app.save(queued)
    minute = TokenBucket(1, 60.0)
    minute.take()  # the minute's one send is spent

    with MailServer() as server:
        started = time.monotonic()
        with pytest.raises(ApplicationError, match="mail pace"):  # 2 s left beyond the send's own reserve
            try_to_send(app, queued, Mailroom(Readers([ANNA]), transport(server.url()), SENDER, minute, "http://t"), 62)
        gave_up_after = time.monotonic() - started
        plenty = TokenBucket(10, 1.0)
        with pytest.raises(ApplicationError, match="mail pace"):  # less time than the reserve: none to wait
            try_to_send(app, queued, Mailroom(Readers([ANNA]), transport(server.url()), SENDER, plenty, "http://t"), 30)
        received = server.received

    assert received == []
    assert gave_up_after < 5  # at once: the token is a minute away
    assert app.load(queued.id, Notification).waiting  # still queued: the next try sends it
    assert plenty.take(within=0) == 0.0  # the try that gave up took no token


def try_to_send(app: Any, queued: Notification, mailroom: Mailroom, seconds: int) -> None:
    """One try of send_message that Temporal would time out after `seconds`."""
    short = ActivityEnvironment()
    short.info = dataclasses.replace(short.info, start_to_close_timeout=timedelta(seconds=seconds))
    short.run(DeliveryActivities(app, mailroom).send_message, SendMessage(notification_id=queued.id))
