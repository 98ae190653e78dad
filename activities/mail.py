"""Mail as the engine sends it: one e-mail built from a message of the outbox, and the two ways out — an
SMTP server (STARTTLS or implicit TLS, and authentication, when its URL asks), or, with no server
configured, a Maildir on disk.

A message goes out once, to every address of its recipient that reads one language in one transaction,
under a Message-ID derived from its id (and that language, when not English): a resend after a crash
(sent, but not yet recorded) is recognisably the same message. Each e-mail carries the message as plain
text and as HTML (multipart/alternative), and an audit's date as a calendar invitation (an .ics
attachment).
"""

from __future__ import annotations

import mailbox
import re
import smtplib
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime, parseaddr
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit
from uuid import UUID

from clusterlabel.activities.content.wording import DEFAULT_LANGUAGE, Worded

MESSAGE_ID_DOMAIN = "clusterlabel"
SMTP_TIMEOUT_SECONDS = 30.0
SMTP_SCHEMES = {"smtp": 25, "smtps": 465}  # and each one's port when the URL names none
_CONTROLS_BUT_LINE_BREAKS = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")


def message_id(notification_id: UUID, language: str = DEFAULT_LANGUAGE) -> str:
    """The Message-ID of a message of the outbox in one language: the same for every try, every round
    and every worker (English, the first language, keeps the id alone, as before translations)."""
    suffix = "" if language == DEFAULT_LANGUAGE else f".{language}"
    return f"<{notification_id}{suffix}@{MESSAGE_ID_DOMAIN}>"


@dataclass(frozen=True)
class Address:
    """Where a recipient is reached, who that is as the log names them (`account:<id>`, `secretariat`),
    and the language they read their messages in."""

    email: str = field(repr=False)  # personal data: never logged, never recorded in an event
    who: str
    language: str = DEFAULT_LANGUAGE


@dataclass(frozen=True)
class Letter:
    """One e-mail of a message: as its readers in one language read it, with its calendar invitation."""

    message_id: str
    worded: Worded
    calendar: bytes | None = None  # the .ics of an audit's date
    calendar_method: str | None = None  # REQUEST or CANCEL


class NoAddress(Exception):
    """The recipient has no address (yet): an expert without an account, a cluster without a contact."""


class Addresses(Protocol):
    def of(self, recipient: str) -> list[Address]:
        """Every address of a recipient (`expert:<id>`, `cluster:<id>`, `secretariat`) now; NoAddress if none."""
        ...


class MailError(Exception):
    """The message did not go out: the server's last reply, or why it could not be reached."""


class EveryRecipientRefused(MailError):
    """The server refused every address of the e-mail for good (5xx: a try later would meet the same refusals)."""

    def __init__(self, refused: dict[str, str]) -> None:
        super().__init__("every recipient was refused: " + "; ".join(refused.values()))
        self.refused = refused


@dataclass(frozen=True)
class Accepted:
    reply: str  # what the server answered to the message (or where it was written)
    refused: dict[str, str] = field(default_factory=dict)  # address -> the server's refusal, for some recipients


class Transport(Protocol):
    channel: str  # what a Sent event names as the way it went: email, maildir

    def send(self, mail: EmailMessage, sender: str, to: Sequence[str]) -> Accepted: ...

    def where(self) -> str:
        """Where mail goes, for the log and the operator (never a password)."""
        ...


def compose(letter: Letter, to: Sequence[Address], sender: str, at: datetime) -> EmailMessage:
    mail = EmailMessage(policy=SMTP_POLICY)
    mail["From"] = sender
    mail["To"] = ", ".join(address.email for address in to)
    mail["Subject"] = letter.worded.subject
    mail["Date"] = format_datetime(at)
    mail["Message-ID"] = letter.message_id
    # RFC 3834: sent by a machine, so that auto-responders (out of office) do not answer it.
    mail["Auto-Submitted"] = "auto-generated"
    mail.set_content(letter.worded.text)
    mail.add_alternative(letter.worded.html, subtype="html")
    if letter.calendar is not None:
        # RFC 6047: text/calendar with the iTIP method, which mail clients offer to add to the calendar.
        mail.add_attachment(
            letter.calendar,
            maintype="text",
            subtype="calendar",
            filename="audit.ics",
            params={"method": letter.calendar_method or "PUBLISH", "charset": "utf-8"},
        )
    mail["Content-Language"] = letter.worded.language  # after the content, which clears every Content-* header
    return mail


def plain_reply(text: str, to: Sequence[Address] = ()) -> str:
    """A server's reply or an error as the log may keep it: no control characters, and no address of a
    person (each one is replaced by whom the log names: `account:<id>`)."""
    for address in to:
        text = re.sub(re.escape(address.email), address.who, text, flags=re.IGNORECASE)
    return _CONTROLS_BUT_LINE_BREAKS.sub(" ", text).strip()[:2000]


# ---- the ways out ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    starttls: bool = False
    implicit_tls: bool = False  # smtps://: TLS from the first byte
    user: str | None = None
    password: str | None = field(default=None, repr=False)

    @classmethod
    def from_url(cls, url: str) -> SmtpServer:
        """smtp://[user:pass@]host[:port][?starttls=true], or smtps://; ValueError naming what is wrong,
        never echoing the URL (it may hold a password)."""
        parts = urlsplit(url.strip())
        if parts.scheme not in SMTP_SCHEMES or not parts.hostname:
            raise ValueError("smtp_url must read smtp://[user:pass@]host:port[?starttls=true] (or smtps://...)")
        try:
            port = parts.port or SMTP_SCHEMES[parts.scheme]
        except ValueError:
            raise ValueError("smtp_url has an invalid port") from None
        return cls(
            host=parts.hostname,
            port=port,
            starttls=_starttls(parse_qs(parts.query)),
            implicit_tls=parts.scheme == "smtps",
            user=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password is not None else None,
        )


