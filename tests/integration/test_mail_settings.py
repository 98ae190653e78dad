"""Where messages go, as the settings say: an SMTP server named by URL (its password never shown), or by
default a Maildir under the data directory; addresses that cannot smuggle in a header; the pace."""

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from clusterlabel.activities.mail import MaildirTransport, SmtpServer, SmtpTransport
from clusterlabel.interfaces.mail import transport
from clusterlabel.interfaces.settings import Settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("CLUSTERLABEL_"):
            monkeypatch.delenv(name)


def test_without_an_smtp_url_messages_are_written_to_a_maildir_in_the_data_dir(tmp_path: Path) -> None:
    way = transport(Settings(data_dir=tmp_path))

    assert isinstance(way, MaildirTransport) and way.where() == str((tmp_path / "maildir").resolve())


def test_an_smtp_url_from_the_environment_names_the_server_its_login_and_starttls(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CLUSTERLABEL_SMTP_URL", "smtp://mailer:p%40ss@mail.esca.example:587?starttls=true")

    way = transport(Settings())

    assert isinstance(way, SmtpTransport) and way.where() == "smtp://mail.esca.example:587?starttls=true"
    assert (way.server.user, way.server.password, way.server.starttls) == ("mailer", "p@ss", True)


@pytest.mark.parametrize(
    ("url", "port", "implicit_tls"), [("smtp://127.0.0.1", 25, False), ("smtps://mail.example", 465, True)]
)
def test_an_smtp_url_without_a_port_takes_its_schemes_port(url: str, port: int, implicit_tls: bool) -> None:
    server = SmtpServer.from_url(url)

    assert (server.port, server.implicit_tls, server.starttls, server.user) == (port, implicit_tls, False, None)


@pytest.mark.parametrize(
    "url",
    [
        "http://mailer:hunter2@mail.example",
        "smtp://mailer:hunter2@mail.example:99999",
        "smtp://mailer:hunter2@mail.example?starttls=maybe",
        "smtp://mailer:hunter2@mail.example?tls=on",
    ],
)
def test_a_malformed_smtp_url_is_refused_without_echoing_its_password(url: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(smtp_url=url)

    assert "smtp_url" in str(refused.value) and "hunter2" not in str(refused.value)


def test_the_settings_repr_hides_the_smtp_password() -> None:
    assert "hunter2" not in repr(Settings(smtp_url="smtp://mailer:hunter2@mail.example:587"))


@pytest.mark.parametrize("address", ["secretariat@esca.example\nBcc: everyone@example.org", "secretariat", ""])
def test_an_address_that_is_not_one_line_with_an_at_sign_is_refused(address: str) -> None:
    with pytest.raises(ValidationError, match="must be an e-mail address"):
        Settings(secretariat_email=address)


def test_the_sender_may_carry_a_name_and_the_pace_reads_like_the_public_rate_limit() -> None:
    settings = Settings(mail_from="ECEI Secretariat <noreply@esca.example>", mail_rate_limit="30/minute")

    assert settings.mail_from.endswith("<noreply@esca.example>")
    with pytest.raises(ValidationError, match="mail_rate_limit must read like"):
        Settings(mail_rate_limit="often")


def test_production_without_a_mail_server_is_refused() -> None:
    with pytest.raises(ValidationError, match="production requires a mail server"):
        Settings(
            environment="production",
            admin_token="a-long-random-token-of-forty-three-characters",
            chain_key="k" * 43,
            temporal_address="temporal.example:7233",
        )
