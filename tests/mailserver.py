"""A real SMTP server for the tests (aiosmtpd, in a thread of the test process): it keeps every message it
accepts, may refuse some recipients, ask for a password or offer STARTTLS, and can be stopped and
started again on the same port, as an outage would."""

from __future__ import annotations

import email
import email.policy
import ssl
import threading
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

from clusterlabel.interfaces.temporal_server import free_port


@dataclass(frozen=True)
class Received:
    sender: str
    to: list[str]
    mail: EmailMessage
    at: float  # time.time() when accepted

    @property
    def message_id(self) -> str:
        return str(self.mail["Message-ID"])

    @property
    def body(self) -> str:
        """The plain text (of a multipart/alternative message, its text/plain part)."""
        part = self.mail.get_body(("plain",))
        assert isinstance(part, EmailMessage), "a message without a plain text"
        return str(part.get_content())

    @property
    def words(self) -> str:
        """The plain text word by word, one space between: what a reader reads, however the lines wrap."""
        return " ".join(self.body.split())

    @property
    def html(self) -> str | None:
        part = self.mail.get_body(("html",))
        return None if part is None else str(part.get_content())

    @property
    def calendar(self) -> bytes | None:
        """The attached calendar invitation (text/calendar), as sent."""
        for part in self.mail.iter_attachments():
            if part.get_content_type() == "text/calendar":
                payload = part.get_payload(decode=True)
                return payload if isinstance(payload, bytes) else None
        return None


@dataclass
class Handler:
    refused: set[str] = field(default_factory=set)
    greylisted: set[str] = field(default_factory=set)  # refused for now (4xx): a try later may pass
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server: Any, session: Session, envelope: Envelope, address: str, options: Any) -> str:
        if address in self.refused:
            return "550 5.1.1 mailbox unavailable"
        if address in self.greylisted:
            return "450 4.2.0 greylisted, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        mail = email.message_from_bytes(content, policy=email.policy.default)
        assert isinstance(mail, EmailMessage)
        with self.lock:
            self.received.append(Received(str(envelope.mail_from), list(envelope.rcpt_tos), mail, time.time()))
            number = len(self.received)
        return f"250 2.0.0 Ok: queued as TEST{number}"


class MailServer:
    """`with MailServer() as server:` listens on server.port until the block ends."""

    def __init__(
        self, *, login: tuple[str, str] | None = None, tls: ssl.SSLContext | None = None, port: int | None = None
    ) -> None:
        self.port = port or free_port()
        self.handler = Handler()
        self.login = login
        self.tls = tls
        self._controller: Controller | None = None

    @property
    def received(self) -> list[Received]:
        with self.handler.lock:
            return list(self.handler.received)

    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> None:
        options: dict[str, Any] = {"enable_SMTPUTF8": True}
        if self.login is not None:
            options.update(authenticator=self._authenticate, auth_required=True, auth_require_tls=self.tls is not None)
        if self.tls is not None:
            options.update(tls_context=self.tls, require_starttls=True)
        self._controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, **options)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> MailServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        if isinstance(data, LoginPassword) and (data.login.decode(), data.password.decode()) == self.login:
            return AuthResult(success=True)
        return AuthResult(success=False, handled=False)

    def wait_for(self, count: int, timeout: float = 30.0) -> list[Received]:
        """The messages received, once there are at least `count` of them."""
        deadline = time.monotonic() + timeout
        while len(self.received) < count:
            assert time.monotonic() < deadline, f"{len(self.received)} of {count} messages arrived"
            time.sleep(0.05)
        return self.received