def _starttls(query: dict[str, list[str]]) -> bool:
    unknown = sorted(set(query) - {"starttls"})
    if unknown:
        raise ValueError(f"smtp_url takes only ?starttls=true|false, not {', '.join(unknown)}")
    starttls = query.get("starttls", ["false"])[0].lower()
    if starttls not in ("true", "false"):
        raise ValueError("smtp_url's starttls must be true or false")
    return starttls == "true"


class SmtpTransport:
    """One connection per message; STARTTLS and AUTH when the server's URL asks for them."""

    channel = "email"

    def __init__(
        self,
        server: SmtpServer,
        timeout: float = SMTP_TIMEOUT_SECONDS,
        tls: Callable[[], ssl.SSLContext] = ssl.create_default_context,
    ) -> None:
        self.server = server
        self.timeout = timeout
        self.tls = tls  # the system's trusted authorities; a test trusts its own

    def where(self) -> str:
        scheme = "smtps" if self.server.implicit_tls else "smtp"
        tls = "?starttls=true" if self.server.starttls else ""
        return f"{scheme}://{self.server.host}:{self.server.port}{tls}"

    def send(self, mail: EmailMessage, sender: str, to: Sequence[str]) -> Accepted:
        try:
            smtp = self._connect()
            try:
                return self._transaction(smtp, mail, sender, to)
            finally:
                _quit(smtp)  # the message is out once DATA is answered: a failing QUIT changes nothing
        except smtplib.SMTPResponseException as error:
            raise MailError(f"{error.smtp_code} {_text(error.smtp_error)}") from error
        except (smtplib.SMTPException, OSError) as error:
            raise MailError(f"{type(error).__name__}: {error}") from error

    def _connect(self) -> smtplib.SMTP:
        server = self.server
        if server.implicit_tls:
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(server.host, server.port, timeout=self.timeout, context=self.tls())
        else:
            smtp = smtplib.SMTP(server.host, server.port, timeout=self.timeout)
        try:
            smtp.ehlo()
            if server.starttls:
                smtp.starttls(context=self.tls())
                smtp.ehlo()
            if server.user:
                smtp.login(server.user, server.password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _transaction(self, smtp: smtplib.SMTP, mail: EmailMessage, sender: str, to: Sequence[str]) -> Accepted:
        """MAIL, RCPT per address, DATA: spelled out (not sendmail) to keep the server's final reply."""
        code, reply = smtp.mail(bare(sender))
        if code != 250:
            raise smtplib.SMTPSenderRefused(code, reply, sender)
        refused = {}
        for address in to:
            code, reply = smtp.rcpt(bare(address))
            if code not in (250, 251):
                refused[address] = f"{code} {_text(reply)}"
        if len(refused) == len(to):
            smtp.rset()
            if all(reply.startswith("5") for reply in refused.values()):
                raise EveryRecipientRefused(refused)
            raise MailError("every recipient was refused: " + "; ".join(refused.values()))  # 4xx: try again
        code, reply = smtp.data(mail.as_bytes())
        if code != 250:
            raise smtplib.SMTPDataError(code, reply)
        return Accepted(f"{code} {_text(reply)}", refused)


class MaildirTransport:
    """The default without a mail server: each message a file in a Maildir (`<data dir>/maildir/new/`),
    which any mail client reads."""

    channel = "maildir"

    def __init__(self, path: Path) -> None:
        self.path = path

    def where(self) -> str:
        return str(self.path)

    def send(self, mail: EmailMessage, sender: str, to: Sequence[str]) -> Accepted:
        try:
            key = mailbox.Maildir(self.path, create=True).add(mail)
        except OSError as error:
            raise MailError(f"cannot write to the Maildir {self.path}: {error}") from error
        return Accepted(f"written to {self.path / 'new' / key}")


def bare(address: str) -> str:
    """The address alone, as the SMTP envelope takes it, of `Name <address>` or a bare address."""
    return parseaddr(address)[1] or address


def bare_address(value: str, name: str = "address") -> str:
    """The address of `Name <address>` or a bare address; refused unless it is one line with an @ in it
    (a line break in a header would let the value add headers of its own)."""
    address = parseaddr(value)[1]
    if any(character in value for character in "\r\n") or "@" not in address or " " in address:
        raise ValueError(f"{name} must be an e-mail address such as secretariat@example.org, got {value!r}")
    return address


def _quit(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply


# ---- the pace ---------------------------------------------------------------------------------


class TokenBucket:
    """At most `amount` sends per `seconds` in this process, in bursts of up to `amount`: a mail server
    that limits its clients refuses the excess, and a burst of reminders must not trip it."""

    def __init__(self, amount: int, seconds: float) -> None:
        self.capacity = float(amount)
        self.rate = amount / seconds  # tokens per second
        self._tokens = self.capacity
        self._at = time.monotonic()
        self._lock = threading.Lock()

    def take(self, within: float | None = None) -> float | None:
        """Wait for a token (blocking this thread); the seconds waited. None, taking no token, when none
        comes `within` that many seconds (none at all when it is negative): the caller's time is up first."""
        if within is not None and within < 0:
            return None
        waited = 0.0
        while True:
            with self._lock:
                now = time.monotonic()
                self._tokens = min(self.capacity, self._tokens + (now - self._at) * self.rate)
                self._at = now
                if self._tokens >= 1:
                    self._tokens -= 1
                    return waited
                pause = (1 - self._tokens) / self.rate
            if within is not None and waited + pause > within:
                return None
            time.sleep(pause)
            waited += pause
