"""What `serve` tells whoever started it, once, on its standard output: the secretariat's first token,
where messages go, where Temporal's Web UI is. Each is logged too, for the operators' logs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from clusterlabel.activities.mail import Transport
from clusterlabel.interfaces.logs import get_logger

log = get_logger(__name__)


def announce_admin_token(token: str | None, kept_in: str, out: Callable[[str], Any] = print) -> None:
    if token is None:
        return
    out(
        f"\n  The secretariat's token (shown this once; only its hash is kept in {kept_in}):\n\n    {token}\n\n"
        '  Use it as `Authorization: Bearer <token>`, or sign in to the pages at /ui/login with it ("or an API token").\n'
    )


def announce_mail(transport: Transport, out: Callable[[str], Any] = print) -> None:
    """Where messages go: said once at start, since without a mail server they land in a folder."""
    if transport.channel == "maildir":
        out(f"  Messages are written to the Maildir {transport.where()} (set CLUSTERLABEL_SMTP_URL to send them).\n")
    else:
        out(f"  Messages are sent through {transport.where()}.\n")
    log.info("messages go out", to=transport.where(), channel=transport.channel)


def announce_temporal_ui(url: str | None, out: Callable[..., Any] = print) -> None:
    """Where operators watch the workflows: said at start, since the embedded server's port changes each time."""
    if url is None:
        return
    out(f"  Temporal's Web UI (every workflow, its history and timers): {url}\n", flush=True)
    log.info("temporal web ui", url=url)
